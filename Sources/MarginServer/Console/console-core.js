/* Margin moderation console, its core: the words in use, DOM helpers, a comment's HTML rebuilt
   from an inert parse, the API, sign-in, the page's shell and the views' router; no dependencies.
   Every string from the server is hostile: it reaches the page as text nodes or checked attributes,
   and a comment's HTML is rebuilt from an inert parse, one allowed element at a time.
   The other modules add their views to `views`; the console starts once every module has run. */
import { L } from "./console-i18n.js";

const API = new URL("../api/v1/admin", location.href).pathname;
const ACTS = ["approve", "reject", "spam", "delete"];
const STATUSES = ["pending", "approved", "spam", "rejected", "deleted"];
const RESULT = { approve: "approved", reject: "rejected", spam: "spam", delete: "deleted" };
const KEY = { approve: "a", reject: "r", spam: "s", delete: "d" };
const VIEWS = ["queue", "dashboard", "activity", "sites", "blocklist", "transfer", "account"];
const KINDS = ["email", "ip", "domain", "author", "word"];

const store = {
  get(k) { try { return localStorage.getItem("margin-console:" + k); } catch (e) { return null; } },
  set(k, v) { try { localStorage.setItem("margin-console:" + k, v); } catch (e) { /* private mode */ } }
};
let LANG, T, RTF;
const setLang = l => {
  l = String(l || "en").toLowerCase().slice(0, 2);
  LANG = L[l] ? l : "en";
  T = L[LANG];
  RTF = new Intl.RelativeTimeFormat(LANG, { numeric: "auto" });
  document.documentElement.lang = LANG;
};
setLang(store.get("lang") || navigator.language);

const h = (t, a, ...c) => {
  const e = document.createElement(t);
  for (const k in a || {}) {
    const v = a[k];
    if (v == null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k == "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const x of c.flat(Infinity)) if (x != null && x !== false) e.append(x.nodeType ? x : String(x));
  return e;
};
const NS = "http://www.w3.org/2000/svg";
const svg = (t, a, text) => {
  const e = document.createElementNS(NS, t);
  for (const k in a) e.setAttribute(k, a[k]);
  if (text != null) e.textContent = text;
  return e;
};
let uidN = 0;
const uid = () => "c" + ++uidN;
const fld = (label, ctl, hint) => {
  if (!ctl.id) ctl.id = uid();
  return h("div", { class: "fld" }, h("label", { for: ctl.id }, label), ctl, hint);
};
const chk = (label, ctl) => {
  if (!ctl.id) ctl.id = uid();
  return h("div", { class: "chk" }, ctl, h("label", { for: ctl.id }, label));
};
const select = (opts, value) => h("select", null, opts.map(([v, t]) => h("option", { value: v, selected: v == value }, t)));
// A link only for what a browser reads as an http(s) URL; anything else stays text.
const safeURL = u => {
  try { return /^https?:$/.test(new URL(String(u)).protocol) ? String(u) : null; } catch (e) { return null; }
};
const enc = encodeURIComponent;

// A comment's HTML: parsed into a document that runs nothing and loads nothing, then copied
// element by element from an allowlist; any other element leaves only its text behind.
const HT = "http://www.w3.org/1999/xhtml";
const KEEP = new Set("p br a em strong b i s del ins code pre blockquote ul ol li h1 h2 h3 h4 h5 h6 hr table thead tbody tfoot tr th td caption sup sub".split(" "));
const DROP = new Set("script style template noscript iframe object embed svg math head title link meta base".split(" "));
const href = s => {
  try {
    const u = new URL(String(s).trim());
    return /^(https?|mailto):$/.test(u.protocol) ? u.href : null;
  } catch (e) { return null; }
};
const rich = html => {
  const box = h("div", { class: "tx" });
  const walk = (from, to) => {
    for (const n of from.childNodes) {
      if (n.nodeType == 3) { to.append(n.data); continue; }
      if (n.nodeType != 1 || n.namespaceURI != HT || DROP.has(n.localName)) continue;
      const t = n.localName;
      if (t == "img") {
        const alt = n.getAttribute("alt");
        to.append(h("span", { class: "img" }, "[" + T.image + (alt ? ": " + alt : "") + "]"));
      } else if (!KEEP.has(t)) walk(n, to);
      else {
        const e = document.createElement(t);
        const u = t == "a" && href(n.getAttribute("href"));
        if (u) { e.setAttribute("href", u); e.setAttribute("rel", "nofollow noopener noreferrer ugc"); }
        walk(n, e);
        to.append(e);
      }
    }
  };
  walk(new DOMParser().parseFromString(String(html || ""), "text/html").body, box);
  return box;
};

const ago = ms => {
  let s = (ms - Date.now()) / 1000;
  for (const [n, u] of [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]]) {
    if (Math.abs(s) < n) return Math.abs(s) < 45 && u == "second" ? RTF.format(0, "second") : RTF.format(Math.round(s), u);
    s /= n;
  }
};
const when = ms => {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return h("time", { datetime: d.toISOString(), title: d.toLocaleString(LANG), "data-ms": ms }, ago(ms));
};
setInterval(() => { for (const t of document.querySelectorAll("time[data-ms]")) t.textContent = ago(+t.dataset.ms); }, 60000);

let me = null;
const api = async (method, path, body) => {
  const headers = { Accept: "application/json" };
  if (method != "GET") {
    headers["Content-Type"] = "application/json";
    if (me && me.csrf_token) headers["X-CSRF-Token"] = me.csrf_token;
    if (body === undefined && method != "DELETE") body = {};
  }
  let r, j = null;
  try {
    r = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin", cache: "no-store", referrerPolicy: "same-origin" });
  } catch (e) { throw { net: 1 }; }
  if (r.status != 204) try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const x = (j && j.error) || {};
    if (r.status == 401 && me) setTimeout(() => signIn(T.expired));
    throw { status: r.status, code: String(x.code || ""), message: typeof x.message == "string" ? x.message : "" };
  }
  return j || {};
};
const errText = e => !e ? T.err : e.net ? T.net : e.message || (e.status == 429 ? T.many : T.err);

const app = document.getElementById("app");
let live, alertBox, main, navLinks = [], view = null;
const say = t => { live.textContent = ""; setTimeout(() => { live.textContent = t; }, 30); };
const fail = e => { alertBox.textContent = errText(e); alertBox.hidden = false; };
const calm = () => { alertBox.hidden = true; alertBox.textContent = ""; };
const ready = v => app.setAttribute("data-ready", v);
const busy = (on, v) => { if (on) app.setAttribute("aria-busy", "true"); else { app.removeAttribute("aria-busy"); ready(v); } };

function langPick() {
  const s = select([["en", "English"], ["ko", "한국어"]], LANG);
  s.id = "lang";
  s.addEventListener("change", () => {
    store.set("lang", s.value);
    setLang(s.value);
    if (me) { shell(); route(true); } else signIn();
    document.getElementById("lang").focus();
  });
  return h("div", { class: "lang" }, h("label", { for: "lang", class: "sr" }, T.lang), s);
}

function signIn(note) {
  me = null;
  view = null;
  for (const d of document.querySelectorAll("dialog")) d.remove();
  document.title = T.signIn + " · Margin";
  app.textContent = "";
  const email = h("input", { type: "email", id: "signin-email", name: "email", autocomplete: "email", required: true, spellcheck: "false" });
  const msg = h("p", { id: "signin-status", class: "note", role: "status" }, note || "");
  const err = h("p", { id: "signin-error", class: "err", role: "alert", hidden: true });
  const btn = h("button", { type: "submit", class: "btn pri", id: "signin-submit" }, T.sendLink);
  const f = h("form", { id: "signin-form", class: "form", novalidate: true }, fld(T.email, email), btn);
  f.addEventListener("submit", async e => {
    e.preventDefault();
    err.hidden = true;
    msg.textContent = "";
    if (!email.value.trim()) { err.textContent = T.required; err.hidden = false; email.setAttribute("aria-invalid", "true"); return email.focus(); }
    email.removeAttribute("aria-invalid");
    btn.disabled = true;
    try { await api("POST", "/sign-in", { email: email.value.trim() }); msg.textContent = T.sent; }
    catch (x) { err.textContent = errText(x); err.hidden = false; }
    finally { btn.disabled = false; }
  });
  app.append(h("header", { class: "top" }, h("p", { class: "brand" }, T.brand), langPick()),
    h("main", { id: "main", class: "signin" }, h("h1", null, T.signIn), h("p", { class: "muted" }, T.signInHint), f, msg, err));
  busy(false, "signin");
}

function shell() {
  app.textContent = "";
  live = h("p", { id: "live", class: "note", role: "status", "aria-live": "polite" });
  alertBox = h("p", { id: "alert", class: "err", role: "alert", hidden: true });
  main = h("main", { id: "main", tabindex: "-1" });
  navLinks = VIEWS.filter(v => v != "transfer" || me.role == "admin").map(v => h("a", { href: "#" + v, "data-view": v }, T.views[v]));
  const skip = h("a", { class: "skip", href: "#main" }, T.skip);
  skip.addEventListener("click", e => { e.preventDefault(); main.focus(); });
  app.append(skip, h("header", { class: "top" }, h("p", { class: "brand" }, T.brand),
    h("nav", { "aria-label": T.nav }, h("ul", null, navLinks.map(a => h("li", null, a)))),
    h("p", { class: "who muted", id: "who" }, me.email), langPick()),
  h("div", { class: "msgs" }, live, alertBox), main);
}

function route(keepFocus) {
  let v = location.hash.slice(1);
  if (!navLinks.some(a => a.dataset.view == v)) v = "queue";
  const moved = view != null && view != v;
  view = v;
  for (const a of navLinks) if (a.dataset.view == v) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  document.title = T.views[v] + " · Margin";
  main.textContent = "";
  calm();
  busy(true);
  views[v]();
  if (moved && !keepFocus) main.focus();
}
window.addEventListener("hashchange", () => { if (me) route(); });

const sitePick = (all, value) => {
  const s = select([...(all ? [["", T.allSites]] : []), ...(me.sites || []).map(x => [x, x])], value);
  s.classList.add("site-pick");
  return s;
};
const section = (title, items, none, id) => h("section", { class: "part", id }, h("h3", null, title),
  items && items.length ? items : h("p", { class: "muted" }, none));

function ask(title, text, okLabel) {
  return new Promise(res => {
    const back = document.activeElement;
    const ok = h("button", { type: "button", class: "btn danger", id: "confirm-ok" }, okLabel);
    const no = h("button", { type: "button", class: "btn", id: "confirm-cancel" }, T.cancel);
    const d = h("dialog", { id: "confirm", class: "dlg", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("h2", { id: "confirm-title" }, title), h("p", { id: "confirm-text" }, text), h("div", { class: "acts" }, ok, no));
    ok.addEventListener("click", () => d.close("ok"));
    no.addEventListener("click", () => d.close(""));
    d.addEventListener("close", () => {
      d.remove();
      if (back && back.isConnected) back.focus();
      res(d.returnValue == "ok");
    });
    document.body.append(d);
    d.showModal();
    no.focus();
  });
}

/** What each view shows, by name: filled in by the other modules. */
const views = {};

/** Starts the console: the signed-in moderator's queue, or the sign-in form. */
async function boot() {
  try { me = await api("GET", "/session"); } catch (e) {
    me = null;
    if (e.status == 401) return signIn();
    app.textContent = "";
    app.append(h("main", { id: "main", class: "signin" }, h("p", { class: "err", role: "alert" }, errText(e)),
      h("button", { type: "button", class: "btn", onclick: boot }, T.retry)));
    return busy(false, "error");
  }
  shell();
  route();
}
// Module scripts all run before DOMContentLoaded, so every view is registered by then.
document.addEventListener("DOMContentLoaded", boot, { once: true });

export { API, ACTS, STATUSES, RESULT, KEY, KINDS, T, me, main, view, views, h, svg, uid, fld, chk, select, safeURL, enc, rich, when,
  api, errText, say, fail, calm, busy, signIn, sitePick, section, ask };
