"""Hooks end to end: the real `margin serve` and `margin hooks` deliver comment events to receivers
on 127.0.0.1 (hooks made with allow_private), signed as Standard Webhooks and checked with the
specification's own `standardwebhooks` library; through receivers that are down, slow, failing
or redirecting; from two nodes sharing one PostgreSQL database (MARGIN_TEST_POSTGRES_URL, else a
cluster of scripts/pg-cluster); and never to a private destination unless allowed.
Each chat preset's request is in test_hook_presets.py.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Hooks -q
"""
import concurrent.futures
import contextlib
import json
import re
import sqlite3
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hooks_support import ACTIONS, Node, cli_json, fresh_database, postgres_cluster, wait_until


# ---- events, signatures ----------------------------------------------------------------------

def test_each_event_reaches_the_hooks_that_hear_it_and_only_those_signed(node, receiver):
    blog, other = node.add_site("blog"), node.add_site("other", "all")
    node.cli("block", "add", "email", "spammer@example.org", "--site", blog)
    r_all, r_blog, r_other, r_off, r_edits = (receiver() for _ in range(5))
    h_all = node.add_hook(name="everything", preset="webhook", url=r_all.url(), trusted=True)
    h_blog = node.add_hook(preset="webhook", url=r_blog.url("/blog"), site=blog, events=["comment.spam", "comment.approved"])
    h_other = node.add_hook(preset="webhook", url=r_other.url(), site=other)
    node.add_hook(preset="webhook", url=r_off.url(), site=blog, enabled=False)
    h_edits = node.add_hook(preset="webhook", url=r_edits.url(), events=["comment.edited", "comment.deleted"])
    # The secret is in clear in the answer that made the hook, and masked everywhere after.
    secret = h_all["secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret), secret
    status, listed = node.api("GET", "/hooks")
    assert status == 200 and len(listed["hooks"]) == 5
    masked = node.api("GET", f"/hooks/{h_all['id']}")[1]["hook"]["secret"]
    assert masked != secret and masked.endswith(secret[-4:]) and secret not in json.dumps(listed)
    assert secret not in node.run("hooks", "list", "--json").stdout

    _, c1, _ = node.post("/p/", "first words", site=blog, email="alice@example.org", author="Alice")
    _, c2, _ = node.post("/p/", "buy now", site=blog, email="spammer@example.org")
    _, c3, _ = node.post("/q/", "please review", site=other, email="bob@example.org")
    node.decide(c3["id"], "approve")
    node.edit(c1, "first words, edited")
    node.decide(c2["id"], "approve")
    _, c4, _ = node.post("/q/", "reject me", site=other)
    node.decide(c4["id"], "reject")
    assert node.api("PATCH", f"/comments/{c3['id']}", {"body": "please review (tidied)"})[0] == 200
    # Sent before the deletes below: a deletion turns a comment's unsent events into its deleted form.
    wait_until(lambda: len(r_all.received()) >= 9, 20, lambda: r_all.events())
    node.remove(c1)
    node.decide(c3["id"], "delete")
    node.decide(c2["id"], "spam")
    events = [(blog, "comment.published", c1), (blog, "comment.spam", c2), (other, "comment.held", c3),
              (other, "comment.approved", c3), (blog, "comment.edited", c1), (blog, "comment.approved", c2),
              (other, "comment.held", c4), (other, "comment.rejected", c4), (other, "comment.edited", c3),
              (blog, "comment.deleted", c1), (other, "comment.deleted", c3), (blog, "comment.spam", c2)]

    def expect(site=None, types=None):
        return sorted((t, c["id"]) for s, t, c in events if (site is None or s == site) and (types is None or t in types))
    expected = {r_all: expect(), r_blog: expect(blog, ["comment.spam", "comment.approved"]), r_other: expect(other),
                r_off: [], r_edits: expect(types=["comment.edited", "comment.deleted"])}
    for r, want in expected.items():
        wait_until(lambda: len(r.received()) >= len(want), 20, lambda: f"{r.events()} is not {want}")
    time.sleep(1.5)  # anything more that was going to come has come
    for r, want in expected.items():
        assert r.events() == want

    secrets = {r_all: secret, r_blog: h_blog["secret"], r_other: h_other["secret"], r_edits: h_edits["secret"]}
    ids = {}
    for r, key in secrets.items():
        for req in r.received():
            h, body = req["headers"], req["body"]
            assert req["method"] == "POST" and req["path"] in ("/hook", "/blog")
            assert h["content-type"].startswith("application/json") and h["user-agent"] == "Margin-Hooks/1"
            assert abs(int(h["webhook-timestamp"]) - time.time()) < 120
            assert re.fullmatch(r"msg_[A-Za-z0-9_-]{16,}", h["webhook-id"]), h["webhook-id"]
            assert Webhook(key).verify(body, h) == req["json"]
            with pytest.raises(WebhookVerificationError):
                Webhook(key).verify(body.replace(b'"comment"', b'"comment" ', 1), h)
            with pytest.raises(WebhookVerificationError):
                Webhook(secrets[r_other if r is not r_other else r_all]).verify(body, h)
            e = req["json"]
            assert set(e) == {"type", "timestamp", "data"}
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["timestamp"]), e["timestamp"]
            assert {"site", "comment", "actor", "moderator", "previous_status", "links"} <= set(e["data"])
            assert e["data"]["site"]["id"] == e["data"]["comment"]["site"]
            key_ = (e["type"], e["data"]["comment"]["id"], e["data"]["actor"])
            # One event reaching several hooks carries one id; no two events share one.
            assert ids.setdefault(key_, h["webhook-id"]) == h["webhook-id"], key_
    assert len(set(ids.values())) == len(ids) == len(events)

    def event(r, type_, c, actor=None):
        found = [q["json"]["data"] for q in r.received() if q["json"]["type"] == type_ and q["json"]["data"]["comment"]["id"] == c["id"]
                 and actor in (None, q["json"]["data"]["actor"])]
        assert len(found) == 1, (type_, c["id"], actor)
        return found[0]
    first = event(r_all, "comment.published", c1)
    assert (first["actor"], first["previous_status"], first["moderator"]) == ("reader", None, None)
    assert first["site"] == {"id": blog, "name": blog}
    comment = first["comment"]
    assert (comment["author"], comment["email"], comment["body"], comment["status"]) == ("Alice", "alice@example.org", "first words", "approved")
    assert comment["network"] and comment["thread"]["uri"] == "/p/" and comment["thread"]["url"] == "http://blog.example/p/"
    assert set(first["links"]) == set(ACTIONS)
    for action in ACTIONS:
        assert first["links"][action].startswith(f"{node.base}/moderate/{c1['id']}/{action}?"), first["links"]
    caught = event(r_all, "comment.spam", c2, "spam-filter")
    assert caught["comment"]["spam_score"] >= 9 and any("blocklist" in x for x in caught["comment"]["spam_reasons"])
    approved = event(r_other, "comment.approved", c3)
    assert (approved["actor"], approved["previous_status"]) == ("admin-api", "pending")
    # An untrusted hook learns neither the commenter's address and network nor the moderator's.
    assert approved["comment"]["email"] is None and approved["comment"]["network"] is None and approved["moderator"] is None
    trusted = event(r_all, "comment.approved", c3)
    assert trusted["moderator"] and trusted["comment"]["email"] == "bob@example.org"
    edited = event(r_edits, "comment.edited", c1)
    assert (edited["actor"], edited["previous_status"], edited["comment"]["body"]) == ("author", "approved", "first words, edited")
    assert edited["comment"]["email"] is None
    tidied = event(r_edits, "comment.edited", c3)
    assert tidied["actor"] == "admin-api" and tidied["moderator"] is None and tidied["comment"]["body"] == "please review (tidied)"
    assert event(r_all, "comment.edited", c3)["moderator"] == trusted["moderator"]
    for c, actor in ((c1, "author"), (c3, "admin-api")):
        gone = event(r_all, "comment.deleted", c)
        assert gone["actor"] == actor and gone["links"] is None
        assert gone["comment"]["body"] == "" and gone["comment"]["author"] is None and gone["comment"]["email"] is None
    assert event(r_blog, "comment.approved", c2)["previous_status"] == "spam"


# ---- unreliable receivers ---------------------------------------------------------------------

def test_down_slow_failing_and_redirecting_receivers_lose_nothing_and_slow_no_post(node, receiver):
    site = node.add_site("flaky")
    good, down, slow, failing, moving, trap = (receiver() for _ in range(6))
    down.down()
    slow.mode, failing.mode, moving.mode = "slow", "500", "302"
    moving.redirect_to = trap.url("/trap")
    hooks = {r: node.add_hook(preset="webhook", url=r.url(), site=site) for r in (good, down, slow, failing, moving)}

    posts = [node.post(f"/f{i}/", f"comment {i}", site=site) for i in range(3)]
    wait_until(lambda: slow.received(), 8, "the slow receiver was never tried")
    posts.append(node.post("/f3/", "comment 3", site=site))  # while an attempt waits on the slow receiver
    assert max(p[2] for p in posts) < 1.0, [p[2] for p in posts]  # no POST waits for a receiver
    # A slow receiver holds up no one else.
    wait_until(lambda: len(good.received()) == 4, 8, lambda: good.events())
    expected = sorted(good.event_ids())

    def delivery(r):
        return cli_json(node.run("hooks", "deliveries", str(hooks[r]["id"]), "--json"))
    wait_until(lambda: all(failing.event_ids().count(i) >= 2 for i in expected), 15,
               lambda: f"the failing receiver got {failing.event_ids()}")  # retried, same ids
    assert sorted(set(failing.event_ids())) == expected
    for r in (down, slow, moving):
        wait_until(lambda: all(d["attempts"] >= 1 for d in delivery(r)) and len(delivery(r)) == 4, 15, lambda: delivery(r))
    for d in delivery(failing):
        assert d["state"] == "pending" and d["last_status"] == 500 and d["attempts"] >= 1
        assert d["last_response"].startswith("receiver broken") and len(d["last_response"].encode()) <= 4096
    for d in delivery(moving):
        assert d["state"] == "pending" and d["last_status"] == 302
    for r in (down, slow):
        for d in delivery(r):
            # the slow one's answer would come after 5 s: the attempt ended at the 2 s limit
            assert d["state"] == "pending" and d["last_status"] is None and d["last_error"], d
    assert trap.received() == []  # no redirect followed
    listing = node.run("hooks", "deliveries", str(hooks[failing]["id"]))
    assert listing.returncode == 0 and "500" in listing.stdout, listing.stdout

    down.up()
    slow.mode = failing.mode = moving.mode = "ok"
    for r in (down, slow, failing, moving):
        wait_until(lambda: sorted(set(r.event_ids("ok"))) == expected, 30, lambda: r.received("ok"))
        wait_until(lambda: all(d["state"] == "delivered" for d in delivery(r)), 10, lambda: delivery(r))
        assert all(d["last_status"] == 200 and d["attempts"] >= 2 for d in delivery(r))
    assert trap.received() == []


# ---- two nodes ----------------------------------------------------------------------------------

def test_two_nodes_on_one_postgresql_database_send_each_event_once(receiver):
    with postgres_cluster() as cluster:
        db = fresh_database(cluster)
        nodes = []

        def start():
            nodes.append(Node(db=db, env={"MARGIN_HOOKS_TIMEOUT": "10"}))
            return nodes[-1]
        try:
            a = start()
            a.add_site("shared")
            r = receiver()
            hook = a.add_hook(preset="webhook", url=r.url(), site="shared")
            # Each node's sender delivers on its own...
            a.post("/a/", "from a", site="shared")
            wait_until(lambda: len(r.event_ids()) == 1, 15, "node a delivered nothing")
            b = start()
            a.stop()
            b.post("/b/", "from b", site="shared")
            wait_until(lambda: len(r.event_ids()) == 2, 15, "node b delivered nothing")
            # ...and together they send each event once, whichever node stored it.
            a = start()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                comments = list(pool.map(lambda i: (a, b)[i % 2].post(f"/n{i}/", f"comment {i}", site="shared")[1], range(16)))
                list(pool.map(lambda c: (a, b)[c["id"] % 2].decide(c["id"], "reject"), comments[:8]))
            wait_until(lambda: len(set(r.event_ids())) >= 26, 40, lambda: len(set(r.event_ids())))
            time.sleep(3)  # past both nodes' next polls
            ids = r.event_ids()
            assert len(ids) == len(set(ids)) == 26, sorted(i for i in ids if ids.count(i) > 1)
            assert len(r.events()) == 26
            for n in (a, b):
                deliveries = n.deliveries(hook["id"])
                assert len(deliveries) == 26
                assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in deliveries), deliveries
        finally:
            for n in nodes:
                n.stop()


# ---- refused destinations ---------------------------------------------------------------------

def test_private_destinations_are_refused_at_creation_by_name(node, receiver):
    r = receiver()
    refused = [(f"http://127.0.0.1:{r.port}/hook", ["127.0.0.1", "loopback"]),
               ("http://10.1.2.3/hook", ["10.1.2.3", "private"]),
               ("http://169.254.169.254/latest/meta-data/", ["169.254.169.254", "metadata"]),
               (f"http://[::1]:{r.port}/hook", ["::1", "loopback"]),
               (f"http://localhost:{r.port}/hook", ["localhost", "loopback"]),
               ("http://[::ffff:10.0.0.1]/hook", ["10.0.0.1", "private"])]
    for url, words in refused:
        out = node.run("hooks", "add", "--preset", "webhook", "--url", url)
        said = out.stdout + out.stderr
        assert out.returncode != 0, (url, said)
        status, body = node.api("POST", "/hooks", {"preset": "webhook", "url": url})
        assert status == 422 and body["error"]["code"] == "destination_refused", (url, status, body)
        for message in (said, body["error"]["message"]):
            for word in words:
                assert word in message, (url, word, message)
            assert re.search(r"allow[-_]private", message), message
            if "localhost" in url:  # the name and what it resolved to
                assert "127.0.0.1" in message or "::1" in message, message
    assert node.api("GET", "/hooks")[1]["hooks"] == []
    assert r.received() == []
    # allowed when asked for
    assert node.add_hook(preset="webhook", url=f"http://127.0.0.1:{r.port}/hook")["allow_private"] is True


def test_a_private_destination_is_refused_at_every_attempt(node, receiver):
    site = node.add_site("private")
    r = receiver()
    literal = node.add_hook(preset="webhook", url=r.url("/literal"), site=site)
    named = node.add_hook(preset="webhook", url=f"http://localhost:{r.port}/named", site=site)
    # Taking the permission away is vetted as a new hook is: refused while the hook points there.
    out = node.run("hooks", "update", str(literal["id"]), "--no-allow-private")
    assert out.returncode != 0 and "127.0.0.1" in out.stderr and "loopback" in out.stderr, out.stdout + out.stderr
    status, body = node.api("PATCH", f"/hooks/{named['id']}", {"allow_private": False})
    assert status == 422 and body["error"]["code"] == "destination_refused" and "localhost" in body["error"]["message"], body
    assert all(node.api("GET", f"/hooks/{h['id']}")[1]["hook"]["allow_private"] for h in (literal, named))
    # A destination vetted when the hook was made can turn private later (its name comes to
    # resolve elsewhere), which a test cannot make DNS do: the database says so instead, and the
    # sender, vetting every attempt, must refuse.
    with contextlib.closing(sqlite3.connect(node.db, timeout=10)) as db, db:
        db.execute("UPDATE hooks SET allow_private = 0")
    node.post("/x/", "hello", site=site)
    for h, word in ((literal, "127.0.0.1"), (named, "localhost")):
        [d] = wait_until(lambda: [d for d in node.deliveries(h["id"]) if d["attempts"] >= 1], 15, lambda: node.deliveries(h["id"]))
        assert d["state"] == "pending" and d["last_status"] is None, d
        assert word in d["last_error"] and "loopback" in d["last_error"], d["last_error"]
    out = node.run("hooks", "test", str(literal["id"]))
    assert out.returncode == 1 and "loopback" in out.stdout + out.stderr, out.stdout + out.stderr
    time.sleep(0.5)
    assert r.received() == []


# ---- the CLI ------------------------------------------------------------------------------------

def test_the_cli_adds_tests_lists_retries_and_removes_a_hook(node, receiver):
    r = receiver()
    out = node.run("hooks", "add", "--preset", "webhook", "--url", r.url("/cli"), "--allow-private", "--name", "cli hook",
                   "--events", "held,approved")
    assert out.returncode == 0, out.stdout + out.stderr
    secret = re.search(r"whsec_[A-Za-z0-9+/]+=*", out.stdout).group(0)
    listed = node.run("hooks", "list", "--json")
    [hook] = [h for h in cli_json(listed) if h["name"] == "cli hook"]
    assert secret not in listed.stdout and hook["events"] == ["comment.held", "comment.approved"]
    hook_id = str(hook["id"])

    sent = node.run("hooks", "test", hook_id)
    assert sent.returncode == 0 and "200" in sent.stdout and "from receiver" in sent.stdout, sent.stdout + sent.stderr
    [q] = r.received()
    assert q["path"] == "/cli" and Webhook(secret).verify(q["body"], q["headers"])["type"] == "comment.held"
    assert q["json"]["data"]["links"] is None  # a sample: nothing to moderate
    r.mode = "500"
    refused = node.run("hooks", "test", hook_id)
    assert refused.returncode == 1 and "500" in refused.stdout + refused.stderr, refused.stdout + refused.stderr

    deliveries = cli_json(node.run("hooks", "deliveries", hook_id, "--json"))
    assert len(deliveries) == 2 and {d["type"] for d in deliveries} == {"comment.held"}
    [ok] = [d for d in deliveries if d["state"] == "delivered"]
    [bad] = [d for d in deliveries if d["state"] != "delivered"]
    assert ok["last_status"] == 200 and bad["last_status"] == 500 and bad["last_response"].startswith("receiver broken")
    assert node.run("hooks", "deliveries", hook_id, "--retry", str(ok["id"])).returncode != 0  # not a failed one
    status, body = node.api("POST", f"/hook-deliveries/{ok['id']}/retry")
    assert status == 409 and body["error"]["code"] == "not_failed", (status, body)
    assert bad["state"] == "failed"  # a sample is sent once: kept failed, with its answer, until retried
    r.mode = "ok"
    again = node.run("hooks", "deliveries", hook_id, "--retry", str(bad["id"]))
    assert again.returncode == 0, again.stdout + again.stderr
    wait_until(lambda: bad["event_id"] in r.event_ids("ok"), 15, lambda: r.received())
    wait_until(lambda: all(d["state"] == "delivered" for d in cli_json(node.run("hooks", "deliveries", hook_id, "--json"))), 10,
               "the retried delivery is not marked delivered")

    assert node.run("hooks", "remove", hook_id).returncode == 0
    assert [h for h in cli_json(node.run("hooks", "list", "--json")) if h["name"] == "cli hook"] == []
    gone = node.run("hooks", "test", hook_id)
    assert gone.returncode != 0 and f"No hook with id {hook_id}" in gone.stdout + gone.stderr
