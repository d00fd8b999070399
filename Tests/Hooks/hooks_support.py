"""What the hook tests share: `margin serve` with short hook timings on SQLite or a PostgreSQL
database, its admin API through a bearer token, its CLI, receivers on 127.0.0.1 whose behaviour
the tests switch while they run, and bounded waiting.

Everything talks to 127.0.0.1 only.
"""
import contextlib
import html
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Browser"))
from support import BIN, ROOT, TEST_ORIGIN, Margin, free_port  # noqa: E402

# A short attempt limit and first retry, so failures and recoveries happen within seconds.
HOOK_ENV = {"MARGIN_HOOKS_TIMEOUT": "2", "MARGIN_HOOKS_FIRST_RETRY": "1"}
LOCAL_ORIGINS = ["http://blog.example", "http://127.0.0.1:*"]


def wait_until(fn, timeout, what):
    """fn()'s first truthy value, polling for at most timeout seconds; what() explains a miss."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")
        time.sleep(0.05)


class Node(Margin):
    """`margin serve` with a public URL, the hook settings of HOOK_ENV (or env), no limit on new
    threads, and an admin token (`self.token`); on its own SQLite file unless db names one (a
    postgres:// URL another node may share). The public URL is its own address, or with
    public_host that name and its port, as behind a proxy (`local()` undoes it)."""

    def __init__(self, db=None, env=None, public_host=None):
        self.dir = tempfile.mkdtemp(prefix="margin-hooks-")
        self.db = db or os.path.join(self.dir, "m.sqlite")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.public_url = f"http://{public_host}:{self.port}" if public_host else self.base
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--db", self.db, "--port", str(self.port), "--public-url", self.public_url, "--new-threads-per-hour", "0"],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **HOOK_ENV, **(env or {})})
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("margin serve exited: " + open(self.log.name).read())
            try:
                if urllib.request.urlopen(self.base + "/healthz", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("margin serve did not become healthy")
            time.sleep(0.1)
        self.cli("sites", "update", "default", "--rate-limit", "off")
        self.token = self.cli("admin", "token", "create", f"hooks-{self.port}").strip()

    def local(self, link):
        """A link of the public URL, to this node's own address."""
        return self.base + link[len(self.public_url):] if link.startswith(self.public_url) else link

    def run(self, *args):
        """The CLI on this node's database, whatever its exit status."""
        return subprocess.run([BIN, *args, "--db", self.db], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **HOOK_ENV})

    def api(self, method, path, body=None):
        """The admin API (`/api/v1/admin` + path) with the admin token: (status, JSON or None)."""
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + "/api/v1/admin" + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def add_site(self, site, moderation="none"):
        args = ["sites", "add", site, "--rate-limit", "off", "--moderation", moderation]
        for origin in LOCAL_ORIGINS:
            args += ["--origin", origin]
        self.cli(*args)
        return site

    def add_hook(self, **fields):
        """A hook made through the API (allowed to send to 127.0.0.1 unless told otherwise); its
        view with the secret in clear."""
        status, body = self.api("POST", "/hooks", {"allow_private": True, **fields})
        assert status == 201, (status, body)
        return body["hook"]

    def deliveries(self, hook_id):
        status, body = self.api("GET", f"/hooks/{hook_id}/deliveries?limit=200")
        assert status == 200, (status, body)
        return body["deliveries"]

    def comment(self, comment_id):
        status, body = self.api("GET", f"/comments/{comment_id}")
        assert status == 200, (status, body)
        return body["comment"]

    def post(self, uri, text, site="default", **kw):
        """A reader's comment; (status, answer, seconds the POST took)."""
        started = time.monotonic()
        status, c = self.request("POST", "/comments", {"site": site, "uri": uri, "text": text, **kw})
        assert status in (201, 202), (status, c)
        return status, c, time.monotonic() - started

    def edit(self, comment, text):
        status, c = self.request("PATCH", f"/comments/{comment['id']}", {"text": text},
                                 {"Authorization": "Bearer " + comment["edit_token"]})
        assert status == 200, (status, c)
        return c

    def remove(self, comment):
        req = urllib.request.Request(f"{self.base}/api/v1/comments/{comment['id']}", method="DELETE",
                                     headers={"Origin": TEST_ORIGIN, "Authorization": "Bearer " + comment["edit_token"]})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status in (200, 204), r.status

    def decide(self, comment_id, action):
        status, body = self.api("POST", f"/comments/{comment_id}/{action}", {})
        assert status == 200, (status, body)
        return body


class Receiver:
    """An HTTP endpoint on 127.0.0.1 recording every request (method, raw path, headers with
    lower-cased names, body). `mode` says how it answers from now on: "ok" (200), "500" (with a
    body far over the sender's read limit), "302" (to `redirect_to`), "slow" (200 only after
    `slow_seconds`, longer than the sender waits); `down()` closes its port (connection refused)
    and `up()` listens on it again."""

    def __init__(self):
        self.requests = []
        self.mode = "ok"
        self.redirect_to = "http://127.0.0.1:9/trap"
        self.slow_seconds = 5
        self.lock = threading.Lock()
        self.server = None
        self.port = 0
        self.up()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = self.read_body(headers)
                mode = receiver.mode
                with receiver.lock:
                    receiver.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body,
                                              "mode": mode, "at": time.monotonic()})
                try:
                    if mode == "slow":
                        time.sleep(receiver.slow_seconds)
                        self.answer(200, b"late")
                    elif mode == "500":
                        self.answer(500, b"receiver broken " + b"x" * 200_000)
                    elif mode == "302":
                        self.answer(302, b"moved", {"Location": receiver.redirect_to})
                    else:
                        self.answer(200, b'{"ok": "from receiver"}')
                except OSError:
                    pass  # the sender gave up on it (a slow answer, a body it stopped reading)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def read_body(self, headers):
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(headers.get("content-length") or 0))

            def answer(self, status, body, headers=None):
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", "Connection": "close", **(headers or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self, path="/hook"):
        return self.base + path

    def received(self, mode=None):
        """The requests so far (those answered in `mode` only, when given), each with its JSON."""
        with self.lock:
            found = [r for r in self.requests if mode is None or r["mode"] == mode]
        for r in found:
            try:
                r["json"] = json.loads(r["body"])
            except ValueError:
                r["json"] = None
        return found

    def event_ids(self, mode=None):
        return [r["headers"].get("webhook-id") for r in self.received(mode)]

    def events(self, mode=None):
        """(type, comment id) of every Standard Webhooks body received."""
        return sorted((r["json"]["type"], r["json"]["data"]["comment"]["id"]) for r in self.received(mode))

    def stop(self):
        self.down()


def strings(value):
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def moderation_links(base, value):
    """{action: link} of the signed moderation links in a message (HTML entities undone)."""
    pattern = re.compile(re.escape(base) + r"/moderate/\d+/(approve|reject|spam|delete)\?[^\s\"'<>|)\]]+")
    links = {}
    for s in strings(value):
        for m in pattern.finditer(html.unescape(s)):
            links.setdefault(m.group(1), m.group(0))
    return links


ACTIONS = ["approve", "reject", "spam", "delete"]


def open_link(link, method="GET"):
    """(status, page) of a signed link as a browser would open it or submit its form."""
    data = b"" if method == "POST" else None
    req = urllib.request.Request(link, data=data, method=method, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def shown(text):
    """Text as a chat service shows it: HTML entities, markdown's backslash escapes and word joiners undone."""
    return re.sub(r"\\(.)", r"\1", html.unescape(text)).replace("\u2060", "")


def cli_json(result):
    """The JSON a `margin … --json` command printed (a list, or the list in a one-key object)."""
    assert result.returncode == 0, result.stdout + result.stderr
    value = json.loads(result.stdout)
    return next(iter(value.values())) if isinstance(value, dict) else value


@contextlib.contextmanager
def postgres_cluster():
    """The cluster of MARGIN_TEST_POSTGRES_URL, or one started here with scripts/pg-cluster."""
    given = os.environ.get("MARGIN_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    folder = tempfile.mkdtemp(prefix="margin-hooks-pg-")
    script = str(ROOT / "scripts" / "pg-cluster")
    url = subprocess.run([script, "start", folder], check=True, capture_output=True, text=True, timeout=120).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([script, "stop", folder], capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", folder])


def fresh_database(cluster):
    """A new empty database on the cluster; its URL."""
    name = "hooks_" + uuid.uuid4().hex
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}", "-d", cluster],
                   check=True, capture_output=True, timeout=60)
    return cluster.rsplit("/", 1)[0] + "/" + name + "?sslmode=disable"
