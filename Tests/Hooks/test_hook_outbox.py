"""What the hook outbox keeps and when it sends, end to end against the real `margin serve`:
a queued delivery never holds a commenter's email or network (a trusted hook's is filled in as
it is sent, from the comment as it is then), a deleted comment's deliveries, sent or not, keep
only its deleted form, and a disabled hook sends nothing, retries included, until enabled again.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Hooks -q
"""
import contextlib
import json
import sqlite3
import time

from hooks_support import wait_until


def stored_payloads(node, comment_id):
    """The payloads the database holds for a comment's deliveries, as text."""
    with contextlib.closing(sqlite3.connect(node.db, timeout=10)) as db:
        return [p for (p,) in db.execute("SELECT payload FROM hook_deliveries WHERE comment_id = ?", (comment_id,))]


def test_a_trusted_hook_reads_the_address_when_it_sends_and_a_deleted_comment_leaves_none(node, receiver):
    site = node.add_site("kept")
    r = receiver()
    node.add_hook(preset="webhook", url=r.url(), site=site, trusted=True)
    secret_words, name, email, website = "zanzibar pelican", "Alice Quill", "alice.quill@example.org", "https://alice.example/"

    # Given a receiver that is down: the queued event holds neither the address nor the network...
    r.down()
    _, kept, _ = node.post("/k/", "kept " + secret_words, site=site, email=email, author=name)
    wait_until(lambda: stored_payloads(node, kept["id"]), 10, "no delivery stored")
    assert all(email not in p and json.loads(p)["comment"]["network"] is None for p in stored_payloads(node, kept["id"]))
    # ...and one whose author deletes it before it goes out is sent in its deleted form.
    _, gone, _ = node.post("/k/", "gone " + secret_words, site=site, email=email, author=name, website=website)
    node.remove(gone)
    for p in stored_payloads(node, gone["id"]):
        assert secret_words not in p and name not in p and email not in p and website not in p, p

    # When the receiver is back, the trusted hook gets the kept comment's address, read as it sends.
    r.up()
    wait_until(lambda: len(r.received()) >= 3, 30, lambda: r.events())
    time.sleep(1)
    assert r.events() == sorted([("comment.published", kept["id"]), ("comment.published", gone["id"]),
                                 ("comment.deleted", gone["id"])])
    by_event = {(q["json"]["type"], q["json"]["data"]["comment"]["id"]): q["json"]["data"]["comment"] for q in r.received()}
    sent = by_event[("comment.published", kept["id"])]
    assert sent["email"] == email and sent["network"] and sent["author"] == name and secret_words in sent["body"]
    for type_ in ("comment.published", "comment.deleted"):
        c = by_event[(type_, gone["id"])]
        assert c["email"] is None and c["network"] is None and c["author"] is None and c["website"] is None, (type_, c)
        assert secret_words not in json.dumps(c), (type_, c)

    # A moderator's delete turns the copies already sent into the deleted form too.
    assert any(secret_words in p for p in stored_payloads(node, kept["id"]))
    node.decide(kept["id"], "delete")
    wait_until(lambda: ("comment.deleted", kept["id"]) in r.events(), 15, lambda: r.events())
    payloads = stored_payloads(node, kept["id"])
    assert len(payloads) == 2
    for p in payloads:
        assert secret_words not in p and name not in p and email not in p, p


def test_a_disabled_hook_stops_its_queued_retries_until_enabled(node, receiver):
    site = node.add_site("paused")
    r = receiver()
    r.mode = "500"
    hook = node.add_hook(preset="webhook", url=r.url(), site=site)
    _, c, _ = node.post("/p/", "retry me", site=site)
    wait_until(lambda: len(r.received()) >= 2, 15, "the failing receiver was not retried")

    # Disabled while its delivery waits for a retry: nothing more is sent, the delivery waits.
    status, body = node.api("PATCH", f"/hooks/{hook['id']}", {"enabled": False})
    assert status == 200 and body["hook"]["enabled"] is False
    time.sleep(1)  # an attempt under way when it was disabled may still finish
    heard = len(r.received())
    time.sleep(5)  # the next retries were due within 2 and 4 seconds
    assert len(r.received()) == heard, [q["at"] for q in r.received()]
    [d] = node.deliveries(hook["id"])
    assert d["state"] == "pending" and d["last_status"] == 500

    # Enabled again, the same event goes out and is delivered.
    r.mode = "ok"
    assert node.api("PATCH", f"/hooks/{hook['id']}", {"enabled": True})[0] == 200
    wait_until(lambda: r.received("ok"), 15, "nothing sent after enabling")
    assert set(r.event_ids()) == {d["event_id"]} and r.received("ok")[0]["json"]["data"]["comment"]["id"] == c["id"]
    wait_until(lambda: node.deliveries(hook["id"])[0]["state"] == "delivered", 10, lambda: node.deliveries(hook["id"]))
