#!/usr/bin/env python3
"""Writes a synthetic Disqus export: POSTS posts over THREADS threads, about 40 % replies,
CJK and Latin text, some deleted and spam posts. Streams to stdout, so any size fits.

    bench/gen-disqus.py 1000000 50000 > /tmp/disqus-1m.xml
"""
import random
import sys
from datetime import datetime, timezone

posts = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
rng = random.Random(42)
words = ("comment thanks great post tensorflow swift server blog reply agree think code example "
         "좋은 글 감사합니다 这篇 文章 很好 question answer because really").split()
out = sys.stdout
write = out.write
write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
      'xmlns:dsq="http://disqus.com/disqus-internals">\n')
for t in range(1, threads + 1):
    write(f'<thread dsq:id="{t}"><id>/posts/{t}/</id><forum>bench</forum><link>https://blog.example.org/posts/{t}/</link>'
          f'<title>Post {t}</title><createdAt>2015-01-01T00:00:00Z</createdAt><isClosed>false</isClosed>'
          f'<isDeleted>false</isDeleted></thread>\n')
per_thread = {}
for p in range(1, posts + 1):
    t = rng.randint(1, threads)
    earlier = per_thread.setdefault(t, [])
    parent = f'<parent dsq:id="{rng.choice(earlier)}"/>' if earlier and rng.random() < 0.4 else ""
    earlier.append(p)
    if len(earlier) > 50:
        del earlier[0]
    text = " ".join(rng.choice(words) for _ in range(rng.randint(15, 60)))
    seconds = 1_420_070_400 + p * 30
    created = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    write(f'<post dsq:id="{p}"><id/><message><![CDATA[<p>{text}</p>]]></message><createdAt>{created}</createdAt>'
          f'<isDeleted>{"true" if p % 997 == 0 else "false"}</isDeleted><isSpam>{"true" if p % 499 == 0 else "false"}</isSpam>'
          f'<author><email>reader{p % 100}@example.org</email><name>Reader {p % 100}</name><isAnonymous>false</isAnonymous></author>'
          f'<ipAddress>203.0.113.{p % 250}</ipAddress><thread dsq:id="{t}"/>{parent}</post>\n')
write("</disqus>\n")
