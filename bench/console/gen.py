#!/usr/bin/env python3
"""Generates the moderation console benchmark's SQLite database: COMMENTS comments (PENDING of
them held) over THREADS threads on three sites, in a file whose schema `margin` itself created.

    python3 bench/console/gen.py MARGIN_BIN OUT.sqlite [--comments N] [--pending N] [--threads N] [--seed N]

Writes OUT.sqlite and OUT.sqlite.json (the parameters, the search words chosen and how many
comments each matches, the time taken). bench/console/run.py calls it and caches the result.

How: `margin sites list --db OUT` creates the schema (every migration, the `default` site), then
one Python sqlite3 transaction inserts sites, threads, comments and moderation log rows with the
schema's own triggers in place (comments_fts is filled by them, as in service). No ANALYZE is
run: Margin never runs one, so a database in service has no sqlite_stat1 either.

The data, drawn with numpy from SEED:
  - text: words from a Zipf-distributed vocabulary (exponent 1.0; 150 common English words then
    synthetic ones, 60,000 in all), 8-250 words a comment (log-normal, median about 35);
    sentences of 6-18 words. Spam has 2-4 links.
  - time: three years up to the moment of generation; each thread opens at a uniform time and
    gets 85 % of its comments in the days after (exponential, mean 3 days), the rest later.
  - threads: Zipf weights (exponent 0.8), sites blog 60 %, news 30 %, docs 10 % of the threads.
  - statuses: exactly PENDING held, 3.5 % spam, 1.5 % rejected, 1 % deleted, the rest approved.
  - people: 150,000 regulars (Zipf-Mandelbrot weights, (k+20)^-1, the busiest about 4,500
    comments), 80 % with an email, 15 % a website, names from 26 x 26 first/last names (so
    names repeat); half the held comments from new one-off people, a fifth from 20,000
    spammers; networks (stored anonymised, a.b.c.0) from a Zipf pool of 40,000 (home network
    80 % of the time), spammers from 2,000 hosting networks.
  - 30 % of comments reply to an earlier one of their thread; every spam, rejected and deleted
    comment and a tenth of the approved ones have a moderation log entry.
"""
import argparse
import html
import json
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np

COMMON = ("the of and to a in is it you that he was for on are with as i his they be at one have this from or "
          "had by not word but what some we can out other were all there when up use your how said an each she "
          "which do their time if will way about many then them write would like so these her long make thing see "
          "him two has look more day could go come did number sound no most people my over know water than call "
          "first who may down side been now find any new work part take get place made live where after back little "
          "only round man year came show every good me give our under name very through just form sentence great "
          "think say help low line differ turn cause much mean before move right boy old too same tell does set "
          "three want air well also play small end put home read hand port large spell add even land here must").split()
FIRST = ["Ada", "Bo", "Cai", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Max", "Nia", "Oto", "Pia",
         "Quin", "Ray", "Sam", "Tea", "Uma", "Vic", "Wen", "Xia", "Yan", "Zoe"]
LAST = ["Abe", "Berg", "Cruz", "Diaz", "Eng", "Ford", "Gray", "Holm", "Ito", "Jain", "Kim", "Lund", "Moss", "Nagy", "Ortiz",
        "Park", "Quist", "Ross", "Sato", "Tran", "Ueda", "Vega", "Wong", "Xu", "Yilmaz", "Zhou"]
DOMAINS = ["example.org", "example.com", "mail.example.net", "posteo.example", "gmail.example", "outlook.example",
           "proton.example", "fastmail.example", "uni.example.edu", "web.example.de"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
          "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
          "curl/8.5.0", "python-requests/2.32.3"]
SITES = [("blog", "The Blog", 0.6), ("news", "News", 0.3), ("docs", "Docs", 0.1)]
DAY = 86_400_000


def vocabulary(rng, size):
    """The common words, then synthetic ones of 2-4 syllables, all distinct."""
    consonants, vowels = list("bdfgklmnprstvz"), list("aeiou")
    words, seen = list(COMMON), set(COMMON)
    while len(words) < size:
        n = int(rng.integers(2, 5))
        word = "".join(consonants[int(rng.integers(len(consonants)))] + vowels[int(rng.integers(len(vowels)))]
                       for _ in range(n)) + ("" if rng.random() < 0.5 else consonants[int(rng.integers(len(consonants)))])
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_p(n, s, q=0.0):
    w = 1.0 / np.power(np.arange(1, n + 1, dtype=np.float64) + q, s)
    return w / w.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("margin")
    ap.add_argument("out")
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--pending", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.monotonic()
    N, T = args.comments, args.threads
    rng = np.random.default_rng(args.seed)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.out + suffix):
            os.remove(args.out + suffix)
    done = subprocess.run([args.margin, "sites", "list", "--db", args.out], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"margin sites list failed:\n{done.stdout}{done.stderr}")

    end = int(time.time() * 1000)
    start = end - 3 * 365 * DAY
    # threads
    site_of_thread = rng.choice(len(SITES), size=T, p=[s[2] for s in SITES])
    thread_open = np.sort(rng.integers(start, end - DAY, size=T))
    thread_weight = zipf_p(T, 0.8)[rng.permutation(T)]
    # comments: thread, time, then sorted by time (ids grow with time, as in service)
    c_thread = rng.choice(T, size=N, p=thread_weight)
    opened = thread_open[c_thread]
    soon = opened + rng.exponential(3 * DAY, size=N).astype(np.int64)
    later = opened + (rng.random(N) * (end - opened)).astype(np.int64)
    c_time = np.minimum(np.where(rng.random(N) < 0.85, soon, later), end - 1)
    order = np.argsort(c_time, kind="stable")
    c_thread, c_time = c_thread[order], c_time[order]
    # statuses, exact quotas
    n_spam, n_rej, n_del = int(N * 0.035), int(N * 0.015), int(N * 0.01)
    statuses = np.array(["approved"] * N, dtype=object)
    shuffled = rng.permutation(N)
    cuts = np.cumsum([args.pending, n_spam, n_rej, n_del])
    statuses[shuffled[:cuts[0]]] = "pending"
    statuses[shuffled[cuts[0]:cuts[1]]] = "spam"
    statuses[shuffled[cuts[1]:cuts[2]]] = "rejected"
    statuses[shuffled[cuts[2]:cuts[3]]] = "deleted"

    # people
    R, S, NETS, SPAM_NETS = 150_000, 20_000, 40_000, 2_000
    nets = [f"{int(a)}.{int(b)}.{int(c)}.0" for a, b, c in zip(rng.integers(1, 224, NETS), rng.integers(0, 256, NETS),
                                                                    rng.integers(0, 256, NETS))]
    spam_nets = [f"{int(a)}.{int(b)}.{int(c)}.0" for a, b, c in zip(rng.integers(1, 224, SPAM_NETS),
                                                                         rng.integers(0, 256, SPAM_NETS), rng.integers(0, 256, SPAM_NETS))]
    net_p = zipf_p(NETS, 1.0, 10)
    home_net = rng.choice(NETS, size=R + S + N, p=net_p)

    def person(i, kind):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        r = rng.random(3)
        name = f"{first} {last}" if r[0] < 0.9 else f"{first.lower()}{i % 1000}"
        email = f"{first.lower()}.{last.lower()}{i}@{DOMAINS[i % len(DOMAINS)]}" if r[1] < 0.8 or kind == "spam" else None
        website = f"https://{last.lower()}{i}.example.net/" if r[2] < 0.15 or kind == "spam" else None
        home = spam_nets[i % SPAM_NETS] if kind == "spam" else nets[int(home_net[i % len(home_net)])]
        return name, email, website, home

    regulars = [person(i, "regular") for i in range(R)]
    spammers = [person(R + i, "spam") for i in range(S)]
    reg_choice = rng.choice(R, size=N, p=zipf_p(R, 1.0, 20))
    spam_choice = rng.integers(0, S, size=N)
    other_net = rng.choice(NETS, size=N, p=net_p)
    kind_draw = rng.random(N)

    # text
    V = 60_000
    vocab = vocabulary(rng, V)
    lengths = np.clip(rng.lognormal(np.log(35), 0.7, size=N), 8, 250).astype(np.int64)
    tokens = rng.choice(V, size=int(lengths.sum()), p=zipf_p(V, 1.0))
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    sentence_len = rng.integers(6, 19, size=N)
    reply_draw = rng.random(N)
    score_draw = rng.random(N)
    ua = rng.integers(0, len(AGENTS), size=N)
    likes = rng.poisson(0.7, size=N)
    t_gen = time.monotonic() - t0

    def text_of(i, spam):
        words = [vocab[j] for j in tokens[offsets[i]:offsets[i + 1]].tolist()]
        k = int(sentence_len[i])
        sentences = [" ".join(words[a:a + k]) for a in range(0, len(words), k)]
        sentences = [s[0].upper() + s[1:] + "." for s in sentences]
        body_parts, html_parts = [], []
        for n, s in enumerate(sentences):
            body_parts.append(s)
            html_parts.append(html.escape(s, quote=False))
        if spam:
            for n in range(2 + i % 3):
                url = f"https://deals{i % 97}.example.biz/offer/{i}/{n}"
                body_parts.append(f"[cheap offer {n}]({url})")
                html_parts.append(f'<a href="{url}" rel="nofollow ugc">cheap offer {n}</a>')
        return " ".join(body_parts), "<p>" + " ".join(html_parts) + "</p>"

    recent = {}  # thread -> its last comment ids (reply targets)
    log_rows = []
    fresh = [0]

    def rows():
        for i in range(N):
            cid = i + 1
            status = statuses[i]
            thread = int(c_thread[i]) + 1
            site = SITES[int(site_of_thread[thread - 1])][0]
            d = kind_draw[i]
            if status == "spam" or (status == "pending" and d < 0.2):
                name, email, website, net = spammers[int(spam_choice[i])]
                spammy = True
            elif status == "pending" and d < 0.7:
                fresh[0] += 1
                name, email, website, net = person(R + S + fresh[0], "regular")
                spammy = False
            else:
                name, email, website, net = regulars[int(reg_choice[i])]
                spammy = False
                if d > 0.8:
                    net = nets[int(other_net[i])]
            body, rendered = text_of(i, spammy)
            targets = recent.setdefault(thread, [])
            parent = targets[int(reply_draw[i] * 100) % len(targets)] if targets and reply_draw[i] < 0.3 else None
            targets.append(cid)
            if len(targets) > 20:
                del targets[0]
            at = int(c_time[i])
            if status == "spam":
                score, reasons = 6 + score_draw[i] * 9, ["+4.0 links to a known spam domain", "+2.5 Bayes spam probability 0.98"]
            elif status == "pending":
                score, reasons = 1 + score_draw[i] * 5, ["+1.0 first comment from this address"]
            else:
                score, reasons = score_draw[i] * 2, []
            lk = int(likes[i]) if status == "approved" else 0
            if status in ("spam", "rejected", "deleted") or (status == "approved" and score_draw[i] < 0.1):
                action = {"spam": "spam", "rejected": "reject", "deleted": "delete", "approved": "approve"}[status]
                actor = {"spam": "spam-filter", "rejected": "link", "deleted": "cli", "approved": "link"}[status]
                log_rows.append((cid, site, action, actor, None, at + 3_600_000, None, "pending" if status != "deleted" else "approved"))
            yield (cid, site, thread, parent, status, name, email, website, body, rendered, at, net,
                   AGENTS[int(ua[i])], round(float(score), 2), json.dumps(reasons), lk, int(lk > 2))

    con = sqlite3.connect(args.out, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1500000")
    con.execute("PRAGMA temp_store=MEMORY")
    con.execute("BEGIN")
    for sid, name, _ in SITES:
        con.execute("INSERT OR IGNORE INTO sites (id, name, origins, moderation, created_at) VALUES (?, ?, ?, 'auto', ?)",
                    (sid, name, json.dumps([f"https://{sid}.example.org"]), start))
    con.executemany("INSERT INTO threads (id, site_id, uri, title, created_at) VALUES (?, ?, ?, ?, ?)",
                    ((t + 1, SITES[int(site_of_thread[t])][0], f"/{time.strftime('%Y/%m', time.gmtime(int(thread_open[t]) / 1000))}/post-{t + 1}/",
                      f"Post number {t + 1}: {vocab[150 + t % 5000]} {vocab[200 + t % 7000]}", int(thread_open[t]))
                     for t in range(T)))
    t1 = time.monotonic()
    con.executemany("""INSERT INTO comments (id, site_id, thread_id, parent_id, status, author, email, website, body, html,
                       created_at, ip, user_agent, spam_score, spam_reasons, likes, dislikes)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows())
    t_comments = time.monotonic() - t1
    con.executemany("INSERT INTO moderation_log (comment_id, site_id, action, actor, reason, at, moderator, from_status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", log_rows)
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")

    # search words, by how many comments they match (as the store matches them: word prefixes)
    def docs(words):
        q = " AND ".join('"' + w + '"*' for w in words.split())
        return con.execute("SELECT count(*) FROM comments_fts WHERE comments_fts MATCH ?", (q,)).fetchone()[0]

    rare = next(w for w in vocab[30_000:] if len(w) >= 6 and 30 <= docs(w) <= 300)
    common = "that"
    two = f"people {vocab[400]}"
    meta = {"comments": N, "pending": args.pending, "threads": T, "seed": args.seed, "end_ms": end,
            "sites": {s: con.execute("SELECT count(*) FROM comments WHERE site_id = ?", (s,)).fetchone()[0] for s, _, _ in SITES},
            "statuses": dict(con.execute("SELECT status, count(*) FROM comments GROUP BY status").fetchall()),
            "distinct_emails": con.execute("SELECT count(DISTINCT lower(email)) FROM comments").fetchone()[0],
            "busiest_email": con.execute("SELECT count(*) AS n FROM comments WHERE email IS NOT NULL GROUP BY lower(email) ORDER BY n DESC LIMIT 1").fetchone()[0],
            "busiest_network": con.execute("SELECT count(*) AS n FROM comments GROUP BY ip ORDER BY n DESC LIMIT 1").fetchone()[0],
            "busiest_thread": con.execute("SELECT count(*) AS n FROM comments GROUP BY thread_id ORDER BY n DESC LIMIT 1").fetchone()[0],
            "log_rows": len(log_rows),
            "words": {"rare": rare, "rare_docs": docs(rare), "common": common, "common_docs": docs(common),
                      "two": two, "two_docs": docs(two)},
            "seconds": {"draw": round(t_gen, 1), "insert_comments": round(t_comments, 1), "total": round(time.monotonic() - t0, 1)}}
    con.close()
    meta["bytes"] = os.path.getsize(args.out)
    with open(args.out + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
