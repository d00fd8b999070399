/* A site's notifications, for admins: the hooks that hear its comment events (a signed webhook or
   a chat preset), each with a switch, a test, its deliveries and removal; a form to add one, and a
   new webhook's signing secret shown once. Every-site hooks appear on every site's card. */
import { T, h, uid, fld, chk, select, enc, when, api, errText, say, ask } from "./console-core.js";

const PRESETS = ["webhook", "slack", "mattermost", "discord", "telegram", "matrix", "ntfy"];
const EVENTS = ["published", "held", "spam", "approved", "rejected", "deleted", "edited"];
// What each preset asks for: a URL (else the service's public one), a chat, room or topic, and a
// token (2 required, 1 optional).
const NEEDS = {
  webhook: { url: 1 }, slack: { url: 1 }, mattermost: { url: 1 }, discord: { url: 1 },
  telegram: { target: 1, token: 2 }, matrix: { url: 1, target: 1, token: 2 }, ntfy: { target: 1, token: 1 }
};
// As the server picks them when none are named: a webhook hears everything, a chat the new ones.
const defaultEvents = p => p == "webhook" ? EVENTS : ["published", "held"];
const evName = e => T.hk.ev[String(e).replace(/^comment\./, "")] || String(e);
const same = id => document.querySelectorAll(`li.hook[data-hook="${Number(id)}"]`);
const reloads = new WeakMap();  // each site's part: how to show its hooks afresh
const quiet = ul => { const n = ul && ul.closest(".hooks-part"); if (n) n.querySelector(".hooks-none").hidden = !!ul.firstChild; };

async function copy(text, node) {
  try { await navigator.clipboard.writeText(text); say(T.copied); } catch (e) {
    const range = document.createRange();
    range.selectNodeContents(node);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    say(T.hk.noCopy);
  }
}

/** The "Notifications" part of a site's card; `loaded` settles once its hooks are shown (or why not). */
function hooksPart(site) {
  const tid = uid();
  const list = h("ul", { class: "hooks" });
  const none = h("p", { class: "muted hooks-none", hidden: true }, T.hk.none);
  const err = h("p", { class: "err", role: "alert", hidden: true });
  const secret = h("div", { class: "secret-slot" });
  const part = h("section", { class: "part hooks-part", "aria-labelledby": tid, "data-hooks-site": site },
    h("h3", { id: tid, tabindex: "-1" }, T.hk.title), h("p", { class: "muted" }, T.hk.hint), err, secret, list, none);
  const load = async () => {
    try {
      const d = await api("GET", "/hooks?site=" + enc(site));
      list.textContent = "";
      for (const x of d.hooks || []) list.append(hookItem(x));
      err.hidden = true;
    } catch (e) { err.textContent = errText(e); err.hidden = false; }
    none.hidden = !!list.firstChild || !err.hidden;
  };
  reloads.set(part, load);
  part.append(addForm(site, async x => {
    await load();
    // A hook for every site shows on every site's card.
    if (!x.site) for (const o of document.querySelectorAll(".hooks-part")) if (o != part && reloads.has(o)) reloads.get(o)();
    const item = [...same(x.id)].find(li => list.contains(li));
    const head = item ? item.querySelector("h4") : part.querySelector("h3");
    secret.textContent = "";
    if (x.preset == "webhook" && typeof x.secret == "string" && x.secret) {
      const box = secretBox(x, head);
      secret.append(box);
      box.focus();
    } else head.focus();
    say(T.hk.added(x.name || ""));
  }));
  return { el: part, loaded: load() };
}

function secretBox(x, then) {
  const tid = uid();
  const code = h("code", { class: "secret-value" }, x.secret);
  const cp = h("button", { type: "button", class: "btn sm secret-copy" }, T.hk.copySecret);
  cp.addEventListener("click", () => copy(x.secret, code));
  const done = h("button", { type: "button", class: "btn sm secret-done" }, T.hk.secretDone);
  const box = h("div", { class: "secret", role: "group", tabindex: "-1", "aria-labelledby": tid, "aria-describedby": tid + "-d" },
    h("h4", { id: tid }, T.hk.secretTitle(x.name || "")), h("p", { id: tid + "-d" }, T.hk.secretOnce),
    h("pre", { class: "snip" }, code), h("div", { class: "acts" }, cp, done));
  // Once dismissed it is gone from the page: the server only ever shows it masked again.
  done.addEventListener("click", () => { box.remove(); if (then && then.isConnected) then.focus(); });
  return box;
}

function hookItem(x) {
  const hid = uid(), name = x.name || "#" + x.id;
  const err = h("p", { class: "err", role: "alert", hidden: true });
  const oops = e => { err.textContent = errText(e); err.hidden = false; };
  const calm = () => { err.hidden = true; err.textContent = ""; };
  const fact = (k, v) => v != null && v !== "" && [h("dt", null, k), h("dd", null, v)];
  const evs = Array.isArray(x.events) ? x.events : [];
  const on = h("input", { type: "checkbox", class: "hook-enabled", checked: !!x.enabled });
  const test = h("button", { type: "button", class: "btn sm hook-test", "aria-label": T.hk.testOf(name) }, T.hk.test);
  const dels = h("button", { type: "button", class: "btn sm hook-deliveries", "aria-expanded": "false", "aria-label": T.hk.delsOf(name) }, T.hk.deliveries);
  const rm = h("button", { type: "button", class: "btn sm hook-remove", "aria-label": T.hk.removeOf(name) }, T.remove);
  const out = h("div", { class: "hook-out" });
  const box = h("div", { class: "hook-dels", id: uid(), hidden: true });
  dels.setAttribute("aria-controls", box.id);
  const li = h("li", { class: "hook", "data-hook": x.id, "data-preset": x.preset },
    h("h4", { id: hid, tabindex: "-1" }, name, " ", h("span", { class: "badge" }, T.hk.presets[x.preset] || x.preset),
      !x.site && h("span", { class: "badge every" }, T.hk.everySite), !x.enabled && h("span", { class: "badge off" }, T.hk.off)),
    h("dl", { class: "facts" },
      fact(T.hk.dest, x.url), fact((T.hk.target[x.preset] || T.hk.targetAny), x.target), fact(T.hk.secret, x.secret),
      fact(T.hk.events, evs.length == EVENTS.length ? T.hk.allEvents : evs.map(evName).join(", ")),
      fact(T.hk.options, [x.trusted && T.hk.trustedOn, x.allow_private && T.hk.privateOn].filter(Boolean).join("; ")),
      fact(T.hk.created, when(x.created_at))),
    h("div", { class: "acts" }, chk(T.hk.enabled, on), test, dels, rm), err, out, box);

  on.addEventListener("change", async () => {
    calm();
    try {
      const d = await api("PATCH", "/hooks/" + x.id, { enabled: on.checked });
      const n = d.hook || { ...x, enabled: on.checked };
      // The same every-site hook on the other cards follows; this one keeps its place and focus.
      for (const o of same(x.id)) if (o != li) o.replaceWith(hookItem(n));
      x.enabled = n.enabled;
      const badge = li.querySelector(".badge.off");
      if (!n.enabled && !badge) li.querySelector("h4").append(h("span", { class: "badge off" }, T.hk.off));
      if (n.enabled && badge) badge.remove();
      say(n.enabled ? T.hk.onNow(name) : T.hk.offNow(name));
    } catch (e) { on.checked = !on.checked; oops(e); }
  });

  test.addEventListener("click", async () => {
    if (test.getAttribute("aria-disabled")) return;
    calm();
    test.setAttribute("aria-disabled", "true");
    out.textContent = "";
    out.append(h("p", { class: "muted" }, T.hk.testing));
    try {
      const d = (await api("POST", "/hooks/" + x.id + "/test")).delivery || {};
      out.textContent = "";
      out.append(...answer(d, true));
      say(T.hk.tested(name, d.state == "delivered", d.last_status));
      if (!box.hidden) loadDels();
    } catch (e) { out.textContent = ""; oops(e); } finally { test.removeAttribute("aria-disabled"); }
  });

  const refresh = h("button", { type: "button", class: "btn sm hook-refresh" }, T.hk.refresh);
  const loadDels = async () => {
    calm();
    let d;
    try { d = await api("GET", "/hooks/" + x.id + "/deliveries?limit=20"); } catch (e) { return oops(e); }
    const rows = (d.deliveries || []).map(delRow);
    box.textContent = "";
    box.append(h("h5", { class: "sr" }, T.hk.delsOf(name)), rows.length
      ? h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": T.hk.delsOf(name) },
        h("table", { class: "grid-t dels" }, h("thead", null, h("tr", null,
          [T.time, T.hk.event, T.status, T.hk.attempts, T.hk.answer, ""].map(t => h("th", { scope: "col" }, t || h("span", { class: "sr" }, T.hk.retry))))),
        h("tbody", null, rows)))
      : h("p", { class: "muted" }, T.hk.noDels), h("div", { class: "acts" }, refresh));
  };
  refresh.addEventListener("click", async () => { await loadDels(); refresh.focus(); say(T.hk.refreshed); });
  dels.addEventListener("click", async () => {
    const open = box.hidden;
    dels.setAttribute("aria-expanded", String(open));
    box.hidden = !open;
    if (open) await loadDels();
  });
  const delRow = v => {
    const st = T.hk.state[v.state] || v.state;
    const retry = v.state == "failed" && h("button", { type: "button", class: "btn sm hook-retry", "aria-label": T.hk.retryOf(v.id) }, T.hk.retry);
    if (retry) retry.addEventListener("click", async () => {
      calm();
      try {
        await api("POST", "/hook-deliveries/" + v.id + "/retry");
        say(T.hk.retried);
        await loadDels();
        const r = box.querySelector(".scroll");
        if (r) r.focus();
      } catch (e) { oops(e); }
    });
    return h("tr", { "data-delivery": v.id, "data-state": v.state }, h("td", null, when(v.created_at)), h("td", null, evName(v.type)),
      h("td", null, st, v.state == "pending" && v.attempts > 0 && [" · ", T.hk.next, " ", when(v.next_attempt_at)]),
      h("td", null, String(v.attempts || 0)), h("td", null, answer(v, false)), h("td", null, retry));
  };

  rm.addEventListener("click", async () => {
    calm();
    if (!await ask(T.hk.delQ(name), x.site ? T.hk.delWarn : T.hk.delWarnAll, T.remove)) return;
    try {
      await api("DELETE", "/hooks/" + x.id);
      const next = li.nextElementSibling || li.previousElementSibling;
      const part = li.closest(".hooks-part");
      for (const o of same(x.id)) { const ul = o.parentNode; o.remove(); quiet(ul); }
      const to = next ? next.querySelector("h4") : part && part.querySelector("h3");
      if (to) to.focus();
      say(T.hk.removed(name));
    } catch (e) { oops(e); }
  });
  return li;
}

// A delivery's last answer: the status, or why none came, and the start of the body.
function answer(v, full) {
  const ok = v.state == "delivered";
  const st = v.last_status != null ? "HTTP " + v.last_status : null, why = !ok && v.last_error ? String(v.last_error) : null;
  // The error often names the status already; it is not said twice.
  const head = [st, why && !(st && why.includes(String(v.last_status))) && why].filter(Boolean).join(" · ");
  const body = typeof v.last_response == "string" && v.last_response.trim() ? v.last_response.slice(0, full ? 500 : 120) : null;
  if (!full) return [head || "–", body && h("div", { class: "muted answer" }, body)];
  return [h("p", { class: ok ? "ok test-result" : "err test-result" }, (ok ? T.hk.delivered : T.hk.notDelivered) + (head ? ": " + head : "")),
    body && h("pre", { class: "snip answer" }, body)];
}

function addForm(site, added) {
  const preset = select(PRESETS.map(p => [p, T.hk.presets[p]]), "webhook");
  preset.classList.add("hook-preset");
  const name = h("input", { type: "text", class: "hook-name", maxlength: "100", autocomplete: "off" });
  const url = h("input", { type: "url", class: "hook-url", autocomplete: "off", spellcheck: "false" });
  const target = h("input", { type: "text", class: "hook-target", autocomplete: "off", spellcheck: "false" });
  const token = h("input", { type: "password", class: "hook-token", autocomplete: "off", spellcheck: "false" });
  const urlHint = h("p", { class: "muted hint", id: uid() });
  url.setAttribute("aria-describedby", urlHint.id);
  const urlF = fld("", url, urlHint), targetF = fld("", target), tokenF = fld("", token);
  const every = h("input", { type: "checkbox", class: "hook-every" });
  const evs = EVENTS.map(e => h("input", { type: "checkbox", class: "hook-event", value: "comment." + e }));
  const trusted = h("input", { type: "checkbox", class: "hook-trusted" });
  const priv = h("input", { type: "checkbox", class: "hook-private" });
  const warn = h("p", { class: "warn", id: uid() }, T.hk.privWarn);
  priv.setAttribute("aria-describedby", warn.id);
  const err = h("p", { class: "err", role: "alert", hidden: true });
  const go = h("button", { type: "submit", class: "btn pri hook-add-submit" }, T.hk.add);
  const f = h("form", { class: "form hook-form", novalidate: true, "aria-label": T.hk.addTo(site) },
    fld(T.hk.kind, preset), fld(T.hk.name, name), urlF, targetF, tokenF, chk(T.hk.every, every),
    h("fieldset", { class: "evs" }, h("legend", null, T.hk.events), evs.map(c => chk(evName(c.value), c))),
    chk(T.hk.trusted, trusted), chk(T.hk.private, priv), warn, err, h("div", { class: "acts" }, go));
  const fit = () => {
    const p = preset.value, n = NEEDS[p];
    urlF.firstChild.textContent = T.hk.url[p] + (n.url ? "" : " " + T.hk.optional);
    urlHint.textContent = T.hk.urlHint[p];
    url.required = !!n.url;
    targetF.hidden = !n.target;
    if (n.target) targetF.firstChild.textContent = T.hk.target[p];
    target.required = !!n.target;
    tokenF.hidden = !n.token;
    if (n.token) tokenF.firstChild.textContent = T.hk.token[p] + (n.token == 2 ? "" : " " + T.hk.optional);
    token.required = n.token == 2;
    for (const c of evs) c.checked = defaultEvents(p).includes(c.value.slice(8));
  };
  preset.addEventListener("change", fit);
  fit();
  const bad = (msg, ctl) => {
    err.textContent = msg;
    err.hidden = false;
    if (ctl) { ctl.setAttribute("aria-invalid", "true"); ctl.focus(); }
  };
  f.addEventListener("submit", async e => {
    e.preventDefault();
    err.hidden = true;
    for (const c of f.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
    const p = preset.value, n = NEEDS[p];
    for (const [ctl, fl] of [[url, urlF], [target, targetF], [token, tokenF]])
      if (ctl.required && !fl.hidden && !ctl.value.trim()) return bad(T.hk.need(fl.firstChild.textContent), ctl);
    const chosen = evs.filter(c => c.checked).map(c => c.value);
    if (!chosen.length) return bad(T.hk.pickEvent, evs[0]);
    const body = { preset: p, events: chosen, trusted: trusted.checked, allow_private: priv.checked };
    if (!every.checked) body.site = site;
    if (name.value.trim()) body.name = name.value.trim();
    if (url.value.trim()) body.url = url.value.trim();
    if (n.target) body.target = target.value.trim();
    if (n.token && token.value.trim()) body.token = token.value.trim();
    if (go.getAttribute("aria-disabled")) return;
    go.setAttribute("aria-disabled", "true");
    try {
      const d = await api("POST", "/hooks", body);
      for (const c of [name, url, target, token]) c.value = "";
      every.checked = trusted.checked = priv.checked = false;
      fit();
      f.closest("details").open = false;
      await added(d.hook || {});
    } catch (x) {
      // The server names the field it refused (`invalid_url`, `destination_refused`…).
      const field = { invalid_url: url, destination_refused: url, invalid_target: target, invalid_token: token,
        invalid_name: name, invalid_events: evs[0] }[x.code];
      bad(errText(x), field);
    } finally { go.removeAttribute("aria-disabled"); }
  });
  return h("details", { class: "hook-add" }, h("summary", null, T.hk.add), f);
}

export { hooksPart };
