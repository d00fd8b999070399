"""Each chat preset's request as its service documents it (Slack and Mattermost incoming webhooks,
Discord webhooks, Telegram's sendMessage, a Matrix room message, an ntfy topic), escaped so that
what a commenter wrote can neither format the message nor ping a channel; and the signed
moderation links a received message carries, used through the real server.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Hooks -q
"""
import json
import re
import time

import pytest

from hooks_support import ACTIONS, Node, moderation_links, open_link, shown, strings, wait_until

TOPIC = "margin-test-topic-7f3a"


@pytest.fixture
def node():
    """A server whose public URL has a name, as in production: Telegram takes buttons only to such
    links (it refuses bare addresses), and the links are opened at the server's own address."""
    n = Node(public_host="margin.example")
    yield n
    n.stop()


def test_each_preset_sends_what_its_service_documents_and_its_links_moderate(node, receiver):
    site = node.add_site("chat", "all")
    r = receiver()
    for fields in (dict(preset="slack", url=r.url("/services/T0001/B0001/slacksecret")),
                   dict(preset="mattermost", url=r.url("/hooks/mmsecret")),
                   dict(preset="discord", url=r.url("/api/webhooks/123456/discordsecret")),
                   dict(preset="telegram", url=r.base, target="-1001234567890", token="123456:TELEGRAMSECRET"),
                   dict(preset="matrix", url=r.base, target="!room:example.org", token="syt_MATRIXSECRET"),
                   dict(preset="ntfy", url=r.base, target=TOPIC, token="tk_NTFYSECRET")):
        made = node.add_hook(site=site, **fields)  # each preset's default events: published and held
        assert made["target"] == fields.get("target")  # in clear in the answer that made it, this once
    listings = json.dumps(node.api("GET", f"/hooks?site={site}")[1]) + node.run("hooks", "list", "--json").stdout
    table = node.run("hooks", "list").stdout
    for word in ("slacksecret", "mmsecret", "discordsecret", "TELEGRAMSECRET", "MATRIXSECRET", "NTFYSECRET", TOPIC):
        assert word not in listings and word not in table, word
    # An ntfy topic is the password of a topic on ntfy.sh: only its end is shown; chat and room ids are not secret.
    assert "…" + TOPIC[-4:] in listings and "…" + TOPIC[-4:] in table and "-1001234567890" in listings

    text = "Hi zebrafish <!channel> @everyone @channel <script>alert(1)</script> [click](http://evil.example) *loud*"
    _, c, _ = node.post("/post/", text, site=site, author="Mallory <b>", title="Post & <Title>")
    wait_until(lambda: len(r.received()) >= 6, 20, lambda: [q["path"] for q in r.received()])
    time.sleep(1)
    got = {}
    for q in r.received():
        p = q["path"]
        name = ("slack" if p.startswith("/services/") else "mattermost" if p.startswith("/hooks/") else "discord" if p.startswith("/api/webhooks/")
                else "telegram" if p.startswith("/bot") else "matrix" if p.startswith("/_matrix/") else "ntfy" if p == "/" else p)
        assert name not in got, f"{name} twice"
        assert q["headers"].get("content-type", "").startswith("application/json"), (name, q["headers"])
        assert q["json"] is not None, (name, q["body"][:200])
        got[name] = q
    assert sorted(got) == ["discord", "matrix", "mattermost", "ntfy", "slack", "telegram"]

    for name, q in got.items():
        everything = shown(" ".join(strings(q["json"])))
        assert "zebrafish" in everything and "Mallory" in everything, name
        assert "blog.example/post/" in everything, name  # the page
        assert "no-form-time" in everything, name  # the spam score's reasons of a held comment
        assert sorted(moderation_links(node.public_url, q["json"])) == sorted(ACTIONS), (name, everything)

    slack = got["slack"]
    assert slack["method"] == "POST" and slack["path"] == "/services/T0001/B0001/slacksecret"
    blocks = slack["json"]["blocks"]
    assert isinstance(slack["json"]["text"], str) and slack["json"]["text"]
    assert any(b["type"] == "section" and b["text"]["type"] == "mrkdwn" for b in blocks)
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 4 and all(e["type"] == "button" and e["text"]["type"] == "plain_text" and e["url"] for e in buttons)
    slack_text = " ".join(strings(slack["json"]))
    assert "<!channel>" not in slack_text and "&lt;!channel&gt;" in slack_text and "<script>" not in slack_text
    assert "Post &amp; &lt;Title&gt;" in slack_text  # the page's title is someone's text too

    mm = got["mattermost"]
    assert mm["method"] == "POST" and mm["path"] == "/hooks/mmsecret" and mm["json"]["username"] == "Margin"
    for ping in ("@channel", "@everyone", "[click](http://evil.example)"):
        assert ping not in mm["json"]["text"], ping

    discord = got["discord"]
    assert discord["method"] == "POST" and discord["path"] == "/api/webhooks/123456/discordsecret"
    assert discord["json"]["allowed_mentions"] == {"parse": []} and isinstance(discord["json"]["content"], str)
    [embed] = discord["json"]["embeds"]
    assert 0 < len(embed["title"]) <= 256 and len(embed["description"]) <= 4096 and embed["url"] == "http://blog.example/post/"
    assert all(set(f) >= {"name", "value"} for f in embed["fields"])
    assert "[click](http://evil.example)" not in embed["description"]

    tg = got["telegram"]
    assert tg["method"] == "POST" and tg["path"] == "/bot123456:TELEGRAMSECRET/sendMessage"
    body = tg["json"]
    assert body["chat_id"] == -1001234567890 and body["parse_mode"] == "HTML" and len(body["text"]) <= 4096
    assert body["link_preview_options"] == {"is_disabled": True}
    assert "<script>" not in body["text"] and "&lt;script&gt;" in body["text"] and "Mallory &lt;b&gt;" in body["text"]
    assert "Post &amp; &lt;Title&gt;" in body["text"]
    keyboard = [b for row in body["reply_markup"]["inline_keyboard"] for b in row]
    assert sorted(b["text"] for b in keyboard) == ["Approve", "Delete", "Reject", "Spam"] and all(b["url"] for b in keyboard)

    mx = got["matrix"]
    assert mx["method"] == "PUT" and mx["headers"]["authorization"] == "Bearer syt_MATRIXSECRET"
    # the transaction id (the same on a retry, so the room gets the message once) holds the event id
    assert re.fullmatch(r"/_matrix/client/v3/rooms/%21room%3Aexample\.org/send/m\.room\.message/(h\d+-)?msg_[A-Za-z0-9_-]+", mx["path"]), mx["path"]
    assert mx["json"]["msgtype"] == "m.text" and mx["json"]["format"] == "org.matrix.custom.html"
    assert isinstance(mx["json"]["body"], str) and "<script>" not in mx["json"]["formatted_body"]
    assert mx["json"]["m.mentions"] == {}  # no push rule matches a name someone wrote in a comment

    ntfy = got["ntfy"]
    assert ntfy["method"] == "POST" and ntfy["headers"]["authorization"] == "Bearer tk_NTFYSECRET"
    n = ntfy["json"]
    assert n["topic"] == TOPIC and "held" in n["title"] and isinstance(n["message"], str)
    assert n["click"] == "http://blog.example/post/" and n["priority"] == 4 and {"speech_balloon", "warning"} <= set(n["tags"])
    assert 0 < len(n["actions"]) <= 3 and all(a["action"] == "view" and a["label"] and a["url"] for a in n["actions"])

    # Every message's links verify; opening one changes nothing, its button acts once.
    for name, q in got.items():
        status, page = open_link(node.local(moderation_links(node.public_url, q["json"])["approve"]))
        assert status == 200 and '<form method="post"' in page and "<button" in page, (name, status)
    assert node.comment(c["id"])["status"] == "pending"
    approve = node.local({b["text"]: b["url"] for b in keyboard}["Approve"])
    assert open_link(approve, "POST")[0] == 200
    assert node.comment(c["id"])["status"] == "approved"
    assert open_link(approve, "POST")[0] == 409
    assert open_link(node.local(moderation_links(node.public_url, got["ntfy"]["json"])["reject"]), "POST")[0] == 409
    assert node.comment(c["id"])["status"] == "approved"
