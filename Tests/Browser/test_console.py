"""Browser tests of the moderation console (/admin/: console.html, console.js, console.css) in
headless Chromium, against the real server binary with its own database, mail through the SMTP sink.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Browser -q -k console
Most tests share one server and one signed-in admin's browser; each works on a site of its own,
so they neither see nor disturb each other's comments.
"""
import concurrent.futures
import contextlib
import json
import os
import pathlib
import re
import sqlite3

import pytest

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from support import (INSTRUMENT, SCAN, SETTLED, Blog, Margin, SMTPSink, make_driver, open_page, shot_path, uniq,
                     wait, xss_payloads)

ADMIN = "admin@example.org"
MODERATOR = "mod@example.org"
ANY_LOCAL_ORIGIN = "http://127.0.0.1:*"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# ---- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sink():
    s = SMTPSink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def margin(sink):
    """The server most tests share: mail to the sink, one moderator, one admin, default spam scores
    (a blocklisted address is spam), every comment of the default site held."""
    m = Margin("--new-threads-per-hour", "0", "--moderator", MODERATOR, *sink.flags(), public_url=True)
    m.cli("admin", "users", "add", ADMIN)
    m.cli("sites", "update", "default", "--moderation", "all")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def blog(margin):
    b = Blog(margin)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def console(margin):
    """A browser signed in to the shared server as its admin."""
    d = make_driver()
    sign_in(d, margin, ADMIN)
    yield d
    d.quit()


# ---- helpers -------------------------------------------------------------------------------

def ready(d, view, timeout=10):
    """Waits until the console shows view, loaded."""
    wait(d, lambda: d.execute_script(
        "const a=document.getElementById('app');return !!a&&a.getAttribute('data-ready')===arguments[0]&&!a.hasAttribute('aria-busy')",
        view), timeout, msg=f"the console never showed {view}")


def sign_in(d, m, email):
    """Signs in through a link from `margin admin login-link` and its page's button."""
    link = m.cli("admin", "login-link", email, "--public-url", m.base).split()[0]
    d.get(link)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    ready(d, "queue")


def new_site(m, site, moderation="all"):
    m.cli("sites", "add", site, "--origin", ANY_LOCAL_ORIGIN, "--rate-limit", "off", "--moderation", moderation)
    return site


def open_queue(d, m, site=None, status=None):
    """Loads the console afresh (so it knows every site) and filters the queue; after a filter,
    Escape takes the focus from it to the first comment, as a moderator would."""
    d.get("about:blank")
    d.get(m.base + "/admin/")
    ready(d, "queue")
    filtered = False
    for select, value in (("site", site), ("status", status)):
        if value is not None:
            Select(d.find_element(By.ID, select)).select_by_value(value)
            ready(d, "queue")
            filtered = True
    if filtered:
        press(d, Keys.ESCAPE)


def row_ids(d):
    return [int(x) for x in d.execute_script("return [...document.querySelectorAll('#queue article.row')].map(a => a.dataset.id)")]


def wait_rows(d, expected, what="the queue"):
    """Waits until the queue shows exactly the comments expected."""
    try:
        wait(d, lambda: sorted(row_ids(d)) == sorted(expected))
    except TimeoutException:
        raise AssertionError(f"{what} shows {sorted(row_ids(d))}, not {sorted(expected)}") from None


def press(d, *keys):
    """Keys typed at whatever has the focus, as a moderator would."""
    ActionChains(d).send_keys(*keys).perform()


def live(d):
    return d.find_element(By.ID, "live").get_attribute("textContent")


def wait_live(d, text):
    """Waits until the status line says text."""
    try:
        wait(d, lambda: live(d) == text)
    except TimeoutException:
        raise AssertionError(f"the status line says {live(d)!r}, not {text!r}") from None


def focused_id(d):
    return d.execute_script("return document.activeElement.dataset.id || document.activeElement.id")


def statuses(m, site):
    """Each of the site's comments' status, as the CLI reports them."""
    rows = json.loads(m.cli("moderate", "list", "--status", "all", "--site", site, "--limit", "1000", "--json"))
    return {r["id"]: r["status"] for r in rows}


def wait_statuses(d, m, site, ids, status):
    """Waits until the server holds each of ids with status."""
    try:
        wait(d, lambda: all(statuses(m, site).get(i) == status for i in ids), timeout=15)
    except TimeoutException:
        raise AssertionError(f"not all of {ids} are {status}: {statuses(m, site)}") from None


def widget_texts(d):
    return [a.text for a in d.find_element(By.ID, "margin-thread").shadow_root.find_elements(By.CSS_SELECTOR, "article.c .tx")]


# ---- signing in ----------------------------------------------------------------------------

def test_sign_in_with_the_link_the_mail_brings(margin, sink):
    d = make_driver()
    try:
        d.get(margin.base + "/admin")  # the console redirects to /admin/ and asks who you are
        ready(d, "signin")
        assert d.current_url == margin.base + "/admin/"
        for email in ("stranger@example.org", MODERATOR):  # both answered alike; only the moderator gets mail
            field = d.find_element(By.ID, "signin-email")
            field.clear()
            field.send_keys(email)
            d.find_element(By.ID, "signin-submit").click()
            wait(d, lambda: d.find_element(By.ID, "signin-status").text == "If this address may moderate, a sign-in link is on its way.")
            d.execute_script("document.getElementById('signin-status').textContent=''")
        mail = sink.wait_for(lambda x: MODERATOR in x["rcpt_tos"] and "sign-in" in x["subject"])
        assert not [x for x in sink.messages() if "stranger@example.org" in x["rcpt_tos"]]
        link = re.search(r"^Sign in: (\S+)$", mail["body"], re.M).group(1)
        assert link.startswith(margin.base + "/admin/sign-in?")
        d.get(link)
        button = d.find_element(By.CSS_SELECTOR, "form button[type=submit]")
        assert button.text == "Sign in" and MODERATOR in d.find_element(By.TAG_NAME, "body").text
        button.click()
        ready(d, "queue")
        assert d.current_url == margin.base + "/admin/"
        assert d.find_element(By.ID, "who").text == MODERATOR
        cookie = next(c for c in d.get_cookies() if c["name"] == "margin_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"].startswith("mgs_")
        # a moderator has no import and export; the link works once
        assert not d.find_elements(By.CSS_SELECTOR, "nav a[data-view=transfer]")
        d.get(link)
        assert "This sign-in link has been used." in d.find_element(By.TAG_NAME, "body").text
    finally:
        d.quit()


# ---- moderating ----------------------------------------------------------------------------

def test_approving_a_held_comment_shows_it_in_the_widget(console, margin, blog):
    site = new_site(margin, "approve")
    text = uniq("Held until a moderator says yes")
    c = margin.post("/approve/", text, site=site, author="Ann")
    assert c["status"] == "pending"
    open_page(console, blog.url(site=site, uri="/approve/"))
    assert text not in widget_texts(console)

    open_queue(console, margin, site)
    wait_rows(console, [c["id"]])
    row = console.find_element(By.CSS_SELECTOR, f"#queue article.row[data-id='{c['id']}']")
    assert text in row.find_element(By.CSS_SELECTOR, ".tx").text
    row.find_element(By.CSS_SELECTOR, "button[data-act=approve]").click()
    wait_live(console, f"Comment {c['id']} approved. Press u to undo.")
    wait_rows(console, [])
    assert statuses(margin, site) == {c["id"]: "approved"}

    open_page(console, blog.url(site=site, uri="/approve/"))
    wait(console, lambda: text in widget_texts(console), msg="the approved comment is not in the widget")


def test_spam_twenty_comments_with_the_keyboard_only(console, margin):
    site = new_site(margin, "spam20")
    ids = [margin.post(f"/offers/{i % 3}/", f"Cheap watches, offer {i}: https://watches.example/{i}", site=site,
                       author=f"Seller {i}")["id"] for i in range(20)]
    open_queue(console, margin, site)
    wait_rows(console, ids)
    first = row_ids(console)[0]  # Escape from the site filter focused the first comment
    assert focused_id(console) == str(first)
    # ten selected with x (and j to the next), spammed at once
    for _ in range(10):
        press(console, "x", "j")
    assert console.find_element(By.ID, "sel-count").text == "10 selected"
    press(console, "s")
    wait_live(console, "10 comments marked as spam. Press u to undo.")
    assert len(row_ids(console)) == 10
    # the other ten one at a time: s spams the focused one and focus moves to the next
    for n in range(10, 0, -1):
        assert len(row_ids(console)) == n and focused_id(console) == str(row_ids(console)[0])
        press(console, "s")
    wait_rows(console, [])
    assert console.find_element(By.ID, "queue-info").text == "No comments here."
    wait_statuses(console, margin, site, ids, "spam")
    assert sorted(statuses(margin, site)) == sorted(ids)


def test_block_an_author_from_a_comment_and_their_next_post_is_spam(console, margin, blog):
    site = new_site(margin, "blocking")
    email = f"mallory.{os.getpid()}@pills.example"
    c = margin.post("/block/", "Great post! Visit my shop.", site=site, author="Mallory", email=email)
    open_queue(console, margin, site)
    wait_rows(console, [c["id"]])
    wait(console, lambda: console.find_element(By.ID, "detail").get_attribute("data-id") == str(c["id"]),
         msg="the detail pane did not show the comment")
    console.find_element(By.ID, "block-reason").send_keys("Sells pills")
    button = console.find_element(By.CSS_SELECTOR, "#detail-block button.block-email")
    assert button.text == f"Block email: {email}"
    button.click()
    wait(console, lambda: button.get_attribute("aria-disabled") == "true")
    wait_live(console, f"Blocked email: {email}.")
    entries = json.loads(margin.cli("block", "list", "--json"))
    # the block applies to the comment's site, not to every site
    assert any(e["kind"] == "email" and e["value"] == email and e.get("reason") == "Sells pills" and e.get("site") == site
               for e in entries), entries

    # Mallory comes back through the widget with the same address
    root = open_page(console, blog.url(site=site, uri="/block/"))
    form = root.find_element(By.CSS_SELECTOR, ".top form")
    text = uniq("Buy pills here")
    form.find_element(By.CSS_SELECTOR, "textarea").send_keys(text)
    form.find_element(By.CSS_SELECTOR, "input[name=author]").send_keys("Mallory")
    form.find_element(By.CSS_SELECTOR, "input[name=email]").send_keys(email)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the server answers as for any held comment, so Mallory learns nothing: her post awaits moderation
    wait(console, lambda: any(text in t for t in widget_texts(console)), msg="the widget did not answer the post")
    mine = next(a for a in root.find_elements(By.CSS_SELECTOR, "article.c") if text in a.text)
    assert mine.find_element(By.CSS_SELECTOR, ".badge").text == "Awaiting moderation"
    stored = json.loads(margin.cli("moderate", "list", "--status", "spam", "--site", site, "--json"))
    assert [r["text"] for r in stored] == [text]
    assert any("blocklist" in reason for reason in stored[0]["reasons"]), stored
    assert text not in json.dumps(margin.thread("/block/", site=site))  # nobody else sees it
    open_queue(console, margin, site)  # and it does not wait in the queue
    wait_rows(console, [c["id"]])

    # the Blocklist view lists the block with its site beside a block on every site
    word = f"casino{os.getpid()}"
    margin.cli("block", "add", "word", word)
    console.find_element(By.CSS_SELECTOR, "nav a[data-view=blocklist]").click()
    ready(console, "blocklist")

    def cells(kind, value):
        return [td.text for td in console.find_elements(By.CSS_SELECTOR, f"#blocklist tr[data-kind={kind}][data-value='{value}'] td")]
    headers = [th.text for th in console.find_elements(By.CSS_SELECTOR, "#blocklist thead th")]
    assert headers[:3] == ["Block", "Value", "Site"], headers
    assert cells("email", email)[:4] == ["email", email, site, "Sells pills"]
    assert cells("word", word)[:3] == ["word", word, "All sites"]
    # an admin blocks on one site from the form, and lifts the site's block
    Select(console.find_element(By.ID, "block-site")).select_by_value(site)
    Select(console.find_element(By.CSS_SELECTOR, "#block-add select:not(#block-site)")).select_by_value("author")
    console.find_element(By.ID, "block-value").send_keys("Mallory")
    console.find_element(By.CSS_SELECTOR, "#block-add button[type=submit]").click()
    wait_live(console, "Added name: mallory to the blocklist.")
    assert cells("author", "mallory")[:3] == ["name", "mallory", site]
    console.find_element(By.CSS_SELECTOR, f"#blocklist tr[data-kind=email][data-value='{email}'] button").click()
    wait_live(console, f"Removed email: {email} from the blocklist.")
    assert not cells("email", email)
    entries = json.loads(margin.cli("block", "list", "--json"))
    assert not [e for e in entries if e["value"] == email], entries
    assert [e.get("site") for e in entries if e["kind"] == "author" and e["value"] == "mallory"] == [site], entries
    assert [e.get("site") for e in entries if e["value"] == word] == [None], entries
    margin.cli("block", "remove", "word", word)


def test_search_finds_the_right_comments(console, margin):
    site = new_site(margin, "search")
    posts = {
        "dusk": margin.post("/zoo/", "Aardvarks eat termites at dusk.", site=site, author="Quentin Blake")["id"],
        "mounds": margin.post("/zoo/", "Termite mounds can be taller than a giraffe.", site=site, author="Ann")["id"],
        "other": margin.post("/zoo/", "Nothing about insects here.", site=site, author="Bo")["id"],
    }
    open_queue(console, margin, site)
    wait_rows(console, list(posts.values()))
    for words, expected in (("termit", ["dusk", "mounds"]), ("aardvark dusk", ["dusk"]), ("quentin", ["dusk"]),
                            ("termite giraffe", ["mounds"]), ("zebra", [])):
        press(console, "/")
        assert focused_id(console) == "q"
        press(console, words, Keys.ENTER)
        wait_rows(console, [posts[k] for k in expected], f"the search for {words!r}")
        ready(console, "queue")
        if expected:  # the first match has the focus, ready for a key
            assert focused_id(console) == str(row_ids(console)[0])
        else:  # nothing found: the words stay in the box, to be changed
            assert console.find_element(By.ID, "queue-info").text == "No comments here."
            assert focused_id(console) == "q"
    # Escape leaves the box, / selects its words, Backspace removes them: every comment is back
    press(console, Keys.ESCAPE, "/", Keys.BACKSPACE, Keys.ENTER)
    wait_rows(console, list(posts.values()))


def test_undo_puts_the_last_actions_comments_back(console, margin):
    site = new_site(margin, "undo")
    ids = [margin.post("/undo/", f"Comment number {i} for undo", site=site, author=f"Writer {i}")["id"] for i in range(4)]
    open_queue(console, margin, site)
    wait_rows(console, ids)
    one = row_ids(console)[0]
    assert focused_id(console) == str(one)
    press(console, "r")
    wait_live(console, f"Comment {one} rejected. Press u to undo.")
    wait_statuses(console, margin, site, [one], "rejected")
    assert one not in row_ids(console)
    press(console, "u")
    wait_live(console, "Undone: 1 comment restored.")
    wait_rows(console, ids)
    assert focused_id(console) == str(one)
    assert statuses(margin, site)[one] == "pending"

    # a bulk action comes back whole
    two = row_ids(console)[1:3]
    press(console, "j", "x", "j", "x")
    press(console, "s")
    wait_live(console, "2 comments marked as spam. Press u to undo.")
    wait_statuses(console, margin, site, two, "spam")
    assert sorted(row_ids(console)) == sorted(set(ids) - set(two))
    press(console, "u")
    wait_live(console, "Undone: 2 comments restored.")
    wait_rows(console, ids)
    assert {statuses(margin, site)[i] for i in ids} == {"pending"}
    # only the last action is undone; a deletion (asked first, Cancel focused) removes the comment for good
    press(console, "u")
    wait_live(console, "Nothing to undo.")
    gone = int(focused_id(console))
    press(console, "d")
    assert focused_id(console) == "confirm-cancel"
    console.find_element(By.ID, "confirm-ok").click()
    wait_live(console, f"Comment {gone} deleted.")
    press(console, "u")
    wait_live(console, "Nothing to undo.")
    assert gone not in row_ids(console) and gone not in statuses(margin, site)


def test_a_deletion_is_final(console, margin):
    site = new_site(margin, "final", moderation="none")
    parent = margin.post("/final/", "A comment someone answered", site=site, author="Ann")["id"]
    reply = margin.post("/final/", "The answer", site=site, author="Bo", parent=parent)["id"]
    open_queue(console, margin, site, status="approved")
    wait_rows(console, [parent, reply])
    press(console, *["j"] * row_ids(console).index(parent))
    assert focused_id(console) == str(parent)
    press(console, "d")
    console.find_element(By.ID, "confirm-ok").click()
    # the server keeps a tombstone for the reply's sake, yet no undo is offered, and u has none
    wait_live(console, f"Comment {parent} deleted.")
    wait_statuses(console, margin, site, [parent], "deleted")
    press(console, "u")
    wait_live(console, "Nothing to undo.")
    assert statuses(margin, site)[parent] == "deleted"
    # a deleted comment has no Restore (nor any other action); a spammed one has
    press(console, "s")
    wait_live(console, f"Comment {reply} marked as spam. Press u to undo.")
    open_queue(console, margin, site, status="deleted")
    wait_rows(console, [parent])
    row = console.find_element(By.CSS_SELECTOR, f"#queue article.row[data-id='{parent}']")
    assert not row.find_elements(By.CSS_SELECTOR, "button[data-act]")
    open_queue(console, margin, site, status="spam")
    wait_rows(console, [reply])
    console.find_element(By.CSS_SELECTOR, f"#queue article.row[data-id='{reply}'] button[data-act=restore]").click()
    wait_live(console, f"Comment {reply} restored.")
    wait_statuses(console, margin, site, [reply], "approved")


def test_restoring_a_comment_nobody_decided_shows_why_not(console, margin):
    site = new_site(margin, "undecided")
    path = os.path.join(margin.dir, "undecided.jsonl")
    with open(path, "w", encoding="utf-8") as f:  # imported as spam: no decision in its log
        for line in ({"format": "margin", "version": 1},
                     {"type": "thread", "id": 1, "site": site, "uri": "/undecided/", "title": "Undecided", "locked": False,
                      "created_at": 1_700_000_000_000},
                     {"type": "comment", "id": 1, "site": site, "thread": 1, "parent": None, "status": "spam", "author": "Cy",
                      "body": "Imported as spam", "html": "<p>Imported as spam</p>", "created_at": 1_700_000_000_000}):
            f.write(json.dumps(line) + "\n")
    margin.cli("import", "margin", path)
    (cid, status), = statuses(margin, site).items()
    assert status == "spam"
    open_queue(console, margin, site, status="spam")
    wait_rows(console, [cid])
    console.find_element(By.CSS_SELECTOR, f"#queue article.row[data-id='{cid}'] button[data-act=restore]").click()
    alert = console.find_element(By.ID, "alert")
    wait(console, lambda: alert.is_displayed() and alert.text, msg="no alert")
    assert alert.text not in ("Something went wrong. Please try again.", "Could not reach the server. Please try again.")
    assert alert.text == f"Comment {cid} has no decision to undo."  # the server's 409 nothing_to_restore
    assert statuses(margin, site) == {cid: "spam"} and row_ids(console) == [cid]


# ---- hostile content -----------------------------------------------------------------------

# What a comment's text may hold in the console: the allowlist, attributes only on links (href of
# http, https or mailto, and rel) and the [image] stand-in; and no link on the page to a script URL.
ALLOWED = r"""
const keep = new Set('p br a em strong b i s del ins code pre blockquote ul ol li h1 h2 h3 h4 h5 h6 hr table thead tbody tfoot tr th td caption sup sub'.split(' '));
const scope = document.querySelector(arguments[0] || 'body'), bad = [];
for (const e of scope.querySelectorAll('.tx *')) {
  const t = e.localName;
  if (e.namespaceURI != 'http://www.w3.org/1999/xhtml') bad.push('element ' + e.namespaceURI + ' ' + t);
  else if (t == 'span') { if (e.className != 'img' || e.attributes.length != 1 || e.children.length) bad.push('span ' + e.outerHTML.slice(0, 80)); continue; }
  else if (!keep.has(t)) bad.push('element ' + t);
  for (const a of e.attributes) if (!(t == 'a' && (a.name == 'href' || a.name == 'rel'))) bad.push(t + '[' + a.name + '=' + a.value.slice(0, 60) + ']');
  if (t == 'a' && e.hasAttribute('href') && !/^(https?|mailto):/.test(e.getAttribute('href'))) bad.push('href ' + e.getAttribute('href').slice(0, 80));
}
for (const a of scope.querySelectorAll('[href]')) {
  let p = 'invalid';
  try { p = new URL(a.getAttribute('href'), location.href).protocol; } catch (x) { /* stays invalid */ }
  if (!/^(https?|mailto):$/.test(p)) bad.push('link ' + a.outerHTML.slice(0, 120));
}
return bad;
"""


def post_payloads(m, payloads, chunk=100):
    """Each chunk as a thread: the first payload a comment (the thread's title too), the rest its
    replies; text and name are the payload, and the website where the API takes it."""
    def send(body):
        status, c = m.request("POST", "/comments", body)
        if status == 422 and body.pop("website", None):  # not an http(s) URL: posted without it
            status, c = m.request("POST", "/comments", body)
        if status == 422 and body.pop("title", None):
            status, c = m.request("POST", "/comments", body)
        return status, c

    def body(uri, p, parent=None):
        b = {"site": "default", "uri": uri, "text": p, "author": p[:100]}
        if not parent:
            b["title"] = p[:200]
        if p.lower().startswith(("http://", "https://")):
            b["website"] = p
        if parent:
            b["parent"] = parent
        return b

    parents = {}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for n, i in enumerate(range(0, len(payloads), chunk)):
            uri = f"/xss/{n}/"
            status, c = send(body(uri, payloads[i]))
            if status != 201:
                status, c = send(body(uri, f"Thread {n}: " + payloads[i]))
            assert status == 201, c
            jobs = [pool.submit(send, body(uri, p, c["id"])) for p in payloads[i + 1:i + chunk]]
            replies = [j.result() for j in jobs]
            parents[c["id"]] = sum(1 for s, _ in replies if s == 201)
    return parents


def import_payloads(m, payloads, chunk=100):
    """The payloads in a Margin export, imported with `margin import margin` into the empty
    database: the fields it takes as they are (name, email, browser, origin, spam reasons, page
    title) hold the payload, and its HTML goes through the server's sanitiser. Threads as above."""
    ok = [p for p in payloads if not any(0xD800 <= ord(c) <= 0xDFFF for c in p)]
    lines = [{"format": "margin", "version": 1}]
    parents = {}
    for n, i in enumerate(range(0, len(ok), chunk)):
        lines.append({"type": "thread", "id": n + 1, "site": "default", "uri": f"/xss-import/{n}/", "title": ok[i][:200],
                      "locked": False, "created_at": 1_700_000_000_000})
        parents[i + 1] = len(ok[i + 1:i + chunk])
    for i, p in enumerate(ok):
        first = i - i % chunk + 1
        lines.append({"type": "comment", "id": i + 1, "site": "default", "thread": i // chunk + 1,
                      "parent": None if first == i + 1 else first, "status": "approved", "author": p[:100],
                      "email": p[:80], "body": p, "html": p, "created_at": 1_700_000_000_000 + i, "ip": "203.0.113.0",
                      "user_agent": p[:300], "origin": f"xss:{i}:{p[:80]}", "spam_score": 1.5, "spam_reasons": [p[:200]]})
    path = os.path.join(m.dir, "xss.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    summary = json.loads(m.cli("import", "margin", path, "--json"))
    assert summary["comments"] == len(ok), summary
    return parents


def store_hostile_websites(m, payloads):
    """Every payload as the website of one of the imported comments, in the database file itself.
    The server refuses such a website when posted or imported (an http(s) URL without quotes,
    angle brackets, spaces or control characters), so the test writes it where an older version's
    database or a hand edit would hold it: the console must not trust what the store holds.
    Returns {comment id: website}."""
    ok = [p for p in payloads if not any(0xD800 <= ord(c) <= 0xDFFF for c in p)]
    stored = {}
    with contextlib.closing(sqlite3.connect(m.db, timeout=30)) as db, db:
        for i, p in enumerate(ok):
            row = db.execute("SELECT id FROM comments WHERE origin = ?", (f"xss:{i}:{p[:80]}",)).fetchone()
            assert row, i
            db.execute("UPDATE comments SET website = ? WHERE id = ?", (p, row[0]))
            stored[row[0]] = p
    return stored


# Focuses each comment of arguments[0] in turn and reads its detail pane: the website as shown,
# and whatever where it shows (the facts, the block buttons) is not inert: an event-handler
# attribute, a link that is not http(s) or mailto, an attribute on the website's element other
# than a link's href and rel. Leaves
# [shown, bad] in window.__websites (the instrumented page has no execute_async_script).
WEBSITES = r"""
const ids = arguments[0], shown = {}, bad = [];
const frame = () => new Promise(r => requestAnimationFrame(r));
(async () => {
  for (const id of ids) {
    document.querySelector(`#queue article.row[data-id='${id}']`).focus();
    const pane = document.getElementById('detail'), t0 = Date.now();
    while (pane.dataset.id != String(id) || !pane.querySelector('.facts')) {
      if (Date.now() - t0 > 10000) { bad.push('no detail pane for ' + id); break; }
      await frame();
    }
    const dt = [...pane.querySelectorAll('.facts dt')].find(e => e.textContent == 'Website');
    const dd = dt && dt.nextElementSibling;
    shown[id] = dd ? dd.textContent : null;
    for (const e of pane.querySelectorAll('.facts *, #detail-block *')) for (const a of e.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || ['src', 'srcdoc', 'action', 'formaction', 'xlink:href', 'style'].includes(n)) bad.push(id + ': ' + e.localName + '[' + n + ']');
      if (n == 'href') {
        let p = 'invalid';
        try { p = new URL(a.value, location.href).protocol; } catch (x) { /* stays invalid */ }
        if (!/^(https?|mailto):$/.test(p)) bad.push(id + ': href ' + a.value.slice(0, 80));
      }
    }
    if (dd) for (const e of dd.querySelectorAll('*'))
      if (e.localName != 'a' || [...e.attributes].some(a => a.name != 'href' && a.name != 'rel')) bad.push(id + ': website ' + e.outerHTML.slice(0, 120));
  }
  window.__websites = [shown, bad];
})();
"""


def test_xss_payloads_are_inert_in_the_queue_and_the_detail_pane():
    payloads = xss_payloads()
    m = Margin("--spam-hold", "50", "--spam-threshold", "100", "--new-threads-per-hour", "0", public_url=True)
    d = None
    try:
        m.cli("admin", "users", "add", ADMIN)
        parents = import_payloads(m, payloads)
        websites = store_hostile_websites(m, payloads)
        posted = post_payloads(m, payloads)
        assert sum(posted.values()) + len(posted) > len(payloads) * 0.9, sum(posted.values())
        parents.update(posted)
        d = make_driver()
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
        sign_in(d, m, ADMIN)
        Select(d.find_element(By.ID, "status")).select_by_value("all")
        ready(d, "queue")
        total = len(parents) + sum(parents.values())
        # Load more until there is no more (polled: the instrumented page has no async scripts)
        d.execute_script("""
          const more = document.getElementById('more');
          window.__loading = setInterval(() => { if (!more.hidden && !more.disabled) more.click(); }, 10);""")
        wait(d, lambda: d.execute_script("return document.getElementById('more').hidden"), timeout=60, msg="the queue never ended")
        d.execute_script("clearInterval(window.__loading)")
        shown = len(row_ids(d))
        assert shown == total
        for pid, replies in parents.items():  # each thread's comment shows all its replies beside it
            d.execute_script("document.querySelector(`#queue article.row[data-id='${arguments[0]}']`).focus()", pid)
            wait(d, lambda: d.execute_script(
                "const p=document.getElementById('detail');return p.dataset.id==arguments[0]&&p.querySelectorAll('#detail-replies article.mini').length",
                str(pid)) == replies, msg=f"the detail pane of {pid} never showed its {replies} replies")
            history = d.find_elements(By.CSS_SELECTOR, "#detail-history article.mini")
            assert history and d.execute_script(ALLOWED, "#detail") == [], pid
        # every payload as a website, in its comment's detail pane: shown as text, character for
        # character, a link only when it is an http(s) URL, and nothing injected
        d.execute_script(WEBSITES, sorted(websites))
        wait(d, lambda: d.execute_script("return !!window.__websites"), timeout=900, msg="the detail panes never all showed")
        shown, bad = d.execute_script("return window.__websites")
        assert bad == [], bad[:5]
        assert {int(k): v for k, v in shown.items()} == websites
        frames = d.execute_script("""
          for (const e of document.querySelectorAll('.tx *, .au, #detail dd'))
            for (const t of ['mouseover', 'mouseenter', 'focus', 'click', 'animationstart'])
              try { e.dispatchEvent(new Event(t)); } catch (x) {}
          return window.__xssFrames""")
        wait(d, lambda: d.execute_script(SETTLED, frames), timeout=60, msg="the console never settled")
        api = m.base + "/api/v1/admin/"
        calls = [c for c in d.execute_script("return window.__xss")
                 if not (c[0] == "fetch" and (c[1].startswith("/api/v1/admin/") or c[1].startswith(api)))
                 and not (c[0] == "Function" and c[1].startswith("return async function(){"))]
        assert calls == [], calls[:5]
        assert d.execute_script("return location.href===window.__xssLoc")
        assert d.execute_script(SCAN) == []
        assert d.execute_script(ALLOWED) == []
        assert d.title == "Queue · Margin"
        # a name is shown as text, character for character
        shown = d.execute_script("return [...document.querySelectorAll('#queue .row .au')].map(e => e.textContent)")
        assert sum(1 for s in shown if "<" in s) > 100, shown[:5]
    finally:
        if d:
            d.quit()
        m.stop()


# ---- the tidy server: accessibility, Korean, screenshots -----------------------------------

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.fixture(scope="module")
def tidy():
    """A fresh server holding a small, realistic conversation: a few held comments with their
    scores and reasons, from their own networks and browsers (the server trusts this machine as
    its proxy), decisions in the log, a blocklist, two sites."""
    m = Margin("--new-threads-per-hour", "0", "--moderator", MODERATOR, "--trusted-proxy", "127.0.0.1", public_url=True)
    m.cli("admin", "users", "add", ADMIN)
    m.cli("sites", "add", "docs", "--name", "Project docs", "--origin", ANY_LOCAL_ORIGIN, "--rate-limit", "off")

    def say(uri, title, text, ip, agent, site="default", **kw):
        status, c = m.request("POST", "/comments", {"site": site, "uri": uri, "title": title, "text": text, **kw},
                              headers={"X-Forwarded-For": ip, "User-Agent": agent})
        assert status in (201, 202), c
        return c

    sqlite, keys = ("/2026/12/sqlite-in-production/", "SQLite in production"), ("/2026/11/keyboard-first/", "Keyboard first")
    ada = dict(author="Ada Lovelace", email="ada@example.org", website="https://example.org/ada")
    deals = dict(author="Watch Deals", email="deals@watches.example")
    parent = say(*sqlite, "Lovely write-up. The part about **incremental checkpoints** finally made it click for me.",
                 "198.51.100.23", FIREFOX, **ada)
    say(*sqlite, "Did you benchmark it against PostgreSQL?\n\n> Measure, don't guess.", "192.0.2.77", SAFARI,
        author="Grace Hopper", email="grace@example.org")
    say(*keys, "Finally someone who moderates from the keyboard.", "203.0.113.9", CHROME, author="Linus Q.")
    say("/getting-started/", "Getting started", "The embed snippet worked on the first try.", "192.0.2.140", FIREFOX,
        site="docs", author="Noor")
    m.cli("sites", "update", "default", "--moderation", "all")
    held = [
        say(*sqlite, "Same here: WAL plus a single writer is hard to beat. I wrote up our numbers at "
            "https://ada.example.org/wal and in https://ada.example.org/bench.", "198.51.100.23", FIREFOX,
            parent=parent["id"], **ada),
        say(*sqlite, "How large was the database when checkpoints started to hurt?", "198.51.100.200", CHROME,
            author="Margaret H.", email="margaret@example.net"),
        say(*keys, "Is there a way to approve from my phone?", "192.0.2.77", SAFARI, author="Grace Hopper",
            email="grace@example.org"),
        say(*keys, "BEST CHEAP WATCHES!!! http://watches.example/ http://watches.example/sale http://watches.example/buy",
            "203.0.113.50", CHROME, **deals),
    ]
    spam = say(*keys, "Watches, cheap: http://watches.example/", "203.0.113.50", CHROME, **deals)
    m.cli("moderate", "spam", str(spam["id"]))
    m.cli("block", "add", "domain", "watches.example", "--reason", "Sells watches in every thread")
    m.cli("block", "add", "word", "casino")
    pending = json.loads(m.cli("moderate", "list", "--json"))
    assert sorted(r["id"] for r in pending) == sorted(c["id"] for c in held), pending
    m.held = held
    yield m
    m.stop()


@pytest.fixture(scope="module")
def tidy_console(tidy):
    d = make_driver()
    d.set_window_size(1400, 1000)
    sign_in(d, tidy, ADMIN)
    yield d
    d.quit()


def axe_js():
    import axe_playwright_python
    return (pathlib.Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']}).then(
  r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' '))}))),
  e => done([{id: 'axe-error', impact: 'error', help: String(e), nodes: []}]));
"""


def axe_violations(d, source):
    if not d.execute_script("return !!window.axe"):
        d.execute_script(source)
    d.set_script_timeout(30)
    return d.execute_async_script(AXE_RUN, WCAG)


def readable(found):
    return "\n".join(f"{view}: {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
                     for view, vs in found for v in vs)


def test_every_view_passes_axe_in_light_and_dark(tidy, tidy_console):
    source = axe_js()
    d = tidy_console
    fresh = make_driver()
    found = []
    try:
        for scheme in ("light", "dark"):
            for x in (d, fresh):
                x.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            fresh.get(tidy.base + "/admin/")
            ready(fresh, "signin")
            found.append((f"sign-in ({scheme})", axe_violations(fresh, source)))

            open_queue(d, tidy)
            wait(d, lambda: len(row_ids(d)) == len(tidy.held))
            press(d, "j")
            wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "#detail #detail-log"), msg="no detail pane")
            d.find_element(By.CSS_SELECTOR, "#queue .row.cur details.score summary").click()
            found.append((f"queue and detail pane ({scheme})", axe_violations(d, source)))
            press(d, "?")
            wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "dialog#keys[open]"))
            found.append((f"keys dialog ({scheme})", axe_violations(d, source)))
            press(d, Keys.ESCAPE)
            wait(d, lambda: not d.find_elements(By.ID, "keys"))
            for view in ("dashboard", "activity", "sites", "blocklist", "transfer", "account"):
                d.find_element(By.CSS_SELECTOR, f"nav a[data-view={view}]").click()
                ready(d, view)
                found.append((f"{view} ({scheme})", axe_violations(d, source)))
    finally:
        fresh.quit()
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert all(not vs for _, vs in found), "axe found WCAG 2.2 AA violations:\n" + readable(found)
    assert len(found) == 18  # nine views (the queue with its detail pane), twice


def test_korean(tidy, tidy_console):
    d = tidy_console
    open_queue(d, tidy)
    try:
        Select(d.find_element(By.ID, "lang")).select_by_value("ko")
        ready(d, "queue")
        assert d.execute_script("return document.documentElement.lang") == "ko"
        assert d.find_element(By.CSS_SELECTOR, "nav a[data-view=queue]").text == "검토 대기열"
        assert d.find_element(By.CSS_SELECTOR, "nav a[data-view=dashboard]").text == "현황"
        assert d.find_element(By.ID, "keys-button").text == "단축키"
        assert d.find_element(By.CSS_SELECTOR, "#queue .row button[data-act=approve]").text == "승인"
        assert d.title == "검토 대기열 · Margin"
        assert d.find_element(By.ID, "queue-info").text == f"{len(tidy.held)}개 표시"
        open_queue(d, tidy)  # the choice is remembered
        assert d.find_element(By.ID, "keys-button").text == "단축키"
    finally:
        Select(d.find_element(By.ID, "lang")).select_by_value("en")
        ready(d, "queue")
    assert d.find_element(By.ID, "keys-button").text == "Keyboard shortcuts"


def full_page_shot(d, name, width=1400):
    """A screenshot as tall as the page, and as the detail pane, which scrolls within the window."""
    height = d.execute_script("""const p = document.getElementById('detail');
      return Math.max(document.documentElement.scrollHeight, p ? p.getBoundingClientRect().top + p.scrollHeight + 24 : 0)""")
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": min(max(int(height), 700), 3000), "deviceScaleFactor": 1, "mobile": False})
    try:
        path = shot_path(name)
        d.save_screenshot(str(path))
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 20_000
    return path


def test_screenshots_of_the_queue_and_a_comment(tidy, tidy_console):
    d = tidy_console
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    try:
        open_queue(d, tidy)
        wait(d, lambda: len(row_ids(d)) == len(tidy.held))
        press(d, "j")  # the newest held comment, its details beside it
        first = row_ids(d)[0]
        wait(d, lambda: d.find_element(By.ID, "detail").get_attribute("data-id") == str(first))
        d.execute_script("for (const x of [...document.querySelectorAll('#queue details.score')].slice(0, 2)) x.open = true")
        assert d.find_elements(By.CSS_SELECTOR, "#queue details.score[open] li")
        full_page_shot(d, "console-queue.png")

        reply = tidy.held[0]["id"]  # a reply, by an author with other comments
        press(d, *["j"] * row_ids(d).index(reply))
        wait(d, lambda: d.find_element(By.ID, "detail").get_attribute("data-id") == str(reply))
        assert d.find_elements(By.CSS_SELECTOR, "#detail-parent article.mini")
        assert d.find_elements(By.CSS_SELECTOR, "#detail-history article.mini")
        press(d, Keys.ENTER)  # to the details
        assert focused_id(d) == "detail-title"
        full_page_shot(d, "console-comment.png")
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
