/* The queue: filters, the list of comments, selection, actions with undo, and the keys. */
import { ACTS, STATUSES, RESULT, KEY, T, me, main, view, views, h, fld, chk, select, safeURL, rich, when, api, say, fail, calm, busy, sitePick, ask }
  from "./console-core.js";
import { details, detail, paneIdle, showDetail } from "./console-detail.js";

const Q = { status: "pending", site: "", q: "", order: "newest", chips: {}, shown: {} };
let rows = [], byId = new Map(), cursor = null, moreP = null, cur = -1, gen = 0, undo = null;
const sel = new Set();
let qEl = {};

function queueView() {
  const search = h("input", { type: "search", id: "q", name: "q", value: Q.q || null, autocomplete: "off", "aria-keyshortcuts": "/" });
  const status = select([...STATUSES.map(s => [s, T.st[s]]), ["all", T.all]], Q.status);
  status.id = "status";
  const site = sitePick(true, Q.site);
  site.id = "site";
  const order = select([["newest", T.newest], ["oldest", T.oldest]], Q.order);
  order.id = "order";
  const f = h("form", { class: "filters", role: "search", "aria-label": T.filters },
    fld(T.searchLabel, search), fld(T.status, status), (me.sites || []).length > 1 && fld(T.site, site), fld(T.order, order),
    h("button", { type: "submit", class: "btn" }, T.search));
  f.addEventListener("submit", e => { e.preventDefault(); Q.q = search.value.trim(); reload(true); });
  for (const [s, k] of [[status, "status"], [site, "site"], [order, "order"]]) s.addEventListener("change", () => { Q[k] = s.value; reload(); });
  const chips = h("div", { class: "chips", id: "chips", role: "group", "aria-label": T.filters });
  const all = h("input", { type: "checkbox", id: "select-all" });
  all.addEventListener("change", () => { for (const r of rows) pick(r, all.checked); renderSel(); });
  const count = h("span", { id: "sel-count", class: "muted" });
  const bulk = h("div", { class: "acts", id: "bulk", role: "group", "aria-label": T.bulk, hidden: true },
    ACTS.map(a => h("button", { type: "button", class: "btn sm act-" + a, "data-bulk": a, onclick: () => act(a, rows.filter(r => sel.has(r.c.id))) }, T.act[a])));
  const reason = h("input", { type: "text", id: "reason", maxlength: "500", autocomplete: "off" });
  const keys = h("button", { type: "button", class: "btn sm", id: "keys-button", "aria-keyshortcuts": "?", onclick: showKeys }, T.keys);
  const list = h("ol", { id: "queue", class: "queue", "aria-label": T.comments });
  const info = h("p", { id: "queue-info", class: "muted", tabindex: "-1" });
  const more = h("button", { type: "button", id: "more", class: "btn more", hidden: true, onclick: () => loadMore() }, T.more);
  const pane = h("aside", { id: "detail", class: "detail", "aria-label": T.detail });
  qEl = { search, list, info, more, pane, chips, all, count, bulk, reason };
  main.append(h("h1", { class: "sr" }, T.views.queue), f, chips,
    h("div", { class: "bar" }, chk(T.pickAll, all), count, bulk, h("div", { class: "fld inline" }, h("label", { for: "reason" }, T.reason), reason), keys),
    h("div", { class: "split" }, h("div", { class: "list" }, list, info, more), pane));
  reload();
}

function renderChips() {
  const c = qEl.chips;
  c.textContent = "";
  for (const k in Q.chips) {
    const v = Q.shown[k] || Q.chips[k];
    c.append(h("button", { type: "button", class: "chip", "data-chip": k, "aria-label": T.unchip(T.chip[k], v),
      onclick: () => { delete Q.chips[k]; delete Q.shown[k]; reload(); qEl.search.focus(); } }, T.chip[k] + ": " + v, h("span", { "aria-hidden": "true" }, " ×")));
  }
  c.hidden = !c.firstChild;
}
const chipOn = (k, v, shown) => { Q.chips[k] = v; Q.shown[k] = shown; if (view == "queue") reload(true); };

const query = after => {
  const p = new URLSearchParams();
  if (Q.site) p.set("site", Q.site);
  if (Q.status != "all") p.set("status", Q.status);
  if (Q.q) p.set("q", Q.q);
  for (const k in Q.chips) p.set(k, Q.chips[k]);
  p.set("order", Q.order);
  p.set("limit", "50");
  if (after) p.set("cursor", after);
  return "/comments?" + p;
};

async function reload(focusFirst) {
  const g = ++gen;
  rows = []; byId = new Map(); cursor = null; moreP = null; cur = -1;
  sel.clear(); details.clear();
  qEl.list.textContent = "";
  qEl.info.textContent = T.loading;
  qEl.more.hidden = true;
  paneIdle();
  renderChips();
  renderSel();
  busy(true);
  let d;
  try { d = await api("GET", query()); } catch (e) { if (g == gen) { qEl.info.textContent = ""; fail(e); busy(false, "queue"); } return; }
  if (g != gen) return;
  append(d);
  if (rows.length) { if (focusFirst) focusRow(0); else setCur(0); }
  busy(false, "queue");
}

function append(d) {
  cursor = d.next_cursor || null;
  for (const c of d.comments || []) {
    if (byId.has(c.id)) continue;
    const r = { c };
    rowEl(r);
    rows.push(r);
    byId.set(c.id, r);
    qEl.list.append(r.li);
  }
  counted();
}
const counted = () => {
  qEl.more.hidden = !cursor;
  qEl.info.textContent = rows.length ? T.shown(rows.length) : T.empty;
  renderSel();
};

function loadMore() {
  if (moreP || !cursor) return moreP || Promise.resolve();
  const g = gen;
  qEl.more.disabled = true;
  moreP = api("GET", query(cursor)).then(d => { if (g == gen) append(d); }, e => { if (g == gen) fail(e); })
    .finally(() => { if (g == gen) { moreP = null; qEl.more.disabled = false; } });
  return moreP;
}

const pageOf = c => (c.thread && (c.thread.title || c.thread.uri)) || "";
function rowEl(r) {
  const c = r.c, id = c.id, name = c.author || T.anon;
  const cb = h("input", { type: "checkbox", class: "pick", id: "pick-" + id, checked: sel.has(id) });
  cb.addEventListener("change", () => { pick(r, cb.checked); renderSel(); });
  const url = safeURL(c.thread && c.thread.url);
  const reasons = Array.isArray(c.spam_reasons) ? c.spam_reasons : [];
  const score = Number.isFinite(c.spam_score) ? c.spam_score.toFixed(1) : "–";
  const acts = ACTS.filter(a => RESULT[a] != c.status && c.status != "deleted").map(a => h("button", { type: "button", class: "btn sm act-" + a, "data-act": a,
    "aria-keyshortcuts": KEY[a], onclick: () => act(a, [r]) }, T.act[a]));
  // A deletion is final (a tombstone, kept for its replies' sake, has lost its text): no action
  // brings it back. Restore is for a comment a person rejected or marked as spam.
  if (c.status == "rejected" || c.status == "spam") acts.push(h("button", { type: "button", class: "btn sm act-restore", "data-act": "restore", onclick: () => restoreOne(r) }, T.act.restore));
  const art = h("article", { class: "row" + (sel.has(id) ? " sel" : ""), tabindex: "-1", "data-id": id, "data-status": c.status,
    "aria-label": T.row(id, name, pageOf(c), T.st[c.status] || c.status) },
    h("div", { class: "rh" },
      h("label", { class: "pk", for: cb.id }, cb, h("span", { class: "sr" }, T.pick(id))),
      h("strong", { class: "au" }, name),
      c.email && h("button", { type: "button", class: "lnk by-email", "aria-label": T.moreBy(c.email), onclick: () => chipOn("email", c.email) }, c.email),
      c.network && h("button", { type: "button", class: "lnk by-network", "aria-label": T.moreFrom(c.network), onclick: () => chipOn("network", c.network) }, c.network),
      pageOf(c) && h("span", { class: "pg" }, T.on + " ", url ? h("a", { href: url, rel: "nofollow noopener noreferrer ugc" }, pageOf(c)) : pageOf(c)),
      when(c.created_at),
      (Q.status == "all" || c.status != "pending") && h("span", { class: "badge st-" + c.status }, T.st[c.status] || c.status),
      c.first_time && h("span", { class: "badge first" }, T.firstTime),
      c.links > 0 && h("span", { class: "badge links" }, T.links(c.links)),
      c.edited_at && h("span", { class: "muted" }, T.edited)),
    rich(c.html),
    h("div", { class: "rf" },
      h("details", { class: "score" }, h("summary", null, T.score(score), " · ", T.reasons(reasons.length)),
        h("ul", null, reasons.map(x => h("li", null, String(x))))),
      h("div", { class: "acts" }, acts)));
  art.addEventListener("focusin", () => setCur(rows.indexOf(r)));
  art.addEventListener("click", e => { if (!e.target.closest("a,button,input,label,summary,select,textarea")) art.focus(); });
  const li = h("li", null, art);
  const had = r.li && r.li.contains(document.activeElement);
  if (r.li) r.li.replaceWith(li);
  Object.assign(r, { li, art, cb });
  if (rows[cur] == r) { art.tabIndex = 0; art.classList.add("cur"); }
  if (had) art.focus();
}

function setCur(i) {
  if (i < 0 || i >= rows.length) return;
  const old = rows[cur];
  if (old && old != rows[i]) { old.art.tabIndex = -1; old.art.classList.remove("cur"); }
  cur = i;
  const r = rows[i];
  r.art.tabIndex = 0;
  r.art.classList.add("cur");
  showDetail(r);
  if (rows.length - i <= 10 && cursor) loadMore();
  if (rows[i + 1]) detail(rows[i + 1].c.id).catch(() => {});
}
const focusRow = i => {
  if (!rows.length) return qEl.info.focus();
  i = Math.min(Math.max(i, 0), rows.length - 1);
  rows[i].art.focus();
  setCur(i);
};
function move(d) {
  const a = document.activeElement, idle = !a || a == document.body || a == main;
  const i = idle && cur >= 0 ? cur : cur + d;
  if (i < 0) return;
  if (i < rows.length) return focusRow(i);
  if (cursor || moreP) loadMore().then(() => { if (rows[i]) focusRow(i); });
  else say(T.end);
}

const pick = (r, on) => {
  if (on) sel.add(r.c.id); else sel.delete(r.c.id);
  r.cb.checked = on;
  r.art.classList.toggle("sel", on);
};
function renderSel() {
  const n = sel.size, lose = !n && qEl.bulk.contains(document.activeElement);
  qEl.count.textContent = T.picked(n);
  qEl.bulk.hidden = !n;
  qEl.all.checked = n > 0 && n == rows.length;
  qEl.all.indeterminate = n > 0 && n < rows.length;
  if (lose) focusRow(cur);
}

function removeRows(list) {
  const gone = new Set(list), was = rows[cur];
  const focused = list.some(r => r.li.contains(document.activeElement));
  let next = null;
  if (was) {
    for (let i = cur; i < rows.length && !next; i++) if (!gone.has(rows[i])) next = rows[i];
    for (let i = cur; i >= 0 && !next; i--) if (!gone.has(rows[i])) next = rows[i];
  }
  for (const r of list) { r.li.remove(); byId.delete(r.c.id); }
  rows = rows.filter(r => !gone.has(r));
  cur = -1;
  if (next) { if (focused) focusRow(rows.indexOf(next)); else setCur(rows.indexOf(next)); }
  else { paneIdle(); if (focused) qEl.info.focus(); }
  counted();
  if (cursor && rows.length - Math.max(cur, 0) <= 10) loadMore();
}
// Puts rows back where they were (an undo, a failed action), the first one focused when asked.
function putBack(placed, focus) {
  const was = rows[cur];
  for (const p of [...placed].sort((a, b) => a.i - b.i)) {
    if (byId.has(p.r.c.id)) continue;
    const i = Math.min(p.i, rows.length);
    rowEl(p.r);
    rows.splice(i, 0, p.r);
    byId.set(p.r.c.id, p.r);
    qEl.list.insertBefore(p.r.li, rows[i + 1] ? rows[i + 1].li : null);
  }
  cur = was ? rows.indexOf(was) : -1;
  counted();
  if (focus && placed.length && byId.has(placed[0].r.c.id)) focusRow(rows.indexOf(placed[0].r));
}
const matches = c => Q.status == "all" || c.status == Q.status;

async function act(action, targets) {
  targets = targets.filter(r => r && r.c.status != "deleted");
  if (!targets.length) return;
  if (action == "delete" && !await ask(T.delQ(targets.length), T.delWarn, T.act.delete)) return;
  calm();
  const ids = targets.map(r => r.c.id), reason = qEl.reason.value.trim() || undefined;
  const placed = targets.map(r => ({ r, i: rows.indexOf(r) }));
  const leaves = Q.status != "all" && RESULT[action] != Q.status;
  for (const r of targets) { pick(r, false); details.delete(r.c.id); }
  if (leaves) removeRows(targets);
  else { renderSel(); if (targets.length == 1 && rows[cur] == targets[0]) move(1); }
  const sent = ids.length == 1
    ? api("POST", "/comments/" + ids[0] + "/" + action, reason ? { reason } : {})
      .then(d => [{ id: ids[0], status: d.comment ? d.comment.status : null, comment: d.comment, previous_status: d.previous_status }])
    : api("POST", "/comments/bulk", { ids, action, reason }).then(d => d.results || []);
  const done = sent.then(res => {
    const ok = [], bad = [];
    for (const x of res) {
      const p = placed.find(p => p.r.c.id == x.id);
      if (!p) continue;
      if (x.error) { bad.push(x); continue; }
      p.r.c = x.comment || { ...p.r.c, status: x.status || RESULT[action] };
      p.undo = action != "delete" && x.status != null;
      ok.push(p);
      if (!leaves && byId.has(x.id)) rowEl(p.r);
    }
    const back = placed.filter(p => !ok.includes(p));
    if (leaves) putBack(back); else for (const p of back) rowEl(p.r);
    if (ok.length) say(T.acted(ok.map(p => p.r.c.id), action) + (ok.some(p => p.undo) ? T.undoHint : ""));
    if (bad.length) fail({ message: T.failed(bad.length) + ((bad[0].error && bad[0].error.message) || T.err) });
    return ok.filter(p => p.undo);
  }, e => {
    if (leaves) putBack(placed, true);
    fail(e);
    return [];
  });
  undo = { done };
  return done;
}

async function undoLast() {
  const u = undo;
  undo = null;
  const items = u ? await u.done : [];
  if (!items.length) return say(T.noUndo);
  calm();
  const res = await Promise.all(items.map(p => api("POST", "/comments/" + p.r.c.id + "/restore", {}).then(d => ({ p, c: d.comment }), e => ({ p, e }))));
  const back = [], bad = res.filter(x => x.e);
  for (const { p, c, e } of res) {
    if (e) continue;
    p.r.c = c || { ...p.r.c, status: "pending" };
    details.delete(p.r.c.id);
    if (byId.has(p.r.c.id)) rowEl(p.r); else if (matches(p.r.c)) back.push(p);
  }
  putBack(back, true);
  const n = res.length - bad.length;
  if (n) say(T.undone(n));
  if (bad.length) fail(bad[0].e);
}

async function restoreOne(r) {
  calm();
  try {
    const d = await api("POST", "/comments/" + r.c.id + "/restore", {});
    details.delete(r.c.id);
    if (d.comment) r.c = d.comment;
    say(T.acted([r.c.id], "restore"));
    if (matches(r.c)) rowEl(r); else removeRows([r]);
  } catch (e) { fail(e); }
}

function showKeys() {
  if (document.getElementById("keys")) return;
  const back = document.activeElement;
  const d = h("dialog", { id: "keys", class: "dlg", "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, T.keys),
    h("dl", { class: "keys" }, T.keyList.map(([k, t]) => [h("dt", null, h("kbd", null, k)), h("dd", null, t)])),
    h("p", { class: "muted" }, T.keysNote),
    h("div", { class: "acts" }, h("button", { type: "button", class: "btn", id: "keys-close", onclick: () => d.close() }, T.close)));
  d.addEventListener("close", () => { d.remove(); if (back && back.isConnected) back.focus(); });
  document.body.append(d);
  d.showModal();
  d.querySelector("#keys-close").focus();
}

document.addEventListener("keydown", e => {
  if (view != "queue" || !me || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  if (document.querySelector("dialog[open]")) return;
  const t = e.target;
  // Typing goes to the field; Escape leaves it for the list.
  if (t.closest("textarea,select,[contenteditable]") || (t.tagName == "INPUT" && !/^(checkbox|radio|button|submit|reset|file)$/i.test(t.type))) {
    if (e.key == "Escape" && main.contains(t)) { e.preventDefault(); focusRow(Math.max(cur, 0)); }
    return;
  }
  const targets = () => sel.size ? rows.filter(r => sel.has(r.c.id)) : [rows[cur]];
  const one = a => () => act(a, targets());
  const fn = {
    j: () => move(1), k: () => move(-1), a: one("approve"), r: one("reject"), s: one("spam"), d: one("delete"),
    x: () => { const r = rows[cur]; if (r) { pick(r, !sel.has(r.c.id)); renderSel(); say(T.selected(r.c.id, sel.has(r.c.id), sel.size)); } },
    "/": () => { qEl.search.focus(); qEl.search.select(); }, u: undoLast, "?": showKeys,
    Enter: t.classList.contains("row") && (() => { const x = document.getElementById("detail-title"); if (x) x.focus(); }),
    Escape: qEl.pane.contains(t) && (() => focusRow(cur))
  }[e.key];
  if (!fn) return;
  e.preventDefault();
  fn();
});

views.queue = queueView;

export { qEl, byId, rowEl, chipOn, pageOf };
