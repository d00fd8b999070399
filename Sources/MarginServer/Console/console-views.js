/* The other views: dashboard, activity, sites (with their notifications), blocklist, import and export, account. */
import { API, STATUSES, KINDS, T, me, main, views, h, svg, uid, fld, chk, select, safeURL, enc, when, api, say, fail, calm, busy, signIn, sitePick }
  from "./console-core.js";
import { hooksPart } from "./console-hooks.js";

async function dashView() {
  const site = sitePick(true, "");
  const box = h("div", { class: "dash" });
  main.append(h("h1", null, T.views.dashboard), h("div", { class: "filters" }, fld(T.site, site)), box);
  const load = async () => {
    busy(true);
    let d;
    try { d = await api("GET", "/stats?days=30" + (site.value ? "&site=" + enc(site.value) : "")); } catch (e) { fail(e); return busy(false, "dashboard"); }
    box.textContent = "";
    const days = Array.isArray(d.daily) ? d.daily : [];
    box.append(h("dl", { class: "cards" },
      h("div", { class: "card" }, h("dt", null, T.pendingNow), h("dd", { id: "stat-pending" }, String(d.pending || 0))),
      h("div", { class: "card" }, h("dt", null, T.spamCaught), h("dd", { id: "stat-spam" }, String(d.spam_caught || 0))),
      STATUSES.filter(s => s != "pending").map(s => h("div", { class: "card" }, h("dt", null, T.st[s]), h("dd", null, String((d.statuses || {})[s] || 0))))),
    h("section", { class: "part" }, h("h2", { id: "chart-title" }, T.perDay), chart(days)),
    h("section", { class: "part" }, h("h2", null, T.busiest), (d.busiest_threads || []).length
      ? h("ol", { class: "busy" }, d.busiest_threads.map(b => {
        const t = b.thread || {}, u = safeURL(t.url), name = t.title || t.uri || "";
        return h("li", null, u ? h("a", { href: u, rel: "nofollow noopener noreferrer ugc" }, name) : name, " · ", T.nComments(b.comments || 0));
      }))
      : h("p", { class: "muted" }, T.noThreads)));
    busy(false, "dashboard");
  };
  site.addEventListener("change", load);
  load();
}

const SERIES = ["approved", "pending", "rejected", "spam", "deleted"];
function chart(days) {
  const W = 640, H = 200, B = 22, X = 36, R = 16, n = Math.max(days.length, 1);
  const sum = d => SERIES.reduce((s, k) => s + (+d[k] || 0), 0);
  const top = Math.max(1, ...days.map(sum)), bw = (W - X - R) / n;
  const total = days.reduce((s, d) => s + sum(d), 0);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H + B}`, class: "chart", id: "chart", role: "img", "aria-labelledby": "chart-title chart-desc" });
  s.append(svg("desc", { id: "chart-desc" }, T.chartSum(total, days.length)));
  for (const v of [0, Math.round(top / 2), top]) {
    const y = H - v / top * (H - 10);
    s.append(svg("line", { x1: X, x2: W - R, y1: y, y2: y, class: "grid" }), svg("text", { x: X - 6, y: y + 4, class: "ax", "text-anchor": "end" }, v));
  }
  days.forEach((d, i) => {
    const g = svg("g", { class: "day" });
    g.append(svg("title", null, d.day + ": " + SERIES.map(k => T.st[k] + " " + (+d[k] || 0)).join(", ")));
    let y = H;
    for (const k of SERIES) {
      const v = +d[k] || 0;
      if (!v) continue;
      const hh = v / top * (H - 10);
      y -= hh;
      g.append(svg("rect", { x: X + i * bw + 1, y, width: Math.max(bw - 2, 1), height: hh, class: "b-" + k }));
    }
    s.append(g);
    if ((n - 1 - i) % 7 == 0) s.append(svg("text", { x: X + i * bw + bw / 2, y: H + 16, class: "ax", "text-anchor": "middle" }, String(d.day).slice(5)));
  });
  const legend = h("ul", { class: "legend" }, SERIES.map(k => h("li", null, h("span", { class: "sw b-" + k, "aria-hidden": "true" }), T.st[k])));
  const table = h("details", { class: "numbers" }, h("summary", null, T.asTable),
    h("table", null, h("caption", { class: "sr" }, T.perDay),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, T.day), SERIES.map(k => h("th", { scope: "col" }, T.st[k])), h("th", { scope: "col" }, T.total))),
      h("tbody", null, days.map(d => h("tr", null, h("th", { scope: "row" }, d.day), SERIES.map(k => h("td", null, String(+d[k] || 0))), h("td", null, String(sum(d))))))));
  return h("div", null, s, legend, table);
}

function logView() {
  const site = sitePick(true, "");
  const body = h("tbody");
  const older = h("button", { type: "button", class: "btn more", id: "older", hidden: true }, T.older);
  const none = h("p", { class: "muted", hidden: true }, T.noEntries);
  let before = null;
  main.append(h("h1", null, T.views.activity), h("div", { class: "filters" }, fld(T.site, site)),
    h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": T.views.activity },
      h("table", { class: "grid-t", id: "log" }, h("thead", null, h("tr", null,
        [T.time, T.comment, T.site, T.action, T.was, T.actor, T.reason].map(x => h("th", { scope: "col" }, x)))), body)),
    none, older);
  const load = async fresh => {
    busy(true);
    if (fresh) { body.textContent = ""; before = null; }
    try {
      const p = new URLSearchParams({ limit: "50" });
      if (site.value) p.set("site", site.value);
      if (before != null) p.set("before", before);
      const d = await api("GET", "/log?" + p);
      for (const x of d.entries || []) body.append(h("tr", null, h("td", null, when(x.at)), h("td", null, "#" + x.comment_id), h("td", null, x.site || ""),
        h("td", null, T.logAct[x.action] || x.action), h("td", null, x.from_status ? T.st[x.from_status] || x.from_status : ""),
        h("td", null, x.moderator || x.actor || ""), h("td", null, x.reason || "")));
      before = d.next_before != null ? d.next_before : null;
      older.hidden = before == null;
      none.hidden = !!body.firstChild;
    } catch (e) { fail(e); }
    busy(false, "activity");
  };
  site.addEventListener("change", () => load(true));
  older.addEventListener("click", () => load(false));
  load(true);
}

async function sitesView() {
  const box = h("div");
  main.append(h("h1", null, T.views.sites), box);
  let d;
  try { d = await api("GET", "/sites"); } catch (e) { fail(e); return busy(false, "sites"); }
  const loads = [];
  for (const s of d.sites || []) box.append(siteCard(s, loads));
  await Promise.all(loads);
  busy(false, "sites");
}

function siteCard(s, loads) {
  const hid = uid(), counts = h("p", { class: "muted" }, T.counts(s.comments || 0, s.pending || 0));
  const code = h("code", { id: "snippet-" + s.id }, s.embed_snippet || "");
  const copy = h("button", { type: "button", class: "btn sm copy", "data-site": s.id, "aria-label": T.copyOf(s.id) }, T.copy);
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(s.embed_snippet || ""); say(T.copied); } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      say(T.noCopy);
    }
  });
  const lines = a => (Array.isArray(a) ? a : []).join("\n");
  const card = h("section", { class: "part site", "aria-labelledby": hid, "data-site": s.id },
    h("h2", { id: hid }, s.name && s.name != s.id ? s.name + " (" + s.id + ")" : s.id), counts,
    h("h3", null, T.snippet), h("pre", { class: "snip" }, code), copy);
  if (me.role != "admin") {
    card.append(h("dl", { class: "facts" },
      [[T.moderation, (T.modes[s.moderation] || s.moderation)], [T.origins, lines(s.origins)], [T.rate, s.rate_limit || "–"],
        [T.mods, lines(s.moderators)], [T.avatars, T.avatarKinds[s.avatars] || s.avatars]].map(([k, v]) => [h("dt", null, k), h("dd", null, v || "–")])));
    return card;
  }
  const name = h("input", { type: "text", value: s.name || "" });
  const origins = h("textarea", { rows: "3" });
  origins.value = lines(s.origins);
  const mode = select(Object.keys(T.modes).map(k => [k, T.modes[k]]), s.moderation);
  const rate = h("input", { type: "text", value: s.rate_limit || "", spellcheck: "false" });
  const mods = h("textarea", { rows: "3" });
  mods.value = lines(s.moderators);
  const avatars = select(Object.keys(T.avatarKinds).map(k => [k, T.avatarKinds[k]]), s.avatars);
  const needName = h("input", { type: "checkbox", checked: !!s.require_author });
  const needEmail = h("input", { type: "checkbox", checked: !!s.require_email });
  const save = h("button", { type: "submit", class: "btn pri" }, T.save);
  const f = h("form", { class: "form site-form", "data-site": s.id, "aria-label": T.settingsOf(s.id) },
    fld(T.name, name), fld(T.moderation, mode), fld(T.origins, origins), fld(T.rate, rate), fld(T.mods, mods), fld(T.avatars, avatars),
    chk(T.needName, needName), chk(T.needEmail, needEmail), h("div", { class: "acts" }, save));
  const split = t => t.value.split(/[\n,]/).map(x => x.trim()).filter(Boolean);
  f.addEventListener("submit", async e => {
    e.preventDefault();
    calm();
    save.disabled = true;
    try {
      const n = await api("PATCH", "/sites/" + enc(s.id), { name: name.value.trim(), origins: split(origins), moderation: mode.value, rate_limit: rate.value.trim() || null,
        moderators: split(mods), avatars: avatars.value, require_author: needName.checked, require_email: needEmail.checked });
      counts.textContent = T.counts(n.comments || 0, n.pending || 0);
      say(T.siteSaved(s.id));
    } catch (x) { fail(x); } finally { save.disabled = false; }
  });
  const hooks = hooksPart(s.id);
  loads.push(hooks.loaded);
  card.append(f, hooks.el);
  return card;
}

async function blockView() {
  const kind = select(KINDS.map(k => [k, T.kind[k]]), "email");
  const value = h("input", { type: "text", id: "block-value", required: true, autocomplete: "off" });
  const reason = h("input", { type: "text", id: "block-add-reason", autocomplete: "off" });
  // An admin may block on every site at once; a moderator only on one of theirs.
  const admin = me.role == "admin", site = sitePick(admin, admin ? "" : (me.sites || [])[0]);
  site.id = "block-site";
  const f = h("form", { class: "filters", id: "block-add", "aria-label": T.add }, fld(T.block, kind), fld(T.value, value), fld(T.site, site),
    fld(T.reason, reason), h("button", { type: "submit", class: "btn pri" }, T.add));
  const body = h("tbody"), none = h("p", { class: "muted", hidden: true }, T.noBlocks);
  const table = h("table", { class: "grid-t", id: "blocklist" }, h("thead", null, h("tr", null,
    [T.block, T.value, T.site, T.reason, T.added, ""].map(x => h("th", { scope: "col" }, x || h("span", { class: "sr" }, T.remove))))), body);
  const rowOf = x => {
    const k = T.kind[x.kind] || x.kind, where = x.site || T.allSites;
    // Only an admin lifts a block that applies to every site.
    const del = (x.site || admin) && h("button", { type: "button", class: "btn sm", "aria-label": T.removeOf(k, x.value) + " (" + where + ")" }, T.remove);
    const tr = h("tr", { "data-kind": x.kind, "data-value": x.value, "data-site": x.site || "" }, h("td", null, k), h("td", null, x.value),
      h("td", null, where), h("td", null, x.reason || ""), h("td", null, when(x.created_at)), h("td", null, del));
    if (del) del.addEventListener("click", async () => {
      calm();
      try {
        await api("DELETE", "/blocklist?kind=" + enc(x.kind) + "&value=" + enc(x.value) + (x.site ? "&site=" + enc(x.site) : ""));
        const next = [tr.nextElementSibling, tr.previousElementSibling].find(r => r && r.querySelector("button"));
        tr.remove();
        none.hidden = !!body.firstChild;
        (next ? next.querySelector("button") : value).focus();
        say(T.removed(k, x.value));
      } catch (e) { fail(e); }
    });
    return tr;
  };
  f.addEventListener("submit", async e => {
    e.preventDefault();
    calm();
    if (!value.value.trim()) return value.focus();
    const b = { kind: kind.value, value: value.value.trim() };
    if (site.value) b.site = site.value;
    if (reason.value.trim()) b.reason = reason.value.trim();
    try {
      const x = await api("POST", "/blocklist", b);
      const same = r => r.dataset.kind == x.kind && r.dataset.value == x.value && r.dataset.site == (x.site || "");
      for (const r of [...body.rows]) if (same(r)) r.remove();  // blocking again replaces the reason
      const added = x.kind ? x : { ...b, created_at: Date.now() };
      body.prepend(rowOf(added));
      none.hidden = true;
      say(T.addedBlock(T.kind[added.kind], added.value));
      value.value = ""; reason.value = "";
    } catch (x) { fail(x); }
  });
  main.append(h("h1", null, T.views.blocklist), f, h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": T.views.blocklist }, table), none);
  try {
    const d = await api("GET", "/blocklist");
    for (const x of d.entries || []) body.append(rowOf(x));
    none.hidden = !!body.firstChild;
  } catch (e) { fail(e); }
  busy(false, "blocklist");
}

function transferView() {
  const site = sitePick(true, "");
  const links = h("ul", { class: "links", id: "export-links" });
  const fill = () => {
    links.textContent = "";
    for (const f of ["margin", "disqus", "csv"]) {
      const p = new URLSearchParams({ format: f });
      if (site.value) p.set("site", site.value);
      links.append(h("li", null, h("a", { href: API + "/export?" + p, "data-format": f }, T.export + ": " + T.fmt[f])));
    }
  };
  site.addEventListener("change", fill);
  fill();
  const file = h("input", { type: "file", id: "import-file", required: true });
  const format = select(["disqus", "wordpress", "isso", "margin"].map(f => [f, T.fmt[f]]), "disqus");
  format.id = "import-format";
  const into = sitePick(false, (me.sites || []).includes("default") ? "default" : (me.sites || [])[0]);
  into.id = "import-site";
  const dry = h("input", { type: "checkbox", id: "import-dry", checked: true });
  const bar = h("progress", { id: "import-progress", max: "100", value: "0", "aria-label": T.progress, hidden: true });
  const note = h("p", { id: "import-status", role: "status", class: "note" });
  const out = h("pre", { id: "import-result", class: "snip", hidden: true });
  const go = h("button", { type: "submit", class: "btn pri", id: "import-submit" }, T.import);
  const f = h("form", { class: "form", id: "import-form", "aria-label": T.import }, fld(T.file, file), fld(T.format, format), fld(T.site, into), chk(T.dry, dry),
    h("div", { class: "acts" }, go), bar, note, out);
  f.addEventListener("submit", e => {
    e.preventDefault();
    calm();
    out.hidden = true;
    if (!file.files[0]) { note.textContent = T.pickFile; return file.focus(); }
    const p = new URLSearchParams({ format: format.value, site: into.value, dry_run: dry.checked ? "1" : "0" });
    const x = new XMLHttpRequest();
    x.open("POST", API + "/import?" + p);
    x.setRequestHeader("Accept", "application/json");
    x.setRequestHeader("Content-Type", "application/octet-stream");
    if (me.csrf_token) x.setRequestHeader("X-CSRF-Token", me.csrf_token);
    x.upload.onprogress = ev => {
      if (!ev.lengthComputable) return;
      const pct = Math.floor(ev.loaded / ev.total * 100);
      bar.value = pct;
      note.textContent = T.uploading(pct);
    };
    x.upload.onload = () => { bar.removeAttribute("value"); note.textContent = T.importing; };
    const end = () => { go.disabled = false; bar.hidden = true; };
    x.onload = () => {
      end();
      let j = null;
      try { j = JSON.parse(x.responseText); } catch (err) { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) { note.textContent = T.imported; out.textContent = JSON.stringify(j, null, 2); out.hidden = false; return; }
      if (x.status == 401) return signIn(T.expired);
      note.textContent = "";
      fail({ status: x.status, message: j && j.error && typeof j.error.message == "string" ? j.error.message : "" });
    };
    x.onerror = () => { end(); note.textContent = ""; fail({ net: 1 }); };
    go.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    note.textContent = T.uploading(0);
    x.send(file.files[0]);
  });
  main.append(h("h1", null, T.views.transfer),
    h("section", { class: "part" }, h("h2", null, T.export), h("p", { class: "muted" }, T.exportHint), h("div", { class: "filters" }, fld(T.site, site)), links),
    h("section", { class: "part" }, h("h2", null, T.import), f));
  busy(false, "transfer");
}

function accountView() {
  const out = async (path, all) => {
    calm();
    try {
      const d = await api("POST", path);
      signIn(all ? T.revoked(d.revoked || 0) : T.signedOut);
    } catch (e) { fail(e); }
  };
  main.append(h("h1", null, T.views.account),
    h("dl", { class: "facts" }, h("dt", null, T.you), h("dd", { id: "account-email" }, me.email || ""),
      h("dt", null, T.role), h("dd", null, T.roles[me.role] || me.role || ""),
      h("dt", null, T.views.sites), h("dd", null, (me.sites || []).join(", ") || "–"),
      me.expires_at && [h("dt", null, T.ends), h("dd", null, when(me.expires_at))]),
    h("div", { class: "acts" },
      h("button", { type: "button", class: "btn", id: "sign-out", onclick: () => out("/sign-out") }, T.signOut),
      h("button", { type: "button", class: "btn", id: "sign-out-all", onclick: () => out("/sign-out-everywhere", true) }, T.signOutAll)));
  busy(false, "account");
}

Object.assign(views, { dashboard: dashView, activity: logView, sites: sitesView, blocklist: blockView, transfer: transferView, account: accountView });
