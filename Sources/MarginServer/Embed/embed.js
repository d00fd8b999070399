/* Margin comment widget: a thread in a shadow root, comment counts, no dependencies. */
(() => {
"use strict";
if (window.__margin) return;
window.__margin = 1;
const S = document.currentScript || document.querySelector("script[src*='embed.js']");
const sd = (S && S.dataset) || {};
const ORIGIN = (sd.server || (S && S.src ? new URL(S.src, location.href).origin : location.origin)).replace(/\/+$/, "");
const API = ORIGIN + "/api/v1";
const CSS = S && S.src ? new URL("embed.css", S.src).href : ORIGIN + "/embed.css";
const SITE = sd.site || "default";
const L = {
  en: {
    count: n => n == 1 ? "1 comment" : n + " comments",
    sort: "Sort comments", oldest: "Oldest", newest: "Newest",
    reply: "Reply", like: "Like", dislike: "Dislike", edit: "Edit", del: "Delete", really: "Really delete?",
    save: "Save", cancel: "Cancel", deleted: "This comment was deleted.", anon: "Anonymous",
    to: n => "replying to " + n, pending: "Awaiting moderation", edited: "edited",
    window: m => "editable for " + m + " min",
    leave: "Leave a comment", replyTo: n => "Reply to " + n, text: "Comment", editText: "Edit your comment",
    name: "Name", email: "Email", website: "Website", opt: "(optional)", hint: "Markdown is supported.",
    notify: "Notify me of replies by email", hp: "Leave this empty",
    preview: "Preview", write: "Write", submit: "Post comment", posting: "Posting…", empty: "Nothing to preview.",
    posted: "Your comment was posted.", held: "Your comment is awaiting moderation.", saved: "Your comment was updated.", removed: "Your comment was deleted.",
    many: s => "Too many comments; try again in " + s + " seconds.",
    net: "Could not reach the comment server. Please try again.", err: "Something went wrong. Please try again.",
    required: "This field is required.", bad: "Please check this field.",
    locked: "Comments are closed.", load: "Could not load comments.", none: "No comments yet.", more: "Load more comments",
    now: "just now", units: ["second", "minute", "hour", "day", "month", "year"],
    ago: (n, u) => n + " " + u + (n == 1 ? "" : "s") + " ago"
  },
  ko: {
    count: n => "댓글 " + n + "개",
    sort: "댓글 정렬", oldest: "오래된 순", newest: "최신 순",
    reply: "답글", like: "좋아요", dislike: "싫어요", edit: "수정", del: "삭제", really: "정말 삭제할까요?",
    save: "저장", cancel: "취소", deleted: "삭제된 댓글입니다.", anon: "익명",
    to: n => n + "님에게 답글", pending: "승인 대기 중", edited: "수정됨",
    window: m => m + "분 동안 수정 가능",
    leave: "댓글 남기기", replyTo: n => n + "님에게 답글 쓰기", text: "댓글", editText: "댓글 수정",
    name: "이름", email: "이메일", website: "웹사이트", opt: "(선택)", hint: "마크다운을 쓸 수 있습니다.",
    notify: "답글이 달리면 이메일로 알림 받기", hp: "비워 두세요",
    preview: "미리 보기", write: "쓰기", submit: "댓글 등록", posting: "등록 중…", empty: "미리 볼 내용이 없습니다.",
    posted: "댓글이 등록되었습니다.", held: "댓글이 승인을 기다리고 있습니다.", saved: "댓글이 수정되었습니다.", removed: "댓글이 삭제되었습니다.",
    many: s => "댓글이 너무 많습니다. " + s + "초 후에 다시 시도하세요.",
    net: "댓글 서버에 연결할 수 없습니다. 다시 시도하세요.", err: "문제가 생겼습니다. 다시 시도하세요.",
    required: "필수 항목입니다.", bad: "이 항목을 확인하세요.",
    locked: "댓글이 닫혔습니다.", load: "댓글을 불러올 수 없습니다.", none: "아직 댓글이 없습니다.", more: "댓글 더 보기",
    now: "방금 전", units: ["초", "분", "시간", "일", "개월", "년"],
    ago: (n, u) => n + u + " 전"
  }
};
const pickLang = el => {
  const l = ((el && el.dataset.lang) || sd.lang || document.documentElement.lang || "en").toLowerCase().slice(0, 2);
  return L[l] ? l : "en";
};
let LANG = pickLang(document.getElementById("margin-thread"));
let T = L[LANG];

const h = (t, a, ...c) => {
  const e = document.createElement(t);
  for (const k in a || {}) {
    const v = a[k];
    if (v == null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k == "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const x of c.flat()) if (x != null && x !== false) e.append(x.nodeType ? x : String(x));
  return e;
};
const store = {
  get(k, d) { try { return JSON.parse(localStorage.getItem("margin:" + k)) || d; } catch (e) { return d; } },
  set(k, v) { try { localStorage.setItem("margin:" + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
};
// This reader's author key: 32 random bytes made once and kept in localStorage, sent with every
// comment. Trust (the known-author bonus, no first-time hold) follows the key, not a typed email.
const authorKey = () => {
  let k = store.get("author-key", "");
  if (!/^[A-Za-z0-9_-]{43}$/.test(k)) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    k = btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    store.set("author-key", k);
  }
  return k;
};
const api = async (method, path, body, token) => {
  const headers = {};
  if (body) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let r, j = null;
  try {
    r = await fetch(API + path, { method, headers, body: body && JSON.stringify(body), credentials: "omit", cache: "no-cache" });
  } catch (e) { throw { net: 1 }; }
  try { j = await r.json(); } catch (e) { /* empty body */ }
  if (!r.ok) throw { status: r.status, code: j && j.error && j.error.code, message: j && j.error && j.error.message, retry: r.headers.get("Retry-After") };
  return { status: r.status, data: j };
};
const errText = e => e.net || e.status >= 500 ? T.net : e.status == 429 ? T.many(e.retry || 60) : (LANG == "en" && e.message) || T.err;

const ago = ms => {
  let s = (Date.now() - ms) / 1000;
  if (s < 45) return T.now;
  const steps = [60, 60, 24, 30, 12];
  let i = 0;
  for (; i < 5 && s >= steps[i]; i++) s /= steps[i];
  return T.ago(Math.max(1, Math.floor(s)), T.units[i]);
};
const timeEl = ms => {
  const d = new Date(ms);
  return h("time", { datetime: d.toISOString(), title: d.toLocaleString(LANG), "data-ms": ms }, ago(ms));
};

const hash = s => {
  let x = 2166136261;
  for (const ch of s) x = Math.imul(x ^ ch.codePointAt(0), 16777619) >>> 0;
  return x;
};
const NS = "http://www.w3.org/2000/svg";
const GRAVATAR = "https://www.gravatar.com/avatar/";
const svg = (t, a) => {
  const e = document.createElementNS(NS, t);
  for (const k in a) e.setAttribute(k, a[k]);
  return e;
};
const avatar = seed => {
  const x = hash(seed), bits = hash(seed + "~"), hue = x % 360;
  const s = svg("svg", { viewBox: "-1.5 -1.5 8 8", class: "av", "aria-hidden": "true", focusable: "false" });
  s.append(svg("rect", { x: -1.5, y: -1.5, width: 8, height: 8, fill: `hsl(${hue},45%,90%)` }));
  for (let i = 0; i < 15; i++) {
    if (!((bits >>> i) & 1)) continue;
    const c = i % 3, r = (i / 3) | 0, f = `hsl(${hue},55%,45%)`;
    s.append(svg("rect", { x: c, y: r, width: 1, height: 1, fill: f }));
    if (c < 2) s.append(svg("rect", { x: 4 - c, y: r, width: 1, height: 1, fill: f }));
  }
  return s;
};

let uidN = 0;
const uid = p => "m" + p + ++uidN;
const safeURL = u => /^https?:\/\//i.test(u || "") ? u : null;

function counts() {
  const els = [...document.querySelectorAll("[data-margin-count]")];
  const uris = [...new Set(els.map(e => e.getAttribute("data-margin-count")))];
  for (let i = 0; i < uris.length; i += 100) {
    api("POST", "/counts", { site: SITE, uris: uris.slice(i, i + 100) }).then(({ data }) => {
      for (const e of els) {
        const n = data.counts[e.getAttribute("data-margin-count")];
        if (n != null) e.textContent = L[pickLang(e)].count(n);
      }
    }, () => {});
  }
}

function thread(host) {
  LANG = pickLang(host);
  T = L[LANG];
  const opt = k => host.dataset[k] || sd[k];
  const uri = opt("uri") || location.pathname;
  const title = opt("title") || document.title;
  const theme = opt("theme");
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  root.textContent = "";
  const css = h("link", { rel: "stylesheet", href: CSS });
  const cssReady = new Promise(r => { css.onload = css.onerror = r; setTimeout(r, 3000); });
  const heading = h("h2", { id: "mg-h" });
  const live = h("p", { class: "sr", role: "status", "aria-live": "polite" });
  const list = h("div", { class: "list" });
  const top = h("div", { class: "top" });
  const status = h("p", { class: "muted" });
  const more = h("button", { type: "button", class: "btn more", hidden: true }, T.more);
  let sort = opt("sort") == "newest" ? "newest" : "oldest";
  const sortBtns = ["oldest", "newest"].map(k => h("button", { type: "button", class: "btn sm", "aria-pressed": String(k == sort), onclick: () => setSort(k) }, T[k]));
  const box = h("section", { class: "mg" + (theme == "dark" || theme == "light" ? " " + theme : ""), lang: LANG, "aria-labelledby": "mg-h" },
    h("div", { class: "bar" }, heading, h("div", { class: "sort", role: "group", "aria-label": T.sort }, sortBtns)),
    live, top, status, list, more);
  root.append(css, box);

  const held = "held:" + SITE + ":" + uri;
  const byId = new Map();
  let cfg = {}, data = { comments: [] }, total = 0, nextAfter = null;
  const say = t => { live.textContent = ""; setTimeout(() => { live.textContent = t; }, 50); };
  const setTotal = n => { total = n; heading.textContent = T.count(n); status.textContent = n ? "" : T.none; };
  const toks = () => store.get("tok:" + SITE, {});
  const setTok = (id, v) => {
    const t = toks(), now = Date.now();
    for (const k in t) if (t[k].until < now) delete t[k];
    if (v) t[id] = v; else delete t[id];
    store.set("tok:" + SITE, t);
  };

  function setSort(k) {
    sort = k;
    sortBtns.forEach((b, i) => b.setAttribute("aria-pressed", String(["oldest", "newest"][i] == k)));
    const els = [...list.children].sort((a, b) => (byId.get(+a.dataset.id).c.created - byId.get(+b.dataset.id).c.created) * (k == "newest" ? -1 : 1));
    list.append(...els);
  }

  function fieldErr(f, msg) {
    const { input, err } = f;
    err.textContent = msg;
    err.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [f.desc, err.id].filter(Boolean).join(" "));
  }
  function clearErr(fields, gen) {
    for (const f of Object.values(fields)) {
      f.err.hidden = true;
      f.err.textContent = "";
      f.input.removeAttribute("aria-invalid");
      if (f.desc) f.input.setAttribute("aria-describedby", f.desc); else f.input.removeAttribute("aria-describedby");
    }
    gen.hidden = true;
    gen.textContent = "";
  }
  function showErr(e, fields, gen) {
    const f = e.status == 422 && e.code && fields[e.code.replace(/^invalid_/, "")];
    if (f) { fieldErr(f, (LANG == "en" && e.message) || T.bad); f.input.focus(); }
    else { gen.textContent = errText(e); gen.hidden = false; }
  }
  const field = (name, label, input, desc) => {
    const err = h("p", { class: "err", id: uid("e"), role: "alert", hidden: true });
    input.id = uid("f");
    if (desc) input.setAttribute("aria-describedby", desc.id);
    return { input, err, desc: desc && desc.id, el: h("div", { class: "fld fld-" + name }, h("label", { for: input.id }, label), input, desc, err) };
  };

  function form(parent, onClose) {
    const me = store.get("me", {});
    const hint = h("p", { class: "muted hint", id: uid("h") }, T.hint);
    const ta = h("textarea", { name: "text", rows: parent ? 3 : 4, required: true, maxlength: (cfg.limits || {}).text || null });
    const fields = { text: field("text", parent ? T.replyTo(parent.author || T.anon) : T.text, ta, hint) };
    const inp = (name, type, req, ac) => {
      const i = h("input", { name, type, required: !!req, autocomplete: ac, value: me[name] || null, maxlength: (cfg.limits || {})[name] || null });
      fields[name] = field(name, [T[name == "author" ? "name" : name], req ? null : " ", req ? null : h("span", { class: "muted" }, T.opt)], i);
      return i;
    };
    const au = inp("author", "text", cfg.require_author, "name");
    const em = inp("email", "email", cfg.require_email, "email");
    const web = inp("website", "url", 0, "url");
    const nt = h("input", { type: "checkbox", name: "notify", id: uid("n"), checked: !!me.notify, disabled: !em.value.trim() });
    em.addEventListener("input", () => { nt.disabled = !em.value.trim(); });
    const hp = h("input", { name: "hp", type: "text", tabindex: "-1", autocomplete: "off", id: uid("p") });
    const pv = h("div", { class: "tx pv", hidden: true, "aria-live": "polite" });
    const gen = h("p", { class: "err", role: "alert", hidden: true });
    const pvBtn = h("button", { type: "button", class: "btn", "aria-pressed": "false" }, T.preview);
    const sub = h("button", { type: "submit", class: "btn pri" }, T.submit);
    const f = h("form", { class: "form", novalidate: true, "aria-label": parent ? T.replyTo(parent.author || T.anon) : T.leave },
      !parent && h("h3", null, T.leave),
      fields.text.el, pv,
      h("div", { class: "row" }, fields.author.el, fields.email.el, fields.website.el),
      h("div", { class: "chk" }, nt, h("label", { for: nt.id }, T.notify)),
      h("div", { class: "hpot", "aria-hidden": "true" }, h("label", { for: hp.id }, T.hp), hp),
      gen,
      h("div", { class: "acts" }, pvBtn, sub, parent && h("button", { type: "button", class: "btn", onclick: onClose }, T.cancel)));
    const previewOff = () => { pv.hidden = true; ta.hidden = false; pvBtn.setAttribute("aria-pressed", "false"); pvBtn.textContent = T.preview; };
    pvBtn.addEventListener("click", async () => {
      if (!pv.hidden) { previewOff(); ta.focus(); return; }
      clearErr(fields, gen);
      if (!ta.value.trim()) { pv.textContent = T.empty; }
      else {
        try { pv.innerHTML = (await api("POST", "/preview", { text: ta.value })).data.html; }
        catch (e) { return showErr(e, fields, gen); }
      }
      pv.hidden = false; ta.hidden = true;
      pvBtn.setAttribute("aria-pressed", "true"); pvBtn.textContent = T.write;
    });
    ta.addEventListener("keydown", e => { if (e.key == "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); f.requestSubmit(); } });
    f.addEventListener("submit", async e => {
      e.preventDefault();
      clearErr(fields, gen);
      if (!ta.value.trim()) { previewOff(); return fieldErr(fields.text, T.required), ta.focus(); }
      for (const [i, k] of [[au, "author"], [em, "email"]]) if (i.required && !i.value.trim()) return fieldErr(fields[k], T.required), i.focus();
      const v = i => i.value.trim() || undefined;
      const body = { site: SITE, uri, title, text: ta.value, parent: parent ? parent.id : undefined, author: v(au), email: v(em), website: v(web), notify: !!(nt.checked && v(em)), hp: hp.value, ts: cfg.ts, author_key: authorKey() };
      store.set("me", { author: au.value.trim(), email: em.value.trim(), website: web.value.trim(), notify: nt.checked });
      sub.disabled = true; sub.textContent = T.posting;
      try {
        const { status: st, data: c } = await api("POST", "/comments", body);
        c.pending = st == 202;
        c.replies = [];
        setTok(c.id, { token: c.edit_token, until: c.editable_until, text: c.text });
        if (c.pending) store.set(held, [...store.get(held, []), { c: { ...c, edit_token: undefined }, t: Date.now() }]);
        ta.value = ""; previewOff();
        const el = add(c, true);
        if (onClose) onClose();
        say(c.pending ? T.held : T.posted);
        el.focus();
      } catch (err) { showErr(err, fields, gen); }
      finally { sub.disabled = false; sub.textContent = T.submit; }
    });
    return { f, ta };
  }

  function add(c, fresh) {
    const p = c.parent != null && byId.get(c.parent);
    const depth = p ? p.depth + 1 : 0;
    const el = node(c, depth, p ? p.c.author || T.anon : null);
    if (p) {
      if (fresh) p.c.replies.push(c);
      p.rp.append(el);
    } else {
      if (fresh) data.comments.push(c);
      if (sort == "newest" && fresh) list.prepend(el); else list.append(el);
    }
    if (fresh && !c.pending) setTotal(total + 1);
    return el;
  }

  // Gravatar only when the site turned it on; a missing picture (d=404) or a blocked request
  // falls back to the identicon, so everyone without one looks as before.
  function face(c) {
    const s = avatar(c.author ? c.author.trim().toLowerCase() : "#" + c.id);
    if (cfg.avatars !== "gravatar" || !/^[0-9a-f]{64}$/.test(c.gravatar || "")) return s;
    const i = h("img", { class: "av", alt: "", src: GRAVATAR + c.gravatar + "?s=80&d=404", loading: "lazy", referrerpolicy: "no-referrer" });
    i.addEventListener("error", () => i.replaceWith(s));
    return i;
  }

  function node(c, depth, pname) {
    const name = c.author || (c.deleted ? "" : T.anon);
    const web = safeURL(c.website);
    const tx = h("div", { class: "tx" });
    if (c.deleted) tx.append(h("p", { class: "muted" }, T.deleted)); else tx.innerHTML = c.html || "";
    const slot = h("div", { class: "slot" });
    const rp = h("div", { class: "rp" + (depth < 4 ? " in" : "") });
    const acts = h("div", { class: "acts" });
    const el = h("article", { class: "c" + (c.pending ? " held" : ""), id: "margin-c-" + c.id, "data-id": c.id, "data-depth": depth, tabindex: "-1", "aria-label": c.deleted ? T.deleted : name },
      h("div", { class: "main" }, face(c),
        h("div", { class: "bd" },
          h("div", { class: "hd" },
            name && (web ? h("a", { class: "au", href: web, rel: "nofollow ugc noopener", target: "_blank" }, name) : h("span", { class: "au" }, name)),
            depth > 4 && pname && h("span", { class: "to" }, T.to(pname)),
            c.created && timeEl(c.created),
            c.edited && h("span", { class: "muted ed" }, "· " + T.edited),
            c.pending && h("span", { class: "badge" }, T.pending)),
          tx, acts, slot)),
      rp);
    const entry = { c, el, depth, rp, tx, acts, slot };
    byId.set(c.id, entry);
    renderActs(entry);
    for (const r of c.replies || []) add(r);
    return el;
  }

  function renderActs(e) {
    const { c, acts } = e;
    acts.textContent = "";
    if (c.deleted) return;
    if (!c.pending) {
      const votes = store.get("votes:" + SITE, {});
      const vb = (v, cls, label, n) => h("button", { type: "button", class: "btn sm vote " + cls, "aria-pressed": String(votes[c.id] == v), onclick: () => vote(e, v) },
        h("span", { "aria-hidden": "true" }, v > 0 ? "▲" : "▼"), h("span", { class: "sr" }, label), " ", h("span", { class: "n" }, n || 0));
      acts.append(vb(1, "like", T.like, c.likes), vb(-1, "dislike", T.dislike, c.dislikes));
      if (!data.locked) acts.append(h("button", { type: "button", class: "btn sm reply", "aria-expanded": "false", onclick: ev => openReply(e, ev.currentTarget) }, T.reply));
    }
    const t = toks()[c.id];
    if (t && t.until > Date.now()) {
      const del = h("button", { type: "button", class: "btn sm del" }, T.del);
      let armed = 0;
      del.addEventListener("click", () => {
        if (!armed) {
          armed = setTimeout(() => { armed = 0; del.textContent = T.del; del.classList.remove("warn"); }, 5000);
          del.textContent = T.really; del.classList.add("warn");
          return;
        }
        clearTimeout(armed); armed = 0;
        remove(e, t, del);
      });
      acts.append(h("button", { type: "button", class: "btn sm edit", onclick: () => editor(e, t) }, T.edit), del,
        h("span", { class: "muted win" }, T.window(Math.ceil((t.until - Date.now()) / 60000))));
    }
  }

  async function vote(e, v) {
    try {
      const { data: d } = await api("POST", "/comments/" + e.c.id + "/vote", { value: v });
      e.c.likes = d.likes; e.c.dislikes = d.dislikes;
      const votes = store.get("votes:" + SITE, {});
      votes[e.c.id] = v;
      store.set("votes:" + SITE, votes);
      for (const [k, n, x] of [["like", d.likes, 1], ["dislike", d.dislikes, -1]]) {
        const b = e.acts.querySelector("." + k);
        b.querySelector(".n").textContent = n;
        b.setAttribute("aria-pressed", String(v == x));
      }
    } catch (err) { say(errText(err)); }
  }

  function openReply(e, btn) {
    if (e.slot.firstChild) { e.slot.textContent = ""; btn.setAttribute("aria-expanded", "false"); return; }
    const close = () => { e.slot.textContent = ""; btn.setAttribute("aria-expanded", "false"); btn.focus(); };
    const { f, ta } = form(e.c, close);
    e.slot.append(f);
    btn.setAttribute("aria-expanded", "true");
    ta.focus();
  }

  function editor(e, t) {
    if (e.slot.querySelector(".editor")) return;
    const ta = h("textarea", { name: "text", rows: 4 });
    ta.value = t.text || "";
    const fields = { text: field("text", T.editText, ta) };
    const gen = h("p", { class: "err", role: "alert", hidden: true });
    const close = () => { ed.remove(); e.tx.hidden = false; };
    const ed = h("form", { class: "form editor", novalidate: true }, fields.text.el, gen,
      h("div", { class: "acts" }, h("button", { type: "submit", class: "btn pri" }, T.save),
        h("button", { type: "button", class: "btn", onclick: () => { close(); e.el.focus(); } }, T.cancel)));
    ed.addEventListener("submit", async ev => {
      ev.preventDefault();
      clearErr(fields, gen);
      if (!ta.value.trim()) return fieldErr(fields.text, T.required);
      try {
        const { data: d } = await api("PATCH", "/comments/" + e.c.id, { text: ta.value }, t.token);
        Object.assign(e.c, { html: d.html, edited: d.edited || Date.now(), text: d.text });
        t.text = d.text;
        setTok(e.c.id, t);
        e.tx.innerHTML = d.html;
        if (!e.el.querySelector(".hd .ed")) e.el.querySelector(".hd").insertBefore(h("span", { class: "muted ed" }, "· " + T.edited), e.el.querySelector(".hd .badge"));
        close();
        say(T.saved);
        e.el.focus();
      } catch (err) { showErr(err, fields, gen); }
    });
    e.tx.hidden = true;
    e.slot.prepend(ed);
    ta.focus();
  }

  async function remove(e, t, btn) {
    try {
      const { data: d } = await api("DELETE", "/comments/" + e.c.id, null, t.token);
      setTok(e.c.id);
      store.set(held, store.get(held, []).filter(x => x.c.id != e.c.id));
      if (!e.c.pending) setTotal(Math.max(0, total - 1));
      if (d && d.tombstone) {
        e.c.deleted = true;
        e.tx.textContent = "";
        e.tx.append(h("p", { class: "muted" }, T.deleted));
        e.slot.textContent = "";
        renderActs(e);
        e.el.focus();
      } else {
        const next = e.el.parentElement.closest("article") || heading;
        e.el.remove();
        byId.delete(e.c.id);
        next.setAttribute("tabindex", "-1");
        next.focus();
      }
      say(T.removed);
    } catch (err) {
      btn.textContent = T.del; btn.classList.remove("warn");
      say(errText(err));
    }
  }

  async function load(after) {
    const { data: d } = await api("GET", "/comments?site=" + encodeURIComponent(SITE) + "&uri=" + encodeURIComponent(uri) + "&limit=1000" + (after ? "&after=" + after : ""));
    nextAfter = d.next_after;
    more.hidden = !nextAfter;
    return d;
  }
  more.addEventListener("click", async () => {
    try {
      const d = await load(nextAfter);
      for (const c of d.comments) { data.comments.push(c); add(c); }
      setSort(sort);
    } catch (e) { say(errText(e)); }
  });

  const tick = () => {
    for (const t of root.querySelectorAll("time[data-ms]")) t.textContent = ago(+t.dataset.ms);
    const tk = toks(), now = Date.now();
    for (const e of byId.values()) if (e.acts.querySelector(".win")) {
      const t = tk[e.c.id];
      if (!t || t.until <= now) { renderActs(e); e.slot.textContent = ""; e.tx.hidden = false; }
      else e.acts.querySelector(".win").textContent = T.window(Math.ceil((t.until - now) / 60000));
    }
  };

  (async () => {
    try {
      [cfg, data] = await Promise.all([api("GET", "/config?site=" + encodeURIComponent(SITE)).then(r => r.data), load()]);
    } catch (e) {
      status.textContent = T.load;
      status.className = "err";
      status.setAttribute("role", "alert");
      await cssReady;
      host.setAttribute("data-margin-ready", "error");
      return;
    }
    const seen = new Set();
    const walk = cs => cs.forEach(c => { seen.add(c.id); walk(c.replies || []); });
    walk(data.comments);
    setTotal(data.total || seen.size);
    for (const c of data.comments) add(c);
    const keep = store.get(held, []).filter(x => !seen.has(x.c.id) && Date.now() - x.t < 14 * 864e5);
    store.set(held, keep);
    for (const { c } of keep) if (c.parent == null || byId.has(c.parent)) add({ ...c, pending: true, replies: [] }, true);
    setSort(sort);
    if (data.locked) top.append(h("p", { class: "muted" }, T.locked)); else top.append(form(null).f);
    setInterval(tick, 30000);
    await cssReady;
    host.setAttribute("data-margin-ready", "");
  })();
}

const start = () => {
  counts();
  const host = document.getElementById("margin-thread");
  if (host) thread(host);
};
if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
