#!/usr/bin/env python3
"""HTTP benchmark: Margin against Isso 0.14.0 (gunicorn, 2 workers) and nginx serving a static
copy of Margin's own answer. Not part of the test command.

    bench/http.sh                       # the documented entry: installs, builds, runs this
    RUNS=1 DURATION=3 WARMUP=1 BENCH_SKIP_BUILD=1 bench/http.sh     # a quick smoke run

What it does
  1. Seeds the same data into each server through its own HTTP API: one thread /big/ of 200
     comments, 500 threads /t/N/ of 10 comments, about 40 % replies, 100 distinct authors,
     15-60 words of markdown each. Margin runs with `--rate-limit off` (the posting limit of
     sites that set none) and its default site set to `--moderation none`; its spam scoring
     stays on. Isso runs with moderation and guard off.
  2. Runs every scenario with wrk (-t2 -c64 --latency --timeout 10s; WARMUP seconds of warm-up,
     then DURATION seconds measured), one server at a time, each scenario on a freshly started
     server and a fresh copy of its seeded database:
       a   GET the 200-comment thread (also against nginx: the same bytes as a static file)
       b   GET threads rotating over the 500
       c   counts for 20 pages (Margin POST /api/v1/counts, Isso POST /count)
       d   POST new comments rotating over the 500 threads
       e   mixed: 95 % GETs rotating over the 500 threads, 5 % POSTs
       h   GET a thread of BENCH_HUGE (10,000) comments, in a database of its own
     and, with BENCH_BIG=1, Margin alone on a database imported from bench/gen-disqus.py:
       big-one     GET one thread of about 10 comments (against small-one: /t/1/ of the
                   small database, 10 comments)
       big-rotate  GET threads rotating over all the big database's threads
  3. Samples VmRSS of the server and its children every 100 ms during each scenario (peak),
     times `margin serve` from start to the first 200 of /healthz, reads Margin's idle RSS
     after seeding and after each start, and the idle RSS of bench/floor's two hello-world
     servers (the floor of the stack) the same way.
  4. Repeats the set RUNS times and reports medians: results.md (Markdown table), results.json
     and chart.png (req/s per scenario and server, log scale) in bench/results/http-YYYYMMDD-HHMM/,
     the part kept in the repository; the raw outputs (wrk scripts and logs, the document nginx
     serves) in the git-ignored tmp/bench-raw/http-YYYYMMDD-HHMM/. Prints the table at the end.

Environment
  RUNS=3                 repeats of the whole set (medians are reported)
  DURATION=20            seconds each measured wrk run lasts
  WARMUP=5               seconds of warm-up before each measured run
  CONNECTIONS=64         wrk -c;  THREADS=2  wrk -t
  BENCH_ONLY=margin,isso,nginx   servers to run (comma-separated)
  BENCH_SCENARIOS=a,b,c,d,e,h    scenarios to run
  BENCH_SKIP_BUILD=1     use the existing .build/release/margin (bench/http.sh builds otherwise)
  BENCH_BIG=1            also the big-database scenarios; BENCH_BIG_POSTS=1000000 and
                         BENCH_BIG_THREADS=50000 size it (about a minute to import 1M)
  BENCH_HUGE=10000       comments in the huge thread of scenario h (0 skips it)
  BENCH_POSTGRES=1       also Margin on PostgreSQL (a private cluster, scripts/pg-cluster): the
                         seeded SQLite database moved in with `margin migrate`, then scenarios
                         a-e against one node (margin-pg1) and two nodes (margin-pg2), each
                         behind an nginx upstream (round robin, keep-alive) so that both pay
                         the same proxy; peak RSS is the nodes' only
  BENCH_DRAIN_LIMIT=60   seconds to wait, between wrk runs, for a server to finish requests
                         that wrk gave up on (gunicorn's sync workers answer every queued
                         request); past that the server is restarted on the same database
  BENCH_VENV             the virtualenv holding isso, gunicorn, matplotlib (tmp/bench-venv)
  MARGIN_BIN             the margin binary (default .build/release/margin)
  BENCH_FLOOR_BIN        where bench/floor's servers are (default bench/floor/.build/release):
                         a Hummingbird 2 hello-world and the same reading SQLite through GRDB,
                         whose idle RSS is the floor Margin's stack sets (skipped if not built)
  BENCH_OUT              the results folder (default bench/results/http-YYYYMMDD-HHMM)
  BENCH_RAW              the raw outputs' folder (default tmp/bench-raw/ and the results folder's name)

Every process it starts leads its own process group and is stopped by its PID (SIGTERM, then
SIGKILL of that group) when the scenario ends, and on exit, error or Ctrl-C.
"""
import atexit
import concurrent.futures
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
ENV = os.environ
RUNS = int(ENV.get("RUNS", "3"))
DURATION = int(ENV.get("DURATION", "20"))
WARMUP = int(ENV.get("WARMUP", "5"))
CONNECTIONS = int(ENV.get("CONNECTIONS", "64"))
THREADS = int(ENV.get("THREADS", "2"))
POSTGRES = ENV.get("BENCH_POSTGRES", "") not in ("", "0")
ONLY = [s.strip() for s in ENV.get("BENCH_ONLY", "margin,isso,nginx" + (",margin-pg1,margin-pg2" if POSTGRES else "")).split(",")
        if s.strip()]
PG_SERVERS = ("margin-pg1", "margin-pg2")
SCENARIOS = [s.strip() for s in ENV.get("BENCH_SCENARIOS", "a,b,c,d,e,h").split(",") if s.strip()]
BIG = ENV.get("BENCH_BIG", "") not in ("", "0")
BIG_POSTS = int(ENV.get("BENCH_BIG_POSTS", "1000000"))
BIG_THREADS = int(ENV.get("BENCH_BIG_THREADS", "50000"))
HUGE = int(ENV.get("BENCH_HUGE", "10000"))
DRAIN_LIMIT = int(ENV.get("BENCH_DRAIN_LIMIT", "60"))
VENV = Path(ENV.get("BENCH_VENV", REPO / "tmp" / "bench-venv"))
MARGIN_BIN = Path(ENV.get("MARGIN_BIN", REPO / ".build" / "release" / "margin"))
# The idle-RSS floor of the stack (bench/floor, built by bench/http.sh); skipped if not built.
FLOOR_BIN = Path(ENV.get("BENCH_FLOOR_BIN", REPO / "bench" / "floor" / ".build" / "release"))
FLOOR_SERVERS = ("hello-hummingbird", "hello-grdb")

SCENARIO_NAMES = {
    "a": "a: GET 200-comment thread",
    "b": "b: GET threads, rotating over 500",
    "c": "c: counts for 20 pages",
    "d": "d: POST comments, rotating over 500",
    "e": "e: mixed 95% GET / 5% POST",
    "h": "h: GET a {huge}-comment thread",
    "small-one": "GET one 10-comment thread, small DB",
    "big-one": "GET one ~10-comment thread, big DB",
    "big-rotate": "GET threads rotating over the big DB",
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes: started in their own session, stopped by PID -------------------------------

STARTED = {}  # pid -> Popen, for the exit backstop


def spawn(argv, log_path, env=None, cwd=None):
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=cwd,
                                start_new_session=True)
    STARTED[proc.pid] = proc
    return proc


def stop(proc, timeout=20):
    """SIGTERM to the process, then SIGKILL to the group it leads (a worker that outlived it)."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)
    STARTED.pop(proc.pid, None)


def stop_all():
    for proc in list(STARTED.values()):
        stop(proc, timeout=5)


def process_tree(pid):
    """pid and all its descendants, from /proc/PID/task/*/children."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def tree_rss_kb(pid, field="VmRSS"):
    """Resident kB of a process tree; `field` RssAnon gives its private memory only (RSS less
    the clean pages of the executable and shared libraries it has mapped)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class RssSampler:
    """Peak VmRSS of a process tree, sampled every 100 ms on a background thread."""

    def __init__(self, server):
        self.server, self.peak_kb = server, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            # changes if the server is restarted; several for Margin's nodes on PostgreSQL
            procs = getattr(self.server, "nodes", None) or [self.server.proc]
            if all(proc is not None for proc in procs):
                self.peak_kb = max(self.peak_kb, sum(tree_rss_kb(proc.pid) for proc in procs))
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def tree_cpu_ticks(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def wait_quiet(pid, label, limit):
    """Waits until the server tree has used (almost) no CPU for half a second: a server that
    queues requests (gunicorn's sync workers) is still answering the warm-up's or the previous
    scenario's requests after wrk has closed their connections."""
    start = time.monotonic()
    last = tree_cpu_ticks(pid)
    while time.monotonic() - start < limit:
        time.sleep(0.5)
        now = tree_cpu_ticks(pid)
        if now - last <= 2:  # 20 ms of CPU in 500 ms
            break
        last = now
    else:
        return None
    waited = time.monotonic() - start
    if waited > 1.5:
        log(f"  {label}: waited {waited:.1f}s for the server to finish queued requests")
    return waited


def settle(server, label):
    """The server idle again, restarted on the same database if it stays busy too long."""
    if wait_quiet(server.proc.pid, label, DRAIN_LIMIT) is None:
        log(f"  {label}: still busy after {DRAIN_LIMIT}s with requests wrk gave up on: restarting {server.name}")
        server.stop()
        server.start(server.db)
        return 1
    return 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(url, proc, log_path, timeout=60):
    """Milliseconds from now until `url` answers 200; fails if the process dies first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; its log:\n{Path(log_path).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return (time.monotonic() - start) * 1000
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.005)
    sys.exit(f"{url} not ready after {timeout}s; log:\n{Path(log_path).read_text()[-3000:]}")


# --- the data -------------------------------------------------------------------------------

WORDS = ("the a comment thanks great post swift server blog reply agree think code example really "
         "because question answer nice read about this that with from but and also sqlite cache "
         "latency deploy release version build test feature bug fix idea point article").split()
AUTHORS = [f"{first} {last}" for first in ("Ada", "Bo", "Cai", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
           for last in ("Abe", "Berg", "Cruz", "Diaz", "Eng", "Ford", "Gray", "Holm", "Ito", "Jain")]  # 100


def markdown_text(rng):
    """15-60 words with some markdown: emphasis, code, now and then a list or a quote."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(15, 60))]
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(words))
        words[i] = rng.choice(("**{}**", "*{}*", "`{}`", "_{}_")).format(words[i])
    text = " ".join(words)
    kind = rng.random()
    if kind < 0.15:
        cut = len(words) // 2
        text = " ".join(words[:cut]) + "\n\n- " + "\n- ".join(words[cut:cut + 3]) + "\n\n" + " ".join(words[cut + 3:])
    elif kind < 0.25:
        text = "> " + text
    return text[0].upper() + text[1:] if text[0].isalpha() else text


def thread_plan(rng, uri, count, reply_share=0.4):
    """Comments of one thread: (uri, index, parent index or None, text, author)."""
    plan = []
    for i in range(count):
        parent = rng.randrange(i) if i and rng.random() < reply_share else None
        plan.append((uri, i, parent, markdown_text(rng), rng.choice(AUTHORS)))
    return plan


def small_plan():
    rng = random.Random(20240601)
    threads = [("/big/", "The big thread", thread_plan(rng, "/big/", 200))]
    threads += [(f"/t/{n}/", f"Post {n}", thread_plan(rng, f"/t/{n}/", 10)) for n in range(1, 501)]
    return threads


def huge_plan():
    rng = random.Random(10000)
    return [("/huge/", "The huge thread", thread_plan(rng, "/huge/", HUGE))]


def seed(server, threads, workers=8):
    """Posts every comment through the server's API, depth by depth, `workers` at a time."""
    depth, titles = {}, {}
    for uri, title, comments in threads:
        titles[uri] = title
        for uri_, i, parent, *_ in comments:
            depth[(uri, i)] = 0 if parent is None else depth[(uri, parent)] + 1
    ids = {}
    levels = {}
    for uri, _, comments in threads:
        for c in comments:
            levels.setdefault(depth[(uri, c[1])], []).append(c)
    # the first comment of each thread first, alone, so that the thread is created once
    firsts = [comments[0] for _, _, comments in threads]
    start, lock = time.monotonic(), threading.Lock()

    def post(c):
        uri, i, parent, text, author = c
        status, body = server.post(uri, titles[uri], text, author, None if parent is None else ids[(uri, parent)])
        if status not in (200, 201, 202):
            raise RuntimeError(f"{server.name}: seeding {uri} answered {status}: {body[:300]!r}")
        with lock:
            ids[(uri, i)] = json.loads(body)["id"]

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(post, firsts))
        first_set = {(c[0], c[1]) for c in firsts}
        for level in sorted(levels):
            list(pool.map(post, [c for c in levels[level] if (c[0], c[1]) not in first_set]))
    total = sum(len(c) for _, _, c in threads)
    log(f"{server.name}: seeded {total} comments in {time.monotonic() - start:.1f}s")
    return total


# --- servers ---------------------------------------------------------------------------------

class Server:
    """What every server under test shares: it runs as one process tree on a free port."""
    name = "server"

    def __init__(self, work):
        self.work, self.proc = work, None

    def stop(self):
        stop(self.proc)
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def post(self, uri, title, text, author, parent=None):
        """Posts one comment through the server's own API (see `post_request`)."""
        method, path, body = self.post_request(uri, title, text, author, parent)
        return http(method, self.base + path, body)


class Margin(Server):
    name = "margin"

    def start(self, db):
        self.db = db
        self.port = free_port()
        self.log = self.work / "margin.log"
        argv = [str(MARGIN_BIN), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(self.port),
                "--rate-limit", "off", "--log-level", "warning"]
        self.proc = spawn(argv, self.log, cwd=self.work)
        return wait_ready(f"{self.base}/healthz", self.proc, self.log)

    def thread_path(self, uri):
        return f"/api/v1/comments?site=default&uri={quote(uri, safe='/')}"

    def counts_request(self, uris):
        return "POST", "/api/v1/counts", {"site": "default", "uris": uris}

    def post_request(self, uri, title, text, author, parent=None):
        body = {"site": "default", "uri": uri, "title": title, "text": text, "author": author}
        if parent is not None:
            body["parent"] = parent
        return "POST", "/api/v1/comments", body


class PostgresCluster:
    """A private PostgreSQL cluster (scripts/pg-cluster), stopped at exit."""

    def __init__(self):
        # Not under the work folder: run as root, the cluster runs as `postgres`, who must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="margin-bench-pg-"))
        atexit.register(shutil.rmtree, self.folder, True)
        atexit.register(subprocess.run, [str(REPO / "scripts" / "pg-cluster"), "stop", str(self.folder)],
                        capture_output=True)
        started = subprocess.run([str(REPO / "scripts" / "pg-cluster"), "start", str(self.folder)],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            sys.exit(f"scripts/pg-cluster start failed:\n{started.stderr}")
        self.url = started.stdout.strip()

    def database(self, name):
        return self.url.rsplit("/", 1)[0] + f"/{name}?sslmode=disable"

    def sql(self, statement):
        subprocess.run(["psql", self.url, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement], check=True,
                       capture_output=True, text=True)


class MarginPostgres(Margin):
    """`margin serve` nodes on one PostgreSQL database, behind an nginx upstream. `start(db)`
    takes the name of a seeded template database and starts on a fresh copy of it."""

    def __init__(self, work, cluster, nodes):
        super().__init__(work)
        self.cluster, self.count, self.nodes, self.proxy = cluster, nodes, [], None
        self.name = f"margin-pg{nodes}"

    def start(self, db):
        self.db = db
        database = f"run_{self.count}"
        self.cluster.sql(f"DROP DATABASE IF EXISTS {database}")
        self.cluster.sql(f"CREATE DATABASE {database} TEMPLATE {db}")
        url = self.cluster.database(database)
        ports = []
        for n in range(self.count):
            port = free_port()
            log_path = self.work / f"{self.name}-{n}.log"
            argv = [str(MARGIN_BIN), "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port),
                    "--rate-limit", "off", "--log-level", "warning"]
            node = spawn(argv, log_path, cwd=self.work)
            wait_ready(f"http://127.0.0.1:{port}/healthz", node, log_path)
            self.nodes.append(node)
            ports.append(port)
        self.proc = self.nodes[0]
        self.proxy = Nginx(self.work / self.name, None)
        self.proxy.upstream = ports
        started = self.proxy.start()
        self.port = self.proxy.port
        return started

    def stop(self):
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        for node in self.nodes:
            stop(node)
        self.nodes, self.proc = [], None


class Isso(Server):
    name = "isso"

    def start(self, db):
        self.db = db
        self.port = free_port()
        site = free_port()  # nobody listens there: Isso's check of the site fails at once
        cfg = self.work / "isso.cfg"
        cfg.write_text(f"""[general]
dbpath = {db}
host = http://127.0.0.1:{site}
notify = stdout
gravatar = false

[moderation]
enabled = false

[server]
listen = http://127.0.0.1:{self.port}

[guard]
enabled = false

[admin]
enabled = false
""")
        self.log = self.work / "isso.log"
        env = dict(ENV, ISSO_SETTINGS=str(cfg))
        argv = [str(VENV / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
                "--graceful-timeout", "5", "isso.run"]
        self.proc = spawn(argv, self.log, env=env, cwd=self.work)
        return wait_ready(f"{self.base}/config", self.proc, self.log)

    def thread_path(self, uri):
        return f"/?uri={quote(uri, safe='/')}"

    def counts_request(self, uris):
        return "POST", "/count", uris

    def post_request(self, uri, title, text, author, parent=None):
        body = {"text": text, "author": author, "title": title}
        if parent is not None:
            body["parent"] = parent
        return "POST", f"/new?uri={quote(uri, safe='/')}", body


class Nginx(Server):
    """nginx serving one file for every path: Margin's own answer for /big/, byte for byte."""
    name = "nginx"

    def __init__(self, work, document):
        self.work, self.document, self.proc = work, document, None
        # ports of Margin nodes to proxy to, instead of serving the document
        self.upstream = None

    def start(self, db=None):
        self.db = db
        self.port = free_port()
        root = self.work / "nginx"
        for d in ("logs", "tmp", "www"):
            (root / d).mkdir(parents=True, exist_ok=True)
        if self.document is not None:
            shutil.copy(self.document, root / "www" / "big.json")
        upstream, location = "", """location / {
            default_type application/json;
            try_files /big.json =404;
        }"""
        if self.upstream:
            servers = "".join(f"server 127.0.0.1:{port};" for port in self.upstream)
            upstream = f"upstream margin {{ {servers} keepalive 64; }}"
            location = """location / {
            proxy_pass http://margin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }"""
        user = ""
        if os.geteuid() == 0:  # the workers would drop to nobody, who cannot read this folder
            import pwd
            user = f"user {pwd.getpwuid(os.getuid()).pw_name};"
        (root / "nginx.conf").write_text(f"""{user}
daemon off;
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    {upstream}
    server {{
        listen 127.0.0.1:{self.port};
        root {root}/www;
        {location}
    }}
}}
""")
        self.log = root / "logs" / "stdout.log"
        argv = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(root), "-c", str(root / "nginx.conf"),
                "-e", str(root / "logs" / "error.log")]
        self.proc = spawn(argv, self.log, cwd=root)
        return wait_ready(f"{self.base}/" + ("healthz" if self.upstream else ""), self.proc, self.log)

    def thread_path(self, uri):
        return Margin.thread_path(None, uri)


# --- wrk -------------------------------------------------------------------------------------

def lua_str(s):
    """A Lua string literal for any text (byte escapes: LuaJIT has no \\u)."""
    out = []
    for b in s.encode():
        ch = chr(b)
        if b >= 32 and b < 127 and ch not in '"\\':
            out.append(ch)
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def request_lines(requests):
    """One request a line, method TAB path TAB body (JSON has no raw tab or newline)."""
    return "".join(f"{m}\t{p}\t{'' if b is None else json.dumps(b)}\n" for m, p, *rest in requests
                   for b in [rest[0] if rest else None])


LUA_DONE = r"""
local threads_ = {}
function setup(thread)
    thread:set("offset", #threads_ * 7919)
    table.insert(threads_, thread)
end
function done(summary, latency, requests)
    local statuses = {}
    for _, t in ipairs(threads_) do
        local c = t:get("statuses")
        if c then for k, v in pairs(c) do statuses[k] = (statuses[k] or 0) + v end end
    end
    local parts = {}
    for k, v in pairs(statuses) do table.insert(parts, string.format('"%s":%d', tostring(k), v)) end
    local e = summary.errors
    io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
        '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
        '"statuses":{%s}}\n', summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, latency.mean, table.concat(parts, ",")))
end
"""

LUA_STATUS = r"""
statuses = {}
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
"""


def lua_static(method, path, body=None):
    """One request, the same every time (wrk builds it once)."""
    lines = [f"wrk.method = {lua_str(method)}", f"wrk.path = {lua_str(path)}"]
    if body is not None:
        lines += [f"wrk.body = {lua_str(json.dumps(body))}", 'wrk.headers["Content-Type"] = "application/json"']
    return "\n".join(lines) + "\n" + LUA_DONE


def lua_rotating(reads, writes=(), write_every=0, count_statuses=False):
    """Requests taken in turn from `reads`; with `writes` and write_every=N, every Nth request is
    taken from `writes` instead (write_every=0: writes only). The requests go to files that each
    wrk thread reads in init(): a Lua table literal of 50,000 strings is too much for LuaJIT."""
    return {"reads": request_lines(reads), "writes": request_lines(writes), "lua": f"""
local reads, writes, n, r, w = {{}}, {{}}, 0, 0, 0
local function load(path, into)
    for line in io.lines(path) do
        local m, p, b = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
        if b == "" then
            table.insert(into, wrk.format(m, p))
        else
            table.insert(into, wrk.format(m, p, {{["Content-Type"] = "application/json"}}, b))
        end
    end
end
function init(args)
    load(args[1], reads)
    load(args[2], writes)
    r = (offset or 0) % math.max(#reads, 1)
    w = (offset or 0) % math.max(#writes, 1)
end
function request()
    n = n + 1
    if #writes > 0 and ({write_every} == 0 or n % {max(write_every, 1)} == 0) then
        w = w % #writes + 1
        return writes[w]
    end
    r = r % #reads + 1
    return reads[r]
end
{LUA_STATUS if count_statuses else ""}
{LUA_DONE}
"""}


def run_wrk(base, script_text, out_dir, label, duration):
    script = out_dir / f"{label.replace('.warmup', '')}.lua"
    args = []
    if isinstance(script_text, dict):
        for kind in ("reads", "writes"):
            path = out_dir / f"{label.replace('.warmup', '')}.{kind}.txt"
            path.write_text(script_text[kind])
            args.append(str(path))
        script_text = script_text["lua"]
    script.write_text(script_text)
    # the path in the URL is a default only: every script sets its own
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "--timeout", "10s",
            "-s", str(script), base + "/", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    (out_dir / f"{label}.txt").write_text(" ".join(argv) + "\n\n" + done.stdout + done.stderr)
    match = re.search(r"^BENCHJSON (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed for {label}:\n{done.stdout}\n{done.stderr}")
    m = json.loads(match.group(1))
    seconds = m["duration_us"] / 1e6
    answered = m["requests"] > 0  # requests still waiting when wrk stops count nowhere
    return {
        "rps": m["requests"] / seconds if seconds else 0.0,
        "p50_ms": m["p50_us"] / 1000 if answered else None,
        "p90_ms": m["p90_us"] / 1000 if answered else None,
        "p99_ms": m["p99_us"] / 1000 if answered else None,
        "requests": m["requests"],
        "errors": m["status"] + m["connect"] + m["read"] + m["write"] + m["timeout"],
        "non2xx": m["status"], "socket_errors": m["connect"] + m["read"] + m["write"] + m["timeout"],
        "statuses": m["statuses"],
    }


class ReadProbe:
    """While wrk runs a mixed load, one more client GETs threads one after another (keep-alive,
    about 50 a second) and times each: wrk's latency mixes reads and writes, and the target is
    about reads while writes run."""

    def __init__(self, server, paths):
        self.server, self.paths, self.times = server, paths, []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        url = urllib.parse.urlsplit(self.server.base)
        conn = HTTPConnection(url.hostname, url.port, timeout=10)
        k = 0
        while not self.stop_event.is_set():
            path = self.paths[k % len(self.paths)]
            k += 1
            start = time.monotonic()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.times.append((time.monotonic() - start) * 1000)
            except OSError:
                conn.close()
                conn = HTTPConnection(url.hostname, url.port, timeout=10)
            self.stop_event.wait(0.02)
        conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(15)

    def percentile(self, p):
        if not self.times:
            return None
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def measure(server, script_text, out_dir, label, probe_paths=None):
    """Warm-up, then the measured run, with the server tree's RSS sampled throughout (and, with
    `probe_paths`, read latency probed beside it)."""
    restarts = settle(server, label + " (before)")
    with RssSampler(server) as rss:
        if WARMUP > 0:
            run_wrk(server.base, script_text, out_dir, label + ".warmup", WARMUP)
            restarts += settle(server, label + " (after warm-up)")
        if probe_paths:
            with ReadProbe(server, probe_paths) as probe:
                result = run_wrk(server.base, script_text, out_dir, label, DURATION)
            result["probe_reads"] = len(probe.times)
            result["probe_p50_ms"] = probe.percentile(50)
            result["probe_p99_ms"] = probe.percentile(99)
        else:
            result = run_wrk(server.base, script_text, out_dir, label, DURATION)
    result["peak_rss_mb"] = rss.peak_kb / 1024
    result["restarts"] = restarts
    log(f"  {label}: {result['rps']:.0f} req/s, p50 {fmt(result['p50_ms'], '.2f')} ms, p99 {fmt(result['p99_ms'], '.2f')} ms, "
        f"errors {result['errors']}, peak RSS {result['peak_rss_mb']:.0f} MB"
        + (f", statuses {result['statuses']}" if result["statuses"] else ""))
    return result


def post_probe(server, count=30):
    """Median milliseconds of `count` POSTs sent one after another (no concurrency)."""
    rng, times = random.Random(99), []
    for k in range(count):
        n = k % 500 + 1
        start = time.monotonic()
        status, body = server.post(f"/t/{n}/", f"Post {n}", markdown_text(rng), rng.choice(AUTHORS))
        times.append((time.monotonic() - start) * 1000)
        if status not in (200, 201, 202):
            log(f"  post probe: {server.name} answered {status}: {body[:200]!r}")
    return statistics.median(times)


def post_probe_big(server, uris, count=30):
    rng, times = random.Random(98), []
    for k in range(count):
        start = time.monotonic()
        status, body = server.post(uris[k * 7 % len(uris)], None, markdown_text(rng), rng.choice(AUTHORS))
        times.append((time.monotonic() - start) * 1000)
        if status not in (200, 201, 202):
            log(f"  post probe: big database answered {status}: {body[:200]!r}")
    return statistics.median(times)


def write_requests(server, rng, count=2000):
    """POSTs rotating over the 500 small threads, each with its own text."""
    reqs = []
    for k in range(count):
        n = k % 500 + 1
        reqs.append(server.post_request(f"/t/{n}/", f"Post {n}", markdown_text(rng), rng.choice(AUTHORS)))
    return reqs


def scenario_scripts(server, huge_uri=None):
    rng = random.Random(7)
    uris = [f"/t/{n}/" for n in range(1, 501)]
    reads = [("GET", server.thread_path(u)) for u in uris]
    scripts = {"a": lua_static("GET", server.thread_path("/big/"))}
    if isinstance(server, Nginx):
        return scripts
    scripts["b"] = lua_rotating(reads)
    method, path, body = server.counts_request(rng.sample(uris, 20))
    scripts["c"] = lua_static(method, path, body)
    scripts["d"] = lua_rotating([], write_requests(server, rng), count_statuses=True)
    scripts["e"] = lua_rotating(reads, write_requests(server, rng), write_every=20, count_statuses=True)
    scripts["small-one"] = lua_static("GET", server.thread_path("/t/1/"))
    return scripts


# --- the run ---------------------------------------------------------------------------------

def copy_db(src, dst):
    for suffix in ("", "-wal", "-shm"):
        if Path(str(src) + suffix).exists():
            shutil.copy(str(src) + suffix, str(dst) + suffix)
        elif Path(str(dst) + suffix).exists():
            os.remove(str(dst) + suffix)


def margin_cli(*args):
    done = subprocess.run([str(MARGIN_BIN), *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"margin {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare(work, raw_out):
    """Seeded databases for every server, Margin's /big/ document, and the one-off figures."""
    facts, golden = {}, {}
    if "margin" in ONLY or "nginx" in ONLY:
        m = Margin(work)
        db = work / "margin-golden.sqlite"
        facts["margin_start_empty_ms"] = m.start(db)  # creates the default site
        m.stop()
        margin_cli("sites", "update", "default", "--moderation", "none", "--db", str(db))
        m.start(db)
        facts["margin_seeded_comments"] = seed(m, small_plan())
        time.sleep(2)
        facts["margin_idle_rss_after_seeding_mb"] = tree_rss_kb(m.proc.pid) / 1024
        status, document = http("GET", m.base + m.thread_path("/big/"))
        if status != 200:
            sys.exit(f"margin GET /big/ answered {status}")
        facts["big_document_bytes"] = len(document)
        facts["big_document_total"] = json.loads(document).get("total")
        (work / "big.json").write_bytes(document)
        (raw_out / "margin-big.json").write_bytes(document)
        m.stop()
        golden["margin"] = db
        facts["margin_sites"] = margin_cli("sites", "list", "--db", str(db)).strip()
    if any(name in ONLY for name in PG_SERVERS):
        if "margin" not in golden:
            sys.exit("the PostgreSQL servers start from Margin's seeded database: keep margin in BENCH_ONLY")
        cluster = PostgresCluster()
        facts["postgres_cluster"] = cluster
        cluster.sql("CREATE DATABASE golden")
        start = time.monotonic()
        margin_cli("migrate", "--from", str(golden["margin"]), "--to", cluster.database("golden"))
        facts["postgres_migrate_s"] = time.monotonic() - start
        log(f"postgres: seeded database moved in with margin migrate in {facts['postgres_migrate_s']:.1f}s")
        for name in PG_SERVERS:
            golden[name] = "golden"
    if "isso" in ONLY:
        i = Isso(work)
        db = work / "isso-golden.db"
        i.start(db)
        facts["isso_seeded_comments"] = seed(i, small_plan())
        time.sleep(2)
        facts["isso_idle_rss_after_seeding_mb"] = tree_rss_kb(i.proc.pid) / 1024
        status, document = http("GET", i.base + i.thread_path("/big/"))
        facts["isso_big_document_bytes"] = len(document)
        i.stop()
        golden["isso"] = db
    if "h" in SCENARIOS and HUGE > 0:
        for cls in (Margin, Isso):
            if cls.name not in ONLY:
                continue
            s = cls(work)
            db = work / f"{cls.name}-huge.{'sqlite' if cls is Margin else 'db'}"
            s.start(db)
            seed(s, huge_plan(), workers=8)
            s.stop()
            golden[cls.name + "-huge"] = db
    if BIG and "margin" in ONLY:
        xml = work / "big.xml"
        log(f"generating a Disqus export of {BIG_POSTS} posts over {BIG_THREADS} threads")
        with open(xml, "w") as f:
            subprocess.run([sys.executable, str(REPO / "bench" / "gen-disqus.py"), str(BIG_POSTS), str(BIG_THREADS)],
                           stdout=f, check=True)
        db = work / "margin-big.sqlite"
        start = time.monotonic()
        margin_cli("import", "disqus", str(xml), "--db", str(db), "--json")
        facts["big_import_s"] = time.monotonic() - start
        os.remove(xml)
        con = sqlite3.connect(db)
        facts["big_comments"] = con.execute("SELECT count(*) FROM comments").fetchone()[0]
        facts["big_threads"] = con.execute("SELECT count(*) FROM threads").fetchone()[0]
        # a thread of about 10 visible comments, to set against /t/1/ of the small database
        uri, n = con.execute("SELECT t.uri, count(*) AS n FROM threads t JOIN comments c ON c.thread_id = t.id "
                             "WHERE c.status = 'approved' GROUP BY t.id ORDER BY abs(n - 10), t.id LIMIT 1").fetchone()
        facts["big_one_uri"], facts["big_one_comments"] = uri, n
        facts["big_uris"] = [r[0] for r in con.execute("SELECT uri FROM threads ORDER BY id")]
        con.close()
        log(f"big database: {facts['big_comments']} comments, {facts['big_threads']} threads, "
            f"imported in {facts['big_import_s']:.1f}s; one-thread GET on {uri} ({n} comments)")
        golden["margin-big"] = db
    return facts, golden


def floor_idle_rss(work, name):
    """Idle RSS of one bench/floor server, measured as Margin's is: started, first 200 of
    /healthz, half a second, VmRSS. None if it is not built."""
    binary = FLOOR_BIN / name
    if not binary.exists():
        return None
    port = free_port()
    log_path = work / f"{name}.log"
    proc = spawn([str(binary), str(port), str(work / f"{name}.sqlite")], log_path, cwd=work)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", proc, log_path)
        time.sleep(0.5)
        return {"idle_rss_mb": tree_rss_kb(proc.pid) / 1024, "idle_anon_mb": tree_rss_kb(proc.pid, "RssAnon") / 1024}
    finally:
        stop(proc)


def run_once(run, work, out, golden, facts, results):
    raw = out / f"run{run}"
    raw.mkdir(exist_ok=True)

    def record(scenario, server_name, result):
        results.setdefault((scenario, server_name), []).append(result)

    if "margin" in ONLY:
        for name in FLOOR_SERVERS:
            measured = floor_idle_rss(work, name)
            if measured:
                record("idle", name, measured)

    for name in ("margin", "isso", "nginx", *PG_SERVERS):
        if name not in ONLY:
            continue
        db = None
        if name in PG_SERVERS:
            server = MarginPostgres(work, facts["postgres_cluster"], nodes=int(name[-1]))
            db = golden[name]
        elif name == "nginx":
            server = Nginx(work, work / "big.json")
        else:
            server = (Margin if name == "margin" else Isso)(work)
        if name in ("margin", "isso"):
            db = work / f"{name}-run.{'sqlite' if name == 'margin' else 'db'}"
            copy_db(golden[name], db)
        log(f"run {run}: {name}")
        started = server.start(db)
        if name == "margin":
            results.setdefault(("startup", "margin"), []).append({"startup_ms": started})
            time.sleep(0.5)
            results.setdefault(("idle", "margin"), []).append({
                "idle_rss_mb": tree_rss_kb(server.proc.pid) / 1024,
                "idle_anon_mb": tree_rss_kb(server.proc.pid, "RssAnon") / 1024})
        try:
            if name != "nginx":
                ms = post_probe(server)
                log(f"  {name}: one POST at a time, median {ms:.1f} ms")
                results.setdefault(("post-probe", name), []).append({"post_ms": ms})
            scripts = scenario_scripts(server)
            wanted = [s for s in SCENARIOS if s in scripts and s != "h"]
            if BIG and name == "margin":
                wanted.append("small-one")
            probe_paths = [server.thread_path(f"/t/{n}/") for n in range(1, 501)]
            for index, scenario in enumerate(wanted):
                if index > 0 and db is not None:
                    # Every scenario starts from the seeded data: otherwise a faster server
                    # would face a bigger database (and longer threads) after (d) than a slower one.
                    server.stop()
                    if name not in PG_SERVERS:  # a PostgreSQL server starts on a fresh copy itself
                        copy_db(golden[name], db)
                    server.start(db)
                record(scenario, name, measure(server, scripts[scenario], raw, f"{scenario}-{name}",
                                               probe_paths if scenario == "e" else None))
        finally:
            server.stop()
        if "h" in SCENARIOS and name + "-huge" in golden:
            copy_db(golden[name + "-huge"], db)
            server.start(db)
            try:
                record("h", name, measure(server, lua_static("GET", server.thread_path("/huge/")), raw, f"h-{name}"))
            finally:
                server.stop()
    if "margin-big" in golden:
        m = Margin(work)
        log(f"run {run}: margin, big database")
        m.start(golden["margin-big"])
        try:
            record("big-one", "margin", measure(m, lua_static("GET", m.thread_path(facts["big_one_uri"])), raw, "big-one-margin"))
            ms = post_probe_big(m, facts["big_uris"])
            log(f"  margin, big database: one POST at a time, median {ms:.1f} ms")
            results.setdefault(("post-probe", "margin-big"), []).append({"post_ms": ms})
            reads = [("GET", m.thread_path(u)) for u in facts["big_uris"]]
            record("big-rotate", "margin", measure(m, lua_rotating(reads), raw, "big-rotate-margin"))
        finally:
            m.stop()


def median(values):
    return statistics.median(values) if values else None


def summarize(results):
    table = {}
    for key, runs in results.items():
        fields = {k for r in runs for k, v in r.items() if isinstance(v, (int, float))}
        table[key] = {k: median([r[k] for r in runs if k in r]) for k in fields}
        statuses = {}
        for r in runs:
            for code, n in (r.get("statuses") or {}).items():
                statuses[code] = statuses.get(code, 0) + n
        table[key]["statuses"] = statuses
    return table


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def markdown(table, facts):
    order = ["a", "b", "c", "d", "e", "h", "small-one", "big-one", "big-rotate"]
    lines = ["| scenario | server | req/s | p50 (ms) | p99 (ms) | errors (non-2xx / socket) | peak RSS (MB) | ratio |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    for scenario in order:
        for server in ("margin", "isso", "nginx", *PG_SERVERS):
            row = table.get((scenario, server))
            if not row:
                continue
            ratio = ""
            if server == "margin":
                parts = []
                isso = table.get((scenario, "isso"))
                nginx = table.get((scenario, "nginx"))
                if isso and isso.get("rps"):
                    parts.append(f"Margin/Isso {row['rps'] / isso['rps']:.2f}×")
                if nginx and nginx.get("rps"):
                    parts.append(f"Margin/nginx {row['rps'] / nginx['rps']:.2f}×")
                if scenario == "big-one" and table.get(("small-one", "margin")):
                    parts.append(f"big/small {row['rps'] / table[('small-one', 'margin')]['rps']:.2f}×")
                ratio = "; ".join(parts)
            elif server in PG_SERVERS:
                sqlite_row = table.get((scenario, "margin"))
                one_node = table.get((scenario, "margin-pg1"))
                parts = []
                if sqlite_row and sqlite_row.get("rps"):
                    parts.append(f"/SQLite {row['rps'] / sqlite_row['rps']:.2f}×")
                if server == "margin-pg2" and one_node and one_node.get("rps"):
                    parts.append(f"2 nodes/1 node {row['rps'] / one_node['rps']:.2f}×")
                ratio = "; ".join(parts)
            errors = f"{int(row.get('non2xx') or 0)} / {int(row.get('socket_errors') or 0)}"
            name = SCENARIO_NAMES[scenario].format(huge=f"{HUGE:,}")
            lines.append(f"| {name} | {server} | {fmt(row.get('rps'), ',.0f')} | {fmt(row.get('p50_ms'), '.2f')} | "
                         f"{fmt(row.get('p99_ms'), '.2f')} | {errors} | {fmt(row.get('peak_rss_mb'), '.0f')} | {ratio} |")
    extra = []
    if ("startup", "margin") in table:
        extra.append(f"- `margin serve` start to first 200 of `/healthz`: "
                     f"{table[('startup', 'margin')]['startup_ms']:.0f} ms on the seeded database (median), "
                     f"{facts.get('margin_start_empty_ms', 0):.0f} ms on an empty one")
    probed = [(srv, row) for (s, srv), row in sorted(table.items()) if s == "e" and row.get("probe_p99_ms") is not None]
    if probed:
        extra.append("- reads while (e) runs, timed by one more client GETting threads one after another (about 50/s): "
                     + "; ".join(f"{srv} p50 {row['probe_p50_ms']:.2f} ms, p99 {row['probe_p99_ms']:.2f} ms "
                                 f"({int(row['probe_reads'])} reads)" for srv, row in probed))
    if "margin_idle_rss_after_seeding_mb" in facts:
        extra.append(f"- Margin idle RSS after seeding {facts['margin_seeded_comments']:,} comments: "
                     f"{facts['margin_idle_rss_after_seeding_mb']:.1f} MB; right after a start on the seeded "
                     f"database: {table[('idle', 'margin')]['idle_rss_mb']:.1f} MB (median), of which "
                     f"{table[('idle', 'margin')].get('idle_anon_mb', 0):.1f} MB private (RssAnon; the rest are clean "
                     f"pages of the executable and shared libraries)")
    floor = [(name, table[("idle", name)]) for name in FLOOR_SERVERS if ("idle", name) in table]
    if floor:
        extra.append("- the stack's idle-RSS floor, measured the same way in the same runs (bench/floor, release builds): "
                     + "; ".join(f"{name} {row['idle_rss_mb']:.1f} MB ({row['idle_anon_mb']:.1f} MB private)"
                                 for name, row in floor)
                     + (f"; Margin {table[('idle', 'margin')]['idle_rss_mb']:.1f} MB" if ("idle", "margin") in table else ""))
    probes = [f"{srv.replace('margin-big', 'Margin, big database')} {row['post_ms']:.1f} ms"
              for (s, srv), row in sorted(table.items()) if s == "post-probe"]
    if probes:
        extra.append("- one POST at a time (30 sequential, median; a fresh copy of the seeded database): " + ", ".join(probes))
    if "isso_idle_rss_after_seeding_mb" in facts:
        extra.append(f"- Isso (gunicorn master + 2 workers) idle RSS after seeding: {facts['isso_idle_rss_after_seeding_mb']:.1f} MB")
    if "big_document_bytes" in facts:
        isso_bytes = f"; Isso's: {facts['isso_big_document_bytes']:,} bytes" if "isso_big_document_bytes" in facts else ""
        extra.append(f"- Margin's /big/ answer: {facts['big_document_bytes']:,} bytes, total {facts['big_document_total']} "
                     f"(nginx serves these bytes){isso_bytes}")
    if "big_comments" in facts:
        extra.append(f"- big database: {facts['big_comments']:,} comments over {facts['big_threads']:,} threads "
                     f"(imported in {facts['big_import_s']:.1f} s); big-one reads {facts['big_one_uri']} "
                     f"({facts['big_one_comments']} approved comments)")
    if any(row.get("rps") == 0 for row in table.values()):
        extra.append("- 0 req/s and — : no request was answered within the measured run (requests still waiting "
                     "when wrk stops are counted nowhere, not even as timeouts)")
    statuses = [f"{SCENARIO_NAMES[s].split(':')[0]} {srv}: {row['statuses']}" for (s, srv), row in sorted(table.items())
                if row.get("statuses")]
    if statuses:
        extra.append("- HTTP statuses seen in write scenarios (all runs, warm-up excluded): " + "; ".join(statuses))
    return "\n".join(lines), "\n".join(extra)


def chart(table, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no chart")
        return
    scenarios = [s for s in ["a", "b", "c", "d", "e", "h", "small-one", "big-one", "big-rotate"]
                 if any((s, srv) in table for srv in ("margin", "isso", "nginx"))]
    servers = [s for s in ("margin", "isso", "nginx", *PG_SERVERS) if any((sc, s) in table for sc in scenarios)]
    width = 0.8 / max(len(servers), 1)
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(scenarios)), 5))
    colors = {"margin": "#1f77b4", "isso": "#ff7f0e", "nginx": "#2ca02c", "margin-pg1": "#9467bd", "margin-pg2": "#8c564b"}
    for k, srv in enumerate(servers):
        xs = [i + (k - (len(servers) - 1) / 2) * width for i, s in enumerate(scenarios) if (s, srv) in table]
        ys = [table[(s, srv)]["rps"] for s in scenarios if (s, srv) in table]
        bars = ax.bar(xs, ys, width, label=srv, color=colors[srv])
        ax.bar_label(bars, labels=[f"{y:,.0f}" for y in ys], fontsize=7, rotation=90, padding=2)
    ax.set_yscale("log")
    top = max((row["rps"] for row in table.values() if row.get("rps")), default=1)
    ax.set_ylim(top=top * 6)  # room for the labels above the tallest bar
    ax.set_xticks(range(len(scenarios)))
    import textwrap
    ax.set_xticklabels([textwrap.fill(SCENARIO_NAMES[s].format(huge=f"{HUGE:,}"), 16) for s in scenarios], fontsize=7)
    ax.set_ylabel("requests/s (log scale, median of runs)")
    ax.set_title(f"Margin vs Isso vs nginx — wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s, {RUNS} run(s)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is missing: run bench/http.sh, which installs it")
    if not MARGIN_BIN.exists():
        sys.exit(f"{MARGIN_BIN} is missing: build it (swift build -c release --product margin)")
    if "isso" in ONLY and not (VENV / "bin" / "gunicorn").exists():
        sys.exit(f"no gunicorn in {VENV}: run bench/http.sh, which builds the virtualenv")
    out = Path(ENV.get("BENCH_OUT") or REPO / "bench" / "results" / f"http-{datetime.now():%Y%m%d-%H%M}")
    out.mkdir(parents=True, exist_ok=True)
    # Raw outputs run to hundreds of files a run: kept out of the repository.
    raw_out = Path(ENV.get("BENCH_RAW") or REPO / "tmp" / "bench-raw" / out.name)
    raw_out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="margin-bench-"))
    atexit.register(shutil.rmtree, work, True)
    atexit.register(stop_all)  # runs first
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    log(f"results in {out}; raw outputs in {raw_out}; work folder {work}; RUNS={RUNS} DURATION={DURATION}s WARMUP={WARMUP}s "
        f"servers={','.join(ONLY)} scenarios={','.join(SCENARIOS)} BIG={int(BIG)}")

    load_before = os.getloadavg()[0]
    facts, golden = prepare(work, raw_out)
    results = {}
    for run in range(1, RUNS + 1):
        run_once(run, work, raw_out, golden, facts, results)
    table = summarize(results)
    rows, extra = markdown(table, facts)
    facts.pop("big_uris", None)
    facts.pop("postgres_cluster", None)
    header = (f"# Margin HTTP benchmark, {datetime.now():%Y-%m-%d %H:%M}\n\n"
              f"wrk -t{THREADS} -c{CONNECTIONS} --latency --timeout 10s, {WARMUP} s warm-up + {DURATION} s measured, "
              f"median of {RUNS} run(s); {os.cpu_count()} CPUs, load average before the run "
              f"{load_before:.2f}. Margin: `--rate-limit off`, moderation none, spam scoring on. "
              f"Isso 0.14.0 under gunicorn -w 2 (sync workers), moderation and guard off. "
              f"nginx: worker_processes 2, access_log off, a static copy of Margin's /big/ answer.\n\n")
    text = header + rows + "\n\n" + extra + "\n"
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({
        "settings": {"runs": RUNS, "duration": DURATION, "warmup": WARMUP, "connections": CONNECTIONS,
                     "threads": THREADS, "big": BIG, "huge": HUGE},
        "facts": facts,
        "medians": [{"scenario": s, "server": srv, **row} for (s, srv), row in table.items()],
        "runs": [{"scenario": s, "server": srv, "results": runs} for (s, srv), runs in results.items()],
    }, indent=2, default=str))
    chart(table, out / "chart.png")
    print(text)
    print(f"written: {out}/results.md, chart.png, results.json; raw wrk output: {raw_out}/run*/")


if __name__ == "__main__":
    main()
