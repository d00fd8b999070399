#!/usr/bin/env python3
"""Moderation console benchmark: the queue, search, paging, one comment and the statistics of
`/api/v1/admin/…` answered by the real `margin serve` (release build) on 1,000,000 comments
(100,000 held), on SQLite and on PostgreSQL, against nginx serving the queue's first page as a
static file. Not part of the test command.

    bench/console.sh                                  # the documented entry: builds, runs this
    REQUESTS=30 BENCH_STORES=sqlite BENCH_SKIP_BUILD=1 bench/console.sh   # SQLite only

What it does
  1. The database: bench/console/gen.py (its docstring tells the data) writes it once into
     tmp/bench-console/, keyed by the generator's parameters, a hash of gen.py and a hash of the
     schema that `margin` creates today (a new migration makes a new file); every run works on
     a copy. An admin token (`margin admin token create bench`) is added to the copy.
  2. SQLite: `margin serve --db COPY` on 127.0.0.1 and a free port. PostgreSQL: a private
     cluster (scripts/pg-cluster), the copy moved in with `margin migrate`, then `ANALYZE` (what
     autovacuum does to any table that size soon after), then `margin serve --db postgres://…`.
  3. Every request below is sent on one keep-alive HTTP/1.1 connection (Python http.client, no
     compression asked), one at a time: WARMUP requests, then REQUESTS timed from sending the
     request to reading the last byte of the answer; p50, p95, max and mean in ms. Each answer
     must be 200 (the run fails otherwise).
       queue           GET /comments?status=pending&limit=50                 (all sites)
       queue-site      the same with site=blog (the largest site)
       queue-page2     the queue's second page, through the first page's next_cursor
       search-*        GET /comments?q=WORDS&limit=50 (every status): rare, common, two words
       held-search-*   the same with status=pending (what the console sends from the queue)
       search-page2    the common word's second page, through next_cursor
       detail          GET /comments/{id} of the queue's first comment
       detail-busy     GET /comments/{id} of a held comment by the busiest address (its history)
       stats           GET /stats (30 days)
     The reference, nginx as Debian configures it (its /etc/nginx/nginx.conf http block:
     sendfile, tcp_nopush, mime.types, access log, gzip on), serves the queue's first page, the
     very bytes Margin answered on SQLite, as a static file, timed the same way. Every Margin
     figure is also given as a ratio to it.
  4. With BENCH_PLANS=1, for every store query these requests make, its plan (SQLite EXPLAIN
     QUERY PLAN through the same SQLite library, PostgreSQL EXPLAIN (ANALYZE, BUFFERS)) and, for
     SQLite, its time alone, written to the raw folder and summarised in results.md. plans.py
     writes those queries out by hand after the stores' SQL: a diagnosis aid, not a measurement.
  Results: bench/results/console-YYYYMMDD-HHMM/results.md and results.json; raw outputs (plans,
  server logs, the answers) in the git-ignored tmp/bench-raw/console-YYYYMMDD-HHMM/.

Environment
  REQUESTS=50             timed requests per case (at least 30)
  BENCH_PLANS=1           also collect the query plans (step 4; off by default)
  WARMUP=10               untimed requests before them
  BENCH_STORES=sqlite,postgres   also sqlite-analyzed: the same SQLite copy after `ANALYZE` (Margin never
                         runs one; this shows what planner statistics change)
  BENCH_CASES            only these requests (comma-separated names from the list above)
  BENCH_COMMENTS=1000000  BENCH_PENDING=100000  BENCH_THREADS=20000  BENCH_SEED=1   the data
  BENCH_CACHE             where generated databases are kept (default tmp/bench-console)
  MARGIN_BIN              the margin binary (default .build/release/margin)
  BENCH_OUT, BENCH_RAW    the results folder and the raw folder (defaults above)

Every process it starts leads its own process group and is stopped by its PID at the end of its
step and on exit, error or Ctrl-C.
"""
import atexit
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plans import sqlite_plans, postgres_plans  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ENV = os.environ
REQUESTS = int(ENV.get("REQUESTS", "50"))
PLANS = ENV.get("BENCH_PLANS", "0") not in ("", "0")
WARMUP = int(ENV.get("WARMUP", "10"))
STORES = [s.strip() for s in ENV.get("BENCH_STORES", "sqlite,postgres").split(",") if s.strip()]
CASES = [s.strip() for s in ENV.get("BENCH_CASES", "").split(",") if s.strip()]
COMMENTS = int(ENV.get("BENCH_COMMENTS", "1000000"))
PENDING = int(ENV.get("BENCH_PENDING", "100000"))
THREADS = int(ENV.get("BENCH_THREADS", "20000"))
SEED = int(ENV.get("BENCH_SEED", "1"))
CACHE = Path(ENV.get("BENCH_CACHE", REPO / "tmp" / "bench-console"))
MARGIN_BIN = Path(ENV.get("MARGIN_BIN", REPO / ".build" / "release" / "margin")).resolve()
TARGETS = {"queue": 50, "search": 200}  # ms, issue 22 "Speed"
API = "/api/v1/admin"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------------------

STARTED = {}


def spawn(argv, log_path, cwd=None):
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=cwd, start_new_session=True)
    STARTED[proc.pid] = proc
    return proc


def stop(proc, timeout=20):
    """SIGTERM to the process, then SIGKILL to the group it leads."""
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


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, path, proc, log_path, timeout=120):
    """Milliseconds until GET path answers 200; fails if the process dies first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; its log:\n{Path(log_path).read_text()[-3000:]}")
        try:
            c = HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                c.close()
                return (time.monotonic() - start) * 1000
            c.close()
        except OSError:
            pass
        time.sleep(0.01)
    sys.exit(f"127.0.0.1:{port}{path} not ready after {timeout}s; log:\n{Path(log_path).read_text()[-3000:]}")


def margin_cli(*args, timeout=3600):
    done = subprocess.run([str(MARGIN_BIN), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f"margin {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# --- the data ----------------------------------------------------------------------------------

def schema_hash(work):
    """A hash of the schema `margin` creates in a new file."""
    probe = work / "schema-probe.sqlite"
    margin_cli("sites", "list", "--db", str(probe))
    con = sqlite3.connect(probe)
    rows = con.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name").fetchall()
    con.close()
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:10]


def database(work, facts):
    gen = Path(__file__).resolve().parent / "gen.py"
    gen_hash = hashlib.sha256(gen.read_bytes()).hexdigest()[:8]
    key = f"console-c{COMMENTS}-p{PENDING}-t{THREADS}-s{SEED}-schema{schema_hash(work)}-gen{gen_hash}"
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{key}.sqlite"
    facts["cache_file"] = str(cached.relative_to(REPO) if cached.is_relative_to(REPO) else cached)
    if cached.exists() and Path(str(cached) + ".json").exists():
        log(f"using the cached database {cached}")
        facts["generated_this_run"] = False
    else:
        log(f"generating {COMMENTS} comments into {cached} (a few minutes)")
        partial = CACHE / f"{key}.partial.sqlite"
        start = time.monotonic()
        subprocess.run([sys.executable, str(gen), str(MARGIN_BIN), str(partial), "--comments", str(COMMENTS),
                        "--pending", str(PENDING), "--threads", str(THREADS), "--seed", str(SEED)],
                       check=True, stdout=subprocess.DEVNULL)
        os.replace(str(partial) + ".json", str(cached) + ".json")
        os.replace(partial, cached)
        facts["generated_this_run"] = True
        log(f"generated in {time.monotonic() - start:.0f}s")
    facts["data"] = json.loads(Path(str(cached) + ".json").read_text())
    copy = work / "console.sqlite"
    start = time.monotonic()
    shutil.copy(cached, copy)
    facts["copy_s"] = round(time.monotonic() - start, 1)
    token = margin_cli("admin", "token", "create", "bench", "--db", str(copy)).strip().splitlines()[-1]
    return copy, token


# --- timing --------------------------------------------------------------------------------------

class Client:
    """One keep-alive connection; `get` answers (status, body, ms)."""

    def __init__(self, port, token=None):
        self.port, self.headers = port, {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        start = time.perf_counter_ns()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        ms = (time.perf_counter_ns() - start) / 1e6
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = HTTPConnection("127.0.0.1", self.port, timeout=60)
        return response.status, body, ms

    def close(self):
        self.conn.close()


def percentile(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(client, path, raw, label):
    """WARMUP then REQUESTS sequential GETs of path; every one must answer 200."""
    for _ in range(WARMUP):
        status, body, _ = client.get(path)
        if status != 200:
            sys.exit(f"{label}: GET {path} answered {status}: {body[:500]!r}")
    times = []
    for _ in range(REQUESTS):
        status, body, ms = client.get(path)
        if status != 200:
            sys.exit(f"{label}: GET {path} answered {status}: {body[:500]!r}")
        times.append(ms)
    (raw / f"{label}.json").write_bytes(body)
    (raw / f"{label}.times.txt").write_text("\n".join(f"{t:.3f}" for t in times) + "\n")
    result = {"path": path, "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "max_ms": max(times),
              "mean_ms": statistics.fmean(times), "bytes": len(body)}
    try:
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("comments"), list):
            result["comments"] = len(document["comments"])
    except ValueError:
        pass
    return result


def cases(client, words, busy_id):
    """The requests measured, in order: (name, path). Cursors and ids come from the answers."""
    def q(**params):
        return f"{API}/comments?" + urllib.parse.urlencode(params)

    status, first_page, _ = client.get(q(status="pending", limit=50))
    first = json.loads(first_page)
    status, body, _ = client.get(q(q=words["common"], limit=50))
    common = json.loads(body)
    todo = [
        ("queue", q(status="pending", limit=50)),
        ("queue-site", q(site="blog", status="pending", limit=50)),
        ("queue-page2", q(status="pending", limit=50, cursor=first["next_cursor"])),
        ("search-rare", q(q=words["rare"], limit=50)),
        ("search-common", q(q=words["common"], limit=50)),
        ("search-two", q(q=words["two"], limit=50)),
        ("search-page2", q(q=words["common"], limit=50, cursor=common["next_cursor"])),
        ("held-search-rare", q(status="pending", q=words["rare"], limit=50)),
        ("held-search-common", q(status="pending", q=words["common"], limit=50)),
        ("held-search-two", q(status="pending", q=words["two"], limit=50)),
        ("detail", f"{API}/comments/{first['comments'][0]['id']}"),
        ("detail-busy", f"{API}/comments/{busy_id}"),
        ("stats", f"{API}/stats"),
    ]
    return [(name, path) for name, path in todo if not CASES or name in CASES], first_page


def target_of(name):
    if name.startswith("queue"):
        return TARGETS["queue"]
    if "search" in name:
        return TARGETS["search"]
    return None


# --- servers -----------------------------------------------------------------------------------

def serve_margin(db, label, work, raw):
    port = free_port()
    log_path = raw / f"margin-{label}.log"
    proc = spawn([str(MARGIN_BIN), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                  "--log-level", "warning"], log_path, cwd=work)
    ready_ms = wait_ready(port, "/healthz", proc, log_path)
    return proc, port, ready_ms


def serve_nginx(work, document):
    """nginx with Debian's http settings (/etc/nginx/nginx.conf), serving one JSON file."""
    root = work / "nginx"
    for d in ("logs", "tmp", "www"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "www" / "queue.json").write_bytes(document)
    user = ""
    if os.geteuid() == 0:  # the workers would drop to nobody, who cannot read this folder
        import pwd
        user = f"user {pwd.getpwuid(os.getuid()).pw_name};"
    port = free_port()
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else "types { application/json json; }"
    (root / "nginx.conf").write_text(f"""{user}
daemon off;
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/logs/error.log;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    {mime}
    default_type application/octet-stream;
    access_log {root}/logs/access.log;
    gzip on;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location / {{ try_files $uri =404; }}
    }}
}}
""")
    proc = spawn([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(root), "-c", str(root / "nginx.conf"),
                  "-e", str(root / "logs" / "error.log")], root / "logs" / "stdout.log", cwd=root)
    wait_ready(port, "/queue.json", proc, root / "logs" / "stdout.log")
    return proc, port


class PostgresCluster:
    """A private cluster (scripts/pg-cluster), stopped at exit."""

    def __init__(self):
        # Not under the work folder: run as root, the cluster runs as `postgres`, who must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="margin-bench-pg-"))
        atexit.register(shutil.rmtree, self.folder, True)
        atexit.register(self.stop)
        started = subprocess.run([str(REPO / "scripts" / "pg-cluster"), "start", str(self.folder)], capture_output=True, text=True)
        if started.returncode != 0:
            sys.exit(f"scripts/pg-cluster start failed:\n{started.stderr}")
        self.url = started.stdout.strip()
        self.stopped = False

    def stop(self):
        if not self.stopped:
            subprocess.run([str(REPO / "scripts" / "pg-cluster"), "stop", str(self.folder)], capture_output=True)
            self.stopped = True

    def psql(self, sql, url=None):
        done = subprocess.run(["psql", url or self.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"psql failed: {sql}\n{done.stderr}")
        return done.stdout


# --- the run -----------------------------------------------------------------------------------

def measure_store(store, db, token, words, busy_id, work, raw, facts, reference):
    proc, port, ready_ms = serve_margin(db, store, work, raw)
    facts[f"{store}_ready_ms"] = round(ready_ms)
    load_start = os.getloadavg()[0]
    log(f"{store}: margin serve ready in {ready_ms:.0f} ms on port {port}")
    client = Client(port, token)
    results = {}
    try:
        todo, first_page = cases(client, words, busy_id)
        for name, path in todo:
            results[name] = timed(client, path, raw, f"{store}-{name}")
            r = results[name]
            log(f"  {store} {name}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f}, max {r['max_ms']:.1f} "
                f"({r['bytes']} bytes{', %d comments' % r['comments'] if 'comments' in r else ''})")
        if reference.get("document") is None:
            reference["document"] = first_page
            (raw / "nginx-document.json").write_bytes(first_page)
    finally:
        client.close()
        stop(proc)
    # Other work on the machine (builds, tests) shows here; the figures are only as quiet as it was.
    facts[f"{store}_load_average"] = f"{load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    return results, todo


def main():
    if REQUESTS < 30:
        sys.exit("REQUESTS must be at least 30")
    if not MARGIN_BIN.exists():
        sys.exit(f"{MARGIN_BIN} is missing: build it (swift build -c release --product margin)")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        sys.exit("nginx is missing: run bench/console.sh, which installs it")
    stamp = datetime.now()
    out = Path(ENV.get("BENCH_OUT") or REPO / "bench" / "results" / f"console-{stamp:%Y%m%d-%H%M}")
    raw = Path(ENV.get("BENCH_RAW") or REPO / "tmp" / "bench-raw" / out.name)
    out.mkdir(parents=True, exist_ok=True)
    raw.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="margin-bench-console-"))
    atexit.register(shutil.rmtree, work, True)
    atexit.register(stop_all)  # runs first
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    log(f"results in {out}; raw outputs in {raw}; work folder {work}; REQUESTS={REQUESTS} WARMUP={WARMUP} stores={','.join(STORES)}")
    load_before = os.getloadavg()[0]
    steps = {}
    facts = {"steps_s": steps}

    start = time.monotonic()
    db, token = database(work, facts)
    steps["database (generate or reuse, copy, token)"] = round(time.monotonic() - start, 1)
    words = facts["data"]["words"]
    con = sqlite3.connect(db)
    busy_id = con.execute("""SELECT id FROM comments WHERE status = 'pending' AND lower(email) = (
        SELECT lower(email) FROM comments WHERE email IS NOT NULL GROUP BY lower(email) ORDER BY count(*) DESC LIMIT 1)
        ORDER BY id DESC LIMIT 1""").fetchone()
    if busy_id is None:
        busy_id = con.execute("""SELECT id FROM comments WHERE email = (SELECT email FROM comments WHERE email IS NOT NULL
            GROUP BY email ORDER BY count(*) DESC LIMIT 1) ORDER BY id DESC LIMIT 1""").fetchone()
    busy_id = busy_id[0]
    con.close()

    results, reference, plans = {}, {"document": None}, {}
    if "sqlite" in STORES:
        start = time.monotonic()
        results["sqlite"], todo = measure_store("sqlite", db, token, words, busy_id, work, raw, facts, reference)
        steps["SQLite: serve and measure"] = round(time.monotonic() - start, 1)
        if PLANS:
            start = time.monotonic()
            plans["sqlite"] = sqlite_plans(db, dict(todo), raw / "plans-sqlite.txt")
            steps["SQLite: query plans and timings"] = round(time.monotonic() - start, 1)
    if "sqlite-analyzed" in STORES:
        start = time.monotonic()
        analyzed = work / "console-analyzed.sqlite"
        shutil.copy(db, analyzed)
        con = sqlite3.connect(analyzed)
        con.execute("ANALYZE")
        con.close()
        steps["SQLite analyzed: copy and ANALYZE"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        results["sqlite-analyzed"], todo = measure_store("sqlite-analyzed", analyzed, token, words, busy_id, work, raw, facts,
                                                         reference)
        steps["SQLite analyzed: serve and measure"] = round(time.monotonic() - start, 1)
        if PLANS:
            plans["sqlite-analyzed"] = sqlite_plans(analyzed, dict(todo), raw / "plans-sqlite-analyzed.txt")
    if "postgres" in STORES:
        start = time.monotonic()
        cluster = PostgresCluster()
        steps["PostgreSQL: start the cluster"] = round(time.monotonic() - start, 1)
        url = cluster.url
        start = time.monotonic()
        margin_cli("migrate", "--from", str(db), "--to", url)
        steps["PostgreSQL: margin migrate"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        cluster.psql("ANALYZE")
        steps["PostgreSQL: ANALYZE"] = round(time.monotonic() - start, 1)
        facts["postgres_version"] = cluster.psql("SHOW server_version").strip()
        start = time.monotonic()
        results["postgres"], todo = measure_store("postgres", url, token, words, busy_id, work, raw, facts, reference)
        steps["PostgreSQL: serve and measure"] = round(time.monotonic() - start, 1)
        if PLANS:
            start = time.monotonic()
            plans["postgres"] = postgres_plans(cluster, db, dict(todo), raw / "plans-postgres.txt")
            steps["PostgreSQL: query plans"] = round(time.monotonic() - start, 1)
        cluster.stop()

    start = time.monotonic()
    proc, port = serve_nginx(work, reference["document"])
    client = Client(port)
    try:
        results["nginx"] = {"queue": timed(client, "/queue.json", raw, "nginx-queue")}
    finally:
        client.close()
        stop(proc)
    steps["nginx reference"] = round(time.monotonic() - start, 1)
    facts["nginx_version"] = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-v"], capture_output=True,
                                            text=True).stderr.strip()
    facts["sqlite_version"] = sqlite3.sqlite_version

    text = markdown(stamp, results, plans, facts, load_before)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({
        "settings": {"requests": REQUESTS, "warmup": WARMUP, "stores": STORES, "comments": COMMENTS, "pending": PENDING,
                     "threads": THREADS, "seed": SEED, "targets_ms": TARGETS},
        "facts": facts, "results": results,
        "plans": {store: {k: {kk: vv for kk, vv in v.items() if kk != "plan"} for k, v in p.items()} for store, p in plans.items()},
    }, indent=2, default=str))
    print(text)
    print(f"written: {out}/results.md, results.json; raw outputs: {raw}/")


def markdown(stamp, results, plans, facts, load_before):
    ref = results["nginx"]["queue"]
    data = facts["data"]
    w = data["words"]
    lines = [f"# Moderation console benchmark, {stamp:%Y-%m-%d %H:%M}", "",
             f"`margin serve` (release build) with an admin bearer token; one keep-alive connection, requests one at a "
             f"time: {WARMUP} warm-up then {REQUESTS} timed, from sending to the last byte. {os.cpu_count()} CPUs, load "
             f"average before the run {load_before:.2f}. Reference: nginx ({facts.get('nginx_version', '')}, Debian's "
             f"http settings: sendfile on, tcp_nopush on, access log, gzip on) serving the queue's first page (the bytes "
             f"Margin answered) as a static file, timed the same way: p50 {ref['p50_ms']:.2f} ms, p95 {ref['p95_ms']:.2f} ms, "
             f"max {ref['max_ms']:.2f} ms. Ratios are Margin's p50 to nginx's p50. Targets (issue 22): queue first page "
             f"< 50 ms, text search < 200 ms; judged on p95.", "",
             f"Data: {data['comments']:,} comments ({', '.join(f'{k} {v:,}' for k, v in sorted(data['statuses'].items()))}) "
             f"on {data['threads']:,} threads of 3 sites ({', '.join(f'{k} {v:,}' for k, v in data['sites'].items())}); "
             f"{data['distinct_emails']:,} distinct addresses, the busiest {data['busiest_email']:,} comments; the busiest "
             f"network {data['busiest_network']:,}; SQLite file {data['bytes'] / 1e9:.2f} GB. Search words (comments matched "
             f"as word prefixes): rare `{w['rare']}` {w['rare_docs']:,}, common `{w['common']}` {w['common_docs']:,}, two "
             f"words `{w['two']}` {w['two_docs']:,}.", ""]
    stores = [s for s in ("sqlite", "sqlite-analyzed", "postgres") if s in results]
    header = "| request | " + " | ".join(f"{s} p50 / p95 / max (ms) | {s} ×nginx" for s in stores) + " | target | met |"
    lines += [header, "|" + "---|" * (2 + 2 * len(stores) + 1)]
    names = list(results[stores[0]].keys()) if stores else []
    for name in names:
        cells, met = [], []
        target = target_of(name)
        for s in stores:
            r = results[s].get(name)
            if r is None:
                cells += ["", ""]
                continue
            cells.append(f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['max_ms']:.1f}")
            cells.append(f"{r['p50_ms'] / ref['p50_ms']:.0f}×")
            if target:
                met.append(f"{s} {'yes' if r['p95_ms'] < target else 'NO'}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'< %d ms' % target if target else ''} | {', '.join(met)} |")
    lines.append(f"| nginx, static queue page ({ref['bytes']:,} bytes) | " +
                 " | ".join(f"{ref['p50_ms']:.2f} / {ref['p95_ms']:.2f} / {ref['max_ms']:.2f} | 1×" for _ in stores) + " | | |")
    lines += ["", "Requests: " + "; ".join(f"{name} `{results[stores[0]][name]['path']}`" for name in names), ""]
    if plans:
        lines += ["## Where the time goes", ""]
    for store in stores:
        p = plans.get(store) or {}
        if not p:
            continue
        sqlite = store.startswith("sqlite")
        title = {"sqlite": "SQLite ", "sqlite-analyzed": "SQLite after ANALYZE ", "postgres": "PostgreSQL "}[store]
        lines += [f"{title}{facts.get('sqlite_version' if sqlite else 'postgres_version', '')}: "
                  f"each store query of the requests above alone ({'median of 3 runs through Python sqlite3, the same library' if sqlite else 'EXPLAIN (ANALYZE, BUFFERS) execution time'}), "
                  f"and its plan (full text in the raw folder).", "",
                  "| request | query | ms | plan |", "|---|---|---|---|"]
        for key, v in p.items():
            lines.append(f"| {v['case']} | {v['label']} | {v['ms']:.1f} | {v['summary']} |")
        lines.append("")
    lines += ["## Steps", "", "| step | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in facts["steps_s"].items()]
    gen = data["seconds"]
    lines += ["", f"The database: {'generated in this run' if facts.get('generated_this_run') else 'reused from the cache'} "
              f"(`{facts['cache_file']}`); generation took {gen['total']} s ({gen['insert_comments']} s of it inserting the "
              f"comments in one transaction through Python's sqlite3, the schema's triggers filling comments_fts), copy "
              f"{facts['copy_s']} s. margin serve ready after {facts.get('sqlite_ready_ms', '-')} ms on SQLite, "
              f"{facts.get('postgres_ready_ms', '-')} ms on PostgreSQL {facts.get('postgres_version', '')}. Load average "
              f"(1 minute) while measuring: " + "; ".join(f"{k[:-len('_load_average')]} {v}" for k, v in facts.items()
                                                         if k.endswith("_load_average")) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
