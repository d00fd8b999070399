/* Beside the focused comment: its thread, its author's history, its log, editing and blocks. */
import { T, h, fld, safeURL, rich, when, api, errText, say, fail, calm, section } from "./console-core.js";
import { qEl, byId, rowEl, chipOn, pageOf } from "./console-queue.js";

const details = new Map();
const detail = id => {
  if (!details.has(id)) {
    const p = api("GET", "/comments/" + id);
    p.catch(() => { if (details.get(id) == p) details.delete(id); });
    details.set(id, p);
  }
  return details.get(id);
};
let paneFor = null, paneTimer = 0;
function paneIdle() {
  paneFor = null;
  clearTimeout(paneTimer);
  qEl.pane.textContent = "";
  delete qEl.pane.dataset.id;
  qEl.pane.append(h("p", { class: "muted" }, T.pickOne));
}
function showDetail(r) {
  if (paneFor == r.c.id && qEl.pane.dataset.id == r.c.id) return;
  paneFor = r.c.id;
  clearTimeout(paneTimer);
  paneTimer = setTimeout(async () => {
    let d;
    try { d = await detail(r.c.id); } catch (e) {
      if (paneFor == r.c.id) { qEl.pane.textContent = ""; qEl.pane.append(h("p", { class: "err" }, errText(e))); }
      return;
    }
    if (paneFor == r.c.id && byId.get(r.c.id) == r) renderDetail(r, d);
  }, 100);
}

const mini = c => h("article", { class: "mini", "data-id": c.id },
  h("div", { class: "rh" }, h("strong", { class: "au" }, c.author || T.anon),
    h("span", { class: "badge st-" + c.status }, T.st[c.status] || c.status), when(c.created_at),
    pageOf(c) && h("span", { class: "pg" }, T.on + " " + pageOf(c))),
  rich(c.html));
const logItems = log => (log || []).map(x => h("li", null, when(x.at), " ",
  h("strong", null, T.logAct[x.action] || x.action), x.from_status ? " (" + T.from + " " + (T.st[x.from_status] || x.from_status) + ")" : "",
  " · " + (x.moderator || x.actor || ""), x.reason ? h("q", null, x.reason) : ""));

function renderDetail(r, d) {
  const c = d.comment || r.c, pane = qEl.pane;
  const web = safeURL(c.website);
  const fact = (k, v) => v != null && v !== "" && [h("dt", null, k), h("dd", null, v)];
  pane.textContent = "";
  pane.dataset.id = c.id;
  pane.append(...[h("h2", { id: "detail-title", tabindex: "-1" }, T.commentN(c.id)),
    h("dl", { class: "facts" },
      fact(T.name, c.author || T.anon),
      fact(T.email, c.email && h("button", { type: "button", class: "lnk", "aria-label": T.moreBy(c.email), onclick: () => chipOn("email", c.email) }, c.email)),
      fact(T.website, web ? h("a", { href: web, rel: "nofollow noopener noreferrer ugc" }, web) : c.website),
      fact(T.network, c.network && h("button", { type: "button", class: "lnk", "aria-label": T.moreFrom(c.network), onclick: () => chipOn("network", c.network) }, c.network)),
      fact(T.chip.thread, c.thread && h("button", { type: "button", class: "lnk", "aria-label": T.moreOn(pageOf(c)), onclick: () => chipOn("thread", c.thread.id, pageOf(c)) }, pageOf(c))),
      fact(T.agent, c.user_agent), fact(T.origin, c.origin), fact(T.created, when(c.created_at)), fact(T.status, T.st[c.status] || c.status)),
    d.parent && section(T.parent, [mini(d.parent)], "", "detail-parent"),
    section(T.replies, (d.replies || []).map(mini), T.noReplies, "detail-replies"),
    section(T.history, (d.history || []).map(mini), T.noHistory, "detail-history"),
    section(T.log, d.log && d.log.length && [h("ul", { class: "log" }, logItems(d.log))], T.noLog, "detail-log"),
    editForm(r, c), blockForm(c)].filter(Boolean));
}

function editForm(r, c) {
  const ta = h("textarea", { id: "edit-body", rows: "5" });
  ta.value = c.body || "";
  const save = h("button", { type: "submit", class: "btn" }, T.save);
  const f = h("form", { id: "edit-form", class: "part form" }, h("h3", null, T.edit), fld(T.editLabel, ta), h("div", { class: "acts" }, save));
  f.addEventListener("submit", async e => {
    e.preventDefault();
    calm();
    save.disabled = true;
    try {
      const d = await api("PATCH", "/comments/" + c.id, { body: ta.value });
      details.delete(c.id);
      if (d.comment) { r.c = d.comment; if (byId.get(c.id) == r) rowEl(r); }
      say(T.saved(c.id));
    } catch (x) { fail(x); } finally { save.disabled = false; }
  });
  return f;
}

function blockForm(c) {
  const reason = h("input", { type: "text", id: "block-reason", maxlength: "500", autocomplete: "off" });
  const opts = [];
  if (c.email) opts.push(["email", c.email]);
  if (c.network) opts.push(["ip", c.network]);
  const doms = new Set();
  if (c.email && c.email.includes("@")) doms.add(c.email.split("@").pop().toLowerCase());
  const web = safeURL(c.website);
  if (web) try { doms.add(new URL(web).hostname); } catch (e) { /* not a URL after all */ }
  for (const x of doms) if (x) opts.push(["domain", x]);
  if (c.author) opts.push(["author", c.author]);
  const btns = opts.map(([k, v]) => {
    const b = h("button", { type: "button", class: "btn sm block-" + k, "data-kind": k }, T.blockAs(T.kind[k], v));
    b.addEventListener("click", async () => {
      if (b.getAttribute("aria-disabled")) return;
      calm();
      const body = { kind: k, value: v, site: c.site };
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        await api("POST", "/blocklist", body);
        b.setAttribute("aria-disabled", "true");
        b.textContent = T.blocked(T.kind[k], v);
        say(T.blocked(T.kind[k], v));
      } catch (e) { fail(e); }
    });
    return b;
  });
  return h("section", { class: "part", id: "detail-block" }, h("h3", null, T.block), fld(T.blockReason, reason), h("div", { class: "acts col" }, btns));
}

export { details, detail, paneIdle, showDetail };
