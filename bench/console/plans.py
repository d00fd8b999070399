"""The store queries behind each request of bench/console/run.py, as the stores build them
(Sources/Comments/Store/SQLite/SQLiteStore+Console.swift, Postgres/PostgresStore+Console.swift,
MarginServer/Console/ModeratedComment.swift's first-time lookups), with their plans and times.
Kept in step with those files by hand: a plan here is evidence, the server's time is the figure."""
import base64
import json
import re
import sqlite3
import statistics
import subprocess
import time
import urllib.parse

COLUMNS = ("id, thread_id, parent_id, status, author, email, website, body, html, created_at, edited_at, ip, user_agent, "
           "spam_score, spam_reasons, likes, dislikes, notify, edit_key_hash, origin")
PG_TEXT = "to_tsvector('simple', coalesce(author, '') || ' ' || body)"
DAY = 86_400_000


def words_of(text):
    """CommentQuery.searchWords: runs of letters and digits, lowercased, at most eight."""
    return re.findall(r"[^\W_]+", text.lower())[:8]


def cursor_of(text):
    created, ident = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split(".")
    return int(created), int(ident)


def lit(value):
    """A PostgreSQL literal of a value this file chose or read from the benchmark's own data."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def list_queries(params):
    """The listing's query for both stores: (sqlite sql, sqlite args, postgres sql)."""
    cond, args, pg = [], [], []
    if "site" in params:
        cond.append("site_id IN (?)"); args.append(params["site"]); pg.append(f"site_id = ANY(ARRAY[{lit(params['site'])}])")
    if "status" in params:
        cond.append("status = ?"); args.append(params["status"]); pg.append(f"status = {lit(params['status'])}")
    if "q" in params:
        words = words_of(params["q"])
        cond.append("id IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH ?)")
        args.append(" AND ".join('"' + w.replace('"', '""') + '"*' for w in words))
        tsquery = " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)
        pg.append(f"{PG_TEXT} @@ to_tsquery('simple', {lit(tsquery)})")
    if "cursor" in params:
        created, ident = cursor_of(params["cursor"])
        cond.append("(created_at < ? OR (created_at = ? AND id < ?))"); args += [created, created, ident]
        pg.append(f"(created_at, id) < ({created}, {ident})")
    where = (" WHERE " + " AND ".join(cond)) if cond else ""
    pg_where = (" WHERE " + " AND ".join(pg)) if pg else ""
    return (f"SELECT {COLUMNS} FROM comments{where} ORDER BY created_at DESC, id DESC LIMIT ?", args + [50],
            f"SELECT {COLUMNS} FROM comments{pg_where} ORDER BY created_at DESC, id DESC LIMIT 50")


def first_time(site, email):
    """ModeratedCommentBuilder's lookup (approvedCommentIDs), shown per address; the store asks
    for a whole page's addresses of one site in one statement."""
    return ("SELECT lower(email), MIN(id), MAX(id) FROM comments INDEXED BY comments_by_email WHERE email COLLATE NOCASE IN (?) "
            "AND site_id = ? AND status = 'approved' GROUP BY email COLLATE NOCASE", [email, site],
            f"SELECT lower(email), MIN(id), MAX(id) FROM comments WHERE lower(email) = ANY(ARRAY[{lit(email)}]) "
            f"AND site_id = {lit(site)} AND status = 'approved' GROUP BY lower(email)")


def queries(con, name, path):
    """[(label, sqlite sql, args, postgres sql, repeat)] behind one request; `repeat` lists the
    first-time lookups (timed together, one plan shown)."""
    parsed = urllib.parse.urlparse(path)
    params = dict(urllib.parse.parse_qsl(parsed.query))
    out = []
    if parsed.path.endswith("/comments"):
        sql, args, pg = list_queries(params)
        rows = con.execute(sql.replace(COLUMNS, "id, thread_id, email"), args).fetchall()
        out.append(("listing", sql, args, pg))
        pairs = []
        for cid, thread, email in rows:
            if email:
                site = con.execute("SELECT site_id FROM threads WHERE id = ?", (thread,)).fetchone()[0]
                if (site, email.lower()) not in pairs:
                    pairs.append((site, email.lower()))
        if pairs:
            out.append((f"first-time lookups ×{len(pairs)}", [first_time(s, e) for s, e in pairs]))
    elif "/comments/" in parsed.path:
        cid = int(parsed.path.rsplit("/", 1)[1])
        email, ip = con.execute("SELECT email, ip FROM comments WHERE id = ?", (cid,)).fetchone()
        either, args, pg = [], [], []
        if email:
            either.append("email = ? COLLATE NOCASE"); args.append(email); pg.append(f"lower(email) = lower({lit(email)})")
        if ip:
            either.append("ip = ?"); args.append(ip); pg.append(f"ip = {lit(ip)}")
        sql = (f"SELECT {COLUMNS} FROM comments WHERE ({' OR '.join(either)}) AND id != ? ORDER BY created_at DESC, id DESC LIMIT ?")
        out.append(("author history", sql, args + [cid, 50],
                    f"SELECT {COLUMNS} FROM comments WHERE ({' OR '.join(pg)}) AND id != {cid} ORDER BY created_at DESC, id DESC LIMIT 50"))
        out.append(("replies", f"SELECT {COLUMNS} FROM comments WHERE parent_id = ? ORDER BY created_at, id LIMIT ?", [cid, 100],
                    f"SELECT {COLUMNS} FROM comments WHERE parent_id = {cid} ORDER BY created_at, id LIMIT 100"))
        out.append(("log", "SELECT * FROM moderation_log WHERE comment_id = ? ORDER BY at DESC, id DESC LIMIT ?", [cid, 100],
                    f"SELECT * FROM moderation_log WHERE comment_id = {cid} ORDER BY at DESC, id DESC LIMIT 100"))
        hist = con.execute(sql.replace(COLUMNS, "thread_id, email"), args + [cid, 50]).fetchall()
        pairs = []
        for thread, mail in hist:
            if mail:
                site = con.execute("SELECT site_id FROM threads WHERE id = ?", (thread,)).fetchone()[0]
                if (site, mail.lower()) not in pairs:
                    pairs.append((site, mail.lower()))
        if pairs:
            out.append((f"first-time lookups ×{len(pairs)}", [first_time(s, e) for s, e in pairs]))
    elif parsed.path.endswith("/stats"):
        since = (int(time.time() * 1000) // DAY - 29) * DAY
        out.append(("daily counts", "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, status, COUNT(*) AS n "
                    "FROM comments WHERE created_at >= ? GROUP BY day, status ORDER BY day, status", [since],
                    "SELECT to_char(to_timestamp(created_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status, COUNT(*) "
                    f"FROM comments WHERE created_at >= {since} GROUP BY day, status ORDER BY day, status"))
        out.append(("status counts", "SELECT status, COUNT(*) AS n FROM comments GROUP BY status", [],
                    "SELECT status, COUNT(*) FROM comments GROUP BY status"))
        out.append(("busiest threads", "SELECT thread_id, COUNT(*) AS n FROM comments WHERE created_at >= ? GROUP BY thread_id "
                    "ORDER BY n DESC, thread_id LIMIT ?", [since, 10],
                    f"SELECT thread_id, COUNT(*) AS n FROM comments WHERE created_at >= {since} GROUP BY thread_id "
                    "ORDER BY n DESC, thread_id LIMIT 10"))
    return out


def sqlite_plans(db, cases, path):
    """EXPLAIN QUERY PLAN and the median of 3 runs of every query, through Python's sqlite3 (the
    same SQLite library as the server's GRDB on this machine)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    result, text = {}, []
    for name, case_path in cases.items():
        for item in queries(con, name, case_path):
            label = item[0]
            group = item[1] if isinstance(item[1], list) else [item[1:]]
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                for sql, args, _pg in group:
                    con.execute(sql, args).fetchall()
                runs.append((time.perf_counter() - start) * 1000)
            sql, args, _pg = group[0]
            plan = [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, args)]
            result[f"{name}/{label}"] = {"case": name, "label": label, "ms": statistics.median(runs),
                                         "summary": "; ".join(plan), "plan": plan, "sql": sql, "args": args}
            text.append(f"== {name} / {label}: median {statistics.median(runs):.2f} ms\n{sql}\n{json.dumps(args)}\n" +
                        "\n".join(plan) + "\n")
    con.close()
    path.write_text("\n".join(text))
    return result


def pg_summary(lines):
    """The plan's nodes, outermost first, without costs."""
    nodes = []
    for line in lines:
        stripped = line.strip().lstrip("->").strip()
        if "(cost=" in stripped:
            node = stripped.split("  (cost=")[0].split(" (cost=")[0]
            m = re.search(r"actual time=[\d.]+\.\.([\d.]+) rows=(\d+)", stripped)
            nodes.append(node + (f" [{m.group(2)} rows, {float(m.group(1)):.1f} ms]" if m else ""))
        elif stripped.startswith(("Index Cond", "Recheck Cond", "Filter", "Rows Removed", "Sort Method", "Heap Blocks")):
            nodes.append(stripped[:110])
    return " → ".join(nodes[:9])


def postgres_plans(cluster, sqlite_db, cases, path):
    """EXPLAIN (ANALYZE, BUFFERS) of every query; the queries are read off the SQLite copy, whose
    data is the same (margin migrate)."""
    result, text = {}, []
    con = sqlite3.connect(f"file:{sqlite_db}?mode=ro", uri=True)
    for name, case_path in cases.items():
        for item in queries(con, name, case_path):
            label = item[0]
            group = item[1] if isinstance(item[1], list) else [item[1:]]
            total, first_plan = 0.0, None
            for _sql, _args, pg in group:
                out = cluster.psql("EXPLAIN (ANALYZE, BUFFERS) " + pg)
                lines = out.splitlines()
                m = [float(x) for x in re.findall(r"Execution Time: ([\d.]+) ms", out)]
                total += m[0] if m else 0.0
                if first_plan is None:
                    first_plan = lines
                    text.append(f"== {name} / {label}\n{pg}\n{out}")
            result[f"{name}/{label}"] = {"case": name, "label": label, "ms": total, "summary": pg_summary(first_plan),
                                         "plan": first_plan, "sql": group[0][2]}
    con.close()
    path.write_text("\n".join(text))
    return result
