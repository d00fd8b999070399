"""What the browser tests share: a real `margin serve`, a stand-in blog embedding the widget, the
SMTP sink, headless Chromium, and the XSS corpus with the instrumentation that catches a payload running.

Everything talks to 127.0.0.1 only; Chromium is pointed at a dead proxy for anything else.
"""
import html
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ["SE_AVOID_STATS"] = "true"
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("MARGIN_BIN", str(ROOT / ".build" / "debug" / "margin"))
XSS = pathlib.Path(os.environ.get("MARGIN_XSS", str(ROOT.parent / "shared" / "data" / "xss" / "dev.json")))
# The README's images: regenerate them with MARGIN_SCREENSHOTS=docs/screenshots; a plain test run
# writes to the git-ignored tmp/ and leaves the committed ones alone.
SHOTS = pathlib.Path(os.environ.get("MARGIN_SCREENSHOTS", str(ROOT / "tmp" / "screenshots")))
TEST_ORIGIN = "http://127.0.0.1:1"  # any 127.0.0.1 origin is one of the default site's


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Margin:
    """One `margin serve` on a free port with its own database; `public_url=True` adds
    `--public-url` of its own address (the console needs it for links and the CSRF origin)."""

    def __init__(self, *flags, public_url=False):
        self.dir = tempfile.mkdtemp(prefix="margin-browser-")
        self.db = os.path.join(self.dir, "m.sqlite")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        extra = ["--public-url", self.base] if public_url else []
        self.proc = subprocess.Popen([BIN, "serve", "--db", self.db, "--port", str(self.port), *extra, *flags],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(150):
            if self.proc.poll() is not None:
                raise RuntimeError("margin serve exited: " + open(self.log.name).read())
            try:
                if urllib.request.urlopen(self.base + "/healthz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("margin serve did not become healthy")
        self.cli("sites", "update", "default", "--rate-limit", "off")

    def cli(self, *args):
        return subprocess.run([BIN, *args, "--db", self.db], check=True, capture_output=True, text=True, timeout=120).stdout

    def request(self, method, path, body=None, headers=None):
        h = {"Origin": TEST_ORIGIN, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def post(self, uri, text, site="default", **kw):
        status, c = self.request("POST", "/comments", {"site": site, "uri": uri, "text": text, **kw})
        assert status in (201, 202), c
        return c

    def thread(self, uri, site="default"):
        return self.request("GET", "/comments?" + urllib.parse.urlencode({"site": site, "uri": uri}))[1]

    def count(self, uri):
        return self.request("POST", "/counts", {"site": "default", "uris": [uri]})[1]["counts"].get(uri, 0)

    def serves_embed(self):
        try:
            return urllib.request.urlopen(self.base + "/embed.js", timeout=2).status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SMTPSink:
    """Tests/TestSupport/smtp_sink.py (aiosmtpd) on 127.0.0.1, started as the Swift SMTPSink starts
    it: each accepted message becomes one JSON file in its folder."""

    SCRIPT = ROOT / "Tests" / "TestSupport" / "smtp_sink.py"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="margin-smtp-sink-")
        self.mail = os.path.join(self.dir, "mail")
        os.mkdir(self.mail)
        ready = os.path.join(self.dir, "ready")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        python = os.environ.get("MARGIN_TEST_PYTHON") or sys.executable
        self.proc = subprocess.Popen([python, str(self.SCRIPT), "--host", "127.0.0.1", "--port", "0", "--dir", self.mail,
                                      "--ready", ready, "--parent-pid", str(os.getpid())],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        for _ in range(600):
            if os.path.exists(ready):
                self.port = int(pathlib.Path(ready).read_text().strip())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the SMTP sink did not start: " + open(self.log.name).read())

    def flags(self):
        """`margin serve` flags that send its mail here."""
        return ["--smtp-host", "127.0.0.1", "--smtp-port", str(self.port), "--smtp-security", "none",
                "--mail-from", "margin@127.0.0.1"]

    def messages(self):
        """Every message received so far, oldest first, as smtp_sink.py records them."""
        names = sorted(n for n in os.listdir(self.mail) if n.endswith(".json"))
        return [json.loads(pathlib.Path(self.mail, n).read_text()) for n in names]

    def wait_for(self, match, timeout=20):
        """The first message for which match(message) holds, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if match(m)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no such mail in {timeout} s; got {[m['subject'] for m in self.messages()]}")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Blog:
    """A stand-in third-party blog on another 127.0.0.1 port: /page?site=&uri=&lang=&theme=&html_lang=&csp=&thread=
    embeds the widget with a <script> tag, the way a blog would."""

    def __init__(self, margin):
        # Its pages load the widget from the server, which must serve it: no copy stands in.
        assert margin.serves_embed(), f"{margin.base}/embed.js is not served"
        self.margin = margin
        blog = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/page":
                    return self.reply(blog.page(q).encode(), "text/html; charset=utf-8", q.get("csp") != "0")
                self.send_error(404)

            def reply(self, body, ctype, csp=False):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Cache-Control", "no-store")
                if csp:
                    m = blog.margin.base
                    self.send_header("Content-Security-Policy",
                                     f"default-src 'none'; script-src 'self' {m}; style-src 'self' {m}; "
                                     f"connect-src {m}; img-src 'self' data: {m} https://www.gravatar.com; base-uri 'none'")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, q):
        attrs = {"data-site": q.get("site", "default"), "data-uri": q.get("uri", "/demo/"), "data-title": "A test post"}
        for k in ("lang", "theme", "sort"):
            if q.get(k):
                attrs["data-" + k] = q[k]
        src = self.margin.base + "/embed.js"
        tag = "<script src=\"%s\" %s async></script>" % (
            html.escape(src), " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items()))
        thread = '<div id="margin-thread"></div>' if q.get("thread") != "0" else ""
        return f"""<!doctype html><html lang="{html.escape(q.get('html_lang', 'en'))}"><head><meta charset="utf-8">
<title>A test post</title></head><body><h1>A test post</h1><p>Some words.</p>{thread}
<ul><li><span data-margin-count="/demo/"></span></li><li><span data-margin-count="/demo/second/"></span></li>
<li><span data-margin-count="/demo/third/"></span></li></ul>{tag}</body></html>"""

    def url(self, **q):
        return self.base + "/page?" + urllib.parse.urlencode(q)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def make_driver(network_log=False):
    o = webdriver.ChromeOptions()
    if network_log:  # every request the page makes, read back with requested_urls()
        o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
              "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost",
              "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
              "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        o.add_argument(a)
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=o)


def wait(d, fn, timeout=10, msg=""):
    return WebDriverWait(d, timeout, poll_frequency=0.05).until(lambda _: fn(), msg)


def open_page(d, url):
    """Opens a page with the widget and waits until it has rendered its thread."""
    d.get(url)
    wait(d, lambda: d.execute_script(
        "const t=document.getElementById('margin-thread');return t&&t.getAttribute('data-margin-ready')!==null"),
        msg="widget never set data-margin-ready")
    return d.find_element(By.ID, "margin-thread").shadow_root


def uniq(word):
    return f"{word} {time.time_ns() % 10**9}"


def shot_path(name):
    """Where a screenshot goes (see SHOTS), its folder made."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


# ---- XSS -----------------------------------------------------------------------------------

def xss_payloads():
    # The corpus is part of the test data: missing or empty, the test fails rather than skips.
    assert XSS.exists(), f"{XSS} not found"
    payloads = [e["payload"] for e in json.loads(XSS.read_text()) if isinstance(e, dict) and e.get("payload")]
    assert len(payloads) > 1000, f"{XSS} holds {len(payloads)} payloads"
    return payloads


# Installed before any page script (Page.addScriptToEvaluateOnNewDocument): records every call a
# payload could make to show it ran.
INSTRUMENT = r"""
(() => {
  const calls = window.__xss = [];
  const rec = (kind, arg) => { try { calls.push([kind, String(arg).slice(0, 200)]); } catch (e) { calls.push([kind, '?']); } };
  for (const k of ['alert', 'confirm', 'prompt', 'print', 'open']) window[k] = function (a) { rec(k, a); };
  const f = window.fetch;
  window.fetch = function (u, o) { rec('fetch', u && u.url || u); return f.apply(this, arguments); };
  const xo = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (m, u) { rec('xhr', u); return xo.apply(this, arguments); };
  const ev = window.eval;
  window.eval = function (s) { rec('eval', s); return ev(s); };
  const F = window.Function;
  window.Function = function () { rec('Function', [...arguments].join()); return F.apply(this, arguments); };
  const dw = document.write.bind(document);
  document.write = function (s) { rec('document.write', s); return dw(s); };
  const sb = navigator.sendBeacon && navigator.sendBeacon.bind(navigator);
  if (sb) navigator.sendBeacon = function (u) { rec('beacon', u); return sb.apply(null, arguments); };
  window.__xssLoc = location.href;
  // What SETTLED waits for: timers of up to half a second still to fire, and frames drawn.
  const pending = window.__xssTimers = new Set();
  const st = window.setTimeout, ct = window.clearTimeout;
  window.setTimeout = function (fn, delay, ...rest) {
    if ((Number(delay) || 0) > 500) return st.apply(window, arguments);
    const id = st.call(window, function () {
      pending.delete(id);
      return typeof fn === 'function' ? fn.apply(this, rest) : window.eval(String(fn));
    }, delay);
    pending.add(id);
    return id;
  };
  window.clearTimeout = function (id) { pending.delete(id); return ct.call(window, id); };
  window.__xssFrames = 0;
  const frame = () => { window.__xssFrames++; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();
"""

# Whether the page has settled since frame arguments[0]: every image loaded or failed (firing
# its error handlers), every animation started (firing animationstart) and two more frames
# drawn, and no timer of up to half a second left to fire. Looks into the widget's shadow root
# when the page has one.
SETTLED = r"""
const host = document.getElementById('margin-thread'), R = host && host.shadowRoot;
const images = [...document.querySelectorAll('img'), ...(R ? R.querySelectorAll('img') : [])];
const animations = [...document.getAnimations(), ...(R ? R.getAnimations() : [])];
return images.every(i => i.complete) && animations.every(a => !a.pending)
  && window.__xssFrames >= arguments[0] + 2 && window.__xssTimers.size === 0;
"""

# Every event-handler attribute, script URL, and element that must never come out of a comment's
# text (.tx), in the document and its shadow roots.
SCAN = r"""
const bad = [];
const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc', 'background', 'poster'];
const walk = (n) => {
  for (const el of n.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase(), v = a.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(el.tagName + ' ' + name + '=' + a.value.slice(0, 80));
      if (urlAttrs.includes(name) && /^(javascript|vbscript|data:text\/html)/.test(v)) bad.push(el.tagName + ' ' + name + '=' + a.value.slice(0, 80));
    }
    if (el.closest && el.closest('.tx') && /^(SCRIPT|IFRAME|OBJECT|EMBED|BASE|META|LINK|FORM|STYLE|FRAME|FRAMESET|APPLET)$/.test(el.tagName))
      bad.push('element ' + el.tagName);
    if (el.shadowRoot) walk(el.shadowRoot);
  }
};
walk(document);
return bad;
"""
