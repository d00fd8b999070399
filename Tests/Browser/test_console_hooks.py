"""Browser tests of the console's notifications (a site's hooks, console-hooks.js) in headless
Chromium, against the real server binary and a webhook receiver of our own on 127.0.0.1.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Browser/test_console_hooks.py -q
An admin adds a signed webhook on a site's page, copies its secret (shown once), tests it, reads
its deliveries, retries a failed one, switches it off and removes it; a moderator sees none of it.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from standardwebhooks.webhooks import Webhook

from support import Margin, make_driver, wait
from test_console import (ADMIN, MODERATOR, axe_js, axe_violations, new_site, readable, ready, sign_in,
                          wait_live)

SITE = "news"


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers with `status` and `body`
    (changed by the tests as they go)."""

    def __init__(self):
        self.requests = []
        self.status, self.body = 202, b"accepted by the test receiver"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while (size := int(self.rfile.readline().split(b";")[0], 16)):
                        body += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/margin-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        """The JSON bodies received so far, oldest first."""
        return [json.loads(r["body"]) for r in self.requests]

    def wait_for(self, match, timeout=20):
        """The first request for which match(request) holds, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in list(self.requests) if match(r)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no such request in {timeout} s; got {[json.loads(r['body']).get('type') for r in self.requests]}")
            time.sleep(0.1)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def margin():
    m = Margin("--new-threads-per-hour", "0", public_url=True)
    m.cli("admin", "users", "add", ADMIN)
    new_site(m, SITE, moderation="none")
    m.cli("sites", "update", SITE, "--moderator", MODERATOR)
    yield m
    m.stop()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def console(margin):
    d = make_driver()
    d.set_window_size(1300, 1000)
    sign_in(d, margin, ADMIN)
    yield d
    d.quit()


# ---- helpers -------------------------------------------------------------------------------

def open_sites(d, m):
    """Loads the console afresh on its sites page, every site's notifications shown."""
    d.get("about:blank")
    d.get(m.base + "/admin/#sites")
    ready(d, "sites")
    return part(d)


def part(d, site=SITE):
    return d.find_element(By.CSS_SELECTOR, f"section.hooks-part[data-hooks-site='{site}']")


def hooks_shown(d, site=SITE):
    return [int(x) for x in d.execute_script(
        "return [...arguments[0].querySelectorAll('li.hook')].map(li => li.dataset.hook)", part(d, site))]


def open_form(d):
    """Opens the site's "Add a notification" form (if closed) and returns it."""
    details = part(d).find_element(By.CSS_SELECTOR, "details.hook-add")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    return details.find_element(By.CSS_SELECTOR, "form.hook-form")


def field(form, cls):
    return form.find_element(By.CSS_SELECTOR, "." + cls)


def label_of(d, control):
    return d.execute_script("return arguments[0].labels[0].textContent", control)


def visible(control):
    return control.find_element(By.XPATH, "..").is_displayed()


def add_webhook(d, url, allow_private=True, name=None):
    f = open_form(d)
    Select(field(f, "hook-preset")).select_by_value("webhook")
    if name:
        field(f, "hook-name").send_keys(name)
    field(f, "hook-url").send_keys(url)
    if allow_private:
        field(f, "hook-private").click()
    field(f, "hook-add-submit").click()
    return f


def item(d, hook_id):
    return part(d).find_element(By.CSS_SELECTOR, f"li.hook[data-hook='{hook_id}']")


def facts(li):
    """The hook's facts, as its list shows them: {term: description}."""
    terms = [x.text for x in li.find_elements(By.CSS_SELECTOR, "dl.facts dt")]
    return dict(zip(terms, [x.text for x in li.find_elements(By.CSS_SELECTOR, "dl.facts dd")]))


def deliveries(d, li):
    """The deliveries table as shown: one dict per row, newest first."""
    rows = li.find_elements(By.CSS_SELECTOR, ".hook-dels tbody tr")
    keys = ["time", "event", "state", "attempts", "answer"]
    return [dict(zip(keys, [c.text for c in r.find_elements(By.TAG_NAME, "td")]), id=int(r.get_attribute("data-delivery")),
                 retry=bool(r.find_elements(By.CSS_SELECTOR, "button.hook-retry"))) for r in rows]


def wait_deliveries(d, li, match, what):
    """Presses Refresh until the deliveries table shows a row for which match(row) holds."""
    deadline = time.monotonic() + 20
    while True:
        found = [r for r in deliveries(d, li) if match(r)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no delivery that is {what}; the table shows {deliveries(d, li)}")
        li.find_element(By.CSS_SELECTOR, "button.hook-refresh").click()
        time.sleep(0.3)


def comment(m, text):
    return m.post("/hooked/", text, site=SITE, author="Ann")


# ---- the tests -----------------------------------------------------------------------------

def test_add_a_webhook_see_its_secret_once_test_it_switch_it_off_and_remove_it(console, margin, receiver):
    d = console
    open_sites(d, margin)
    assert part(d).find_element(By.TAG_NAME, "h3").text == "Notifications"
    assert part(d).find_element(By.CSS_SELECTOR, ".hooks-none").text == "No notifications for this site."

    # Added with every event (a webhook's default), the signing secret shown once, focused.
    f = add_webhook(d, receiver.url, name="Team receiver")
    wait(d, lambda: d.find_elements(By.CSS_SELECTOR, ".secret .secret-value"), msg="no secret shown")
    secret = d.find_element(By.CSS_SELECTOR, ".secret .secret-value").text
    assert secret.startswith("whsec_") and len(secret) > 30
    assert d.execute_script("return document.activeElement.classList.contains('secret')")
    assert "Shown once" in d.find_element(By.CSS_SELECTOR, ".secret").text
    assert d.find_element(By.CSS_SELECTOR, ".secret .secret-copy").text == "Copy the secret"
    wait_live(d, "Added the notification Team receiver.")
    assert not f.is_displayed()  # the form closed behind it
    [hook_id] = hooks_shown(d)
    li = item(d, hook_id)
    shown = facts(li)
    assert shown["Destination"] == receiver.url and shown["Events"] == "All events"
    assert shown["Secret"] != secret and shown["Secret"].endswith(secret[-4:]) and "whsec_" in shown["Secret"]
    assert shown["Options"] == "may send to private addresses"
    assert li.find_element(By.TAG_NAME, "h4").text.startswith("Team receiver")
    d.find_element(By.CSS_SELECTOR, ".secret .secret-done").click()
    assert not d.find_elements(By.CSS_SELECTOR, ".secret")
    assert d.execute_script("return document.activeElement.tagName") == "H4"

    # Afresh, the secret is nowhere on the page: only its end.
    open_sites(d, margin)
    assert secret not in d.find_element(By.TAG_NAME, "body").get_attribute("textContent")
    assert secret not in d.page_source
    li = item(d, hook_id)
    assert facts(li)["Secret"].endswith(secret[-4:])

    # Test: the receiver gets a signed sample event and its answer is shown.
    li.find_element(By.CSS_SELECTOR, "button.hook-test").click()
    wait(d, lambda: li.find_elements(By.CSS_SELECTOR, ".test-result"), timeout=20, msg="no test result")
    assert li.find_element(By.CSS_SELECTOR, ".test-result").text == "Delivered: HTTP 202"
    assert li.find_element(By.CSS_SELECTOR, ".hook-out .answer").text == "accepted by the test receiver"
    wait_live(d, "Test of Team receiver: delivered, HTTP 202.")
    sample = receiver.wait_for(lambda r: True)
    Webhook(secret).verify(sample["body"], sample["headers"])  # the secret shown is the one it signs with
    assert json.loads(sample["body"])["type"] == "comment.held"

    # A real comment reaches it through the queue, and both show among the deliveries.
    c = comment(margin, "Now the team hears about this.")
    receiver.wait_for(lambda r: json.loads(r["body"])["type"] == "comment.published")
    toggle = li.find_element(By.CSS_SELECTOR, "button.hook-deliveries")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    published = wait_deliveries(d, li, lambda r: r["event"] == "Published" and r["state"] == "Delivered", "published and delivered")
    assert published["attempts"] == "1" and published["answer"].startswith("HTTP 202") and not published["retry"]
    held = [r for r in deliveries(d, li) if r["event"] == "Held for moderation"]
    assert len(held) == 1 and held[0]["state"] == "Delivered"
    assert json.loads(receiver.requests[-1]["body"])["data"]["comment"]["id"] == c["id"]

    # Switched off: the badge says so, the server keeps it so, and a new comment sends nothing.
    on = li.find_element(By.CSS_SELECTOR, "input.hook-enabled")
    assert on.is_selected()
    on.click()
    wait_live(d, "Team receiver is disabled: it sends nothing until enabled again.")
    assert li.find_element(By.CSS_SELECTOR, "h4 .badge.off").text == "Off"
    open_sites(d, margin)
    li = item(d, hook_id)
    assert not li.find_element(By.CSS_SELECTOR, "input.hook-enabled").is_selected()
    heard = len(receiver.requests)
    comment(margin, "Nobody is told about this one.")
    time.sleep(3)  # the sender polls every second: three rounds, and nothing came
    assert len(receiver.requests) == heard

    # Removed after a confirmation; gone from the page and from the server.
    li.find_element(By.CSS_SELECTOR, "button.hook-remove").click()
    dialog = d.find_element(By.CSS_SELECTOR, "dialog#confirm[open]")
    assert dialog.find_element(By.ID, "confirm-title").text == "Remove the notification Team receiver?"
    d.find_element(By.ID, "confirm-ok").click()
    wait_live(d, "Removed the notification Team receiver.")
    assert hooks_shown(d) == [] and part(d).find_element(By.CSS_SELECTOR, ".hooks-none").is_displayed()
    assert d.execute_script("return document.activeElement.tagName") == "H3"
    open_sites(d, margin)
    assert hooks_shown(d) == []


def test_the_form_follows_the_preset_and_refuses_a_private_address_unless_allowed(console, margin, receiver):
    d = console
    open_sites(d, margin)
    f = open_form(d)
    preset = Select(field(f, "hook-preset"))
    url, target, token = field(f, "hook-url"), field(f, "hook-target"), field(f, "hook-token")
    checked = lambda: [c.get_attribute("value") for c in f.find_elements(By.CSS_SELECTOR, "input.hook-event") if c.is_selected()]

    # Each preset asks for what it needs and starts from its own events.
    assert label_of(d, url) == "Endpoint URL" and not visible(target) and not visible(token)
    assert len(checked()) == 7
    preset.select_by_value("telegram")
    assert label_of(d, url) == "Bot API URL (optional)" and visible(target) and visible(token)
    assert label_of(d, target).startswith("Chat id") and label_of(d, token) == "Bot token"
    assert checked() == ["comment.published", "comment.held"]
    preset.select_by_value("ntfy")
    assert label_of(d, target) == "Topic" and label_of(d, token) == "Access token (optional)"
    preset.select_by_value("slack")
    assert label_of(d, url) == "Incoming webhook URL" and not visible(target) and not visible(token)

    # A required field left empty is named, marked and focused; so is an empty list of events.
    field(f, "hook-add-submit").click()
    err = f.find_element(By.CSS_SELECTOR, ".err")
    assert err.text == "Incoming webhook URL: required." and url.get_attribute("aria-invalid") == "true"
    assert d.switch_to.active_element == url
    preset.select_by_value("webhook")
    url.send_keys(receiver.url)
    for c in f.find_elements(By.CSS_SELECTOR, "input.hook-event"):
        if c.is_selected():
            c.click()
    field(f, "hook-add-submit").click()
    assert err.text == "Choose at least one event."

    # 127.0.0.1 without "Allow private addresses": the server refuses it, naming the address.
    f.find_element(By.CSS_SELECTOR, "input.hook-event[value='comment.held']").click()
    warning = f.find_element(By.CSS_SELECTOR, ".warn")
    assert "Loopback, private, link-local and cloud metadata addresses are refused" in warning.text
    assert field(f, "hook-private").get_attribute("aria-describedby") == warning.get_attribute("id")
    field(f, "hook-add-submit").click()
    wait(d, lambda: "127.0.0.1" in err.text, msg="no refusal shown")
    assert url.get_attribute("aria-invalid") == "true" and d.switch_to.active_element == url
    assert hooks_shown(d) == []

    # Allowed, it is added: only the chosen event.
    field(f, "hook-private").click()
    field(f, "hook-add-submit").click()
    wait(d, lambda: len(hooks_shown(d)) == 1, msg="the hook never showed")
    assert facts(item(d, hooks_shown(d)[0]))["Events"] == "Held for moderation"
    remove_all(d, margin)


def test_an_ntfy_topic_is_masked_once_added(console, margin, receiver):
    # An ntfy topic is the password of a topic on ntfy.sh: the list shows only its end, before
    # and after a reload, and the page holds it nowhere.
    topic = "margin-news-5e1f0c9a27d3"
    d = console
    open_sites(d, margin)
    f = open_form(d)
    Select(field(f, "hook-preset")).select_by_value("ntfy")
    field(f, "hook-url").send_keys(receiver.url.rsplit("/", 1)[0])
    field(f, "hook-target").send_keys(topic)
    field(f, "hook-private").click()
    field(f, "hook-add-submit").click()
    wait(d, lambda: len(hooks_shown(d)) == 1, msg="the hook never showed")
    for reload in (False, True):
        if reload:
            open_sites(d, margin)
        li = item(d, hooks_shown(d)[0])
        assert facts(li)["Topic"] == "…" + topic[-4:], facts(li)
        assert topic not in d.page_source
        assert topic not in d.execute_script("return document.body.textContent")
    remove_all(d, margin)


def test_a_hook_for_every_site_shows_on_every_sites_card(console, margin, receiver):
    d = console
    open_sites(d, margin)
    f = open_form(d)
    field(f, "hook-url").send_keys(receiver.url)
    field(f, "hook-private").click()
    field(f, "hook-every").click()
    field(f, "hook-add-submit").click()
    wait(d, lambda: len(hooks_shown(d, "default")) == 1, msg="not on the other site's card")
    [hook_id] = hooks_shown(d)
    assert hooks_shown(d, "default") == [hook_id]
    for site in (SITE, "default"):
        badge = part(d, site).find_element(By.CSS_SELECTOR, f"li.hook[data-hook='{hook_id}'] h4 .badge.every")
        assert badge.text == "Every site"

    # Switched off on one card, off on both; removed from one, gone from both.
    part(d, "default").find_element(By.CSS_SELECTOR, "input.hook-enabled").click()
    wait(d, lambda: part(d).find_elements(By.CSS_SELECTOR, "h4 .badge.off"), msg="the other card did not follow")
    assert not part(d).find_element(By.CSS_SELECTOR, "input.hook-enabled").is_selected()
    part(d, "default").find_element(By.CSS_SELECTOR, "button.hook-remove").click()
    assert "it goes from every site" in d.find_element(By.ID, "confirm-text").text
    d.find_element(By.ID, "confirm-ok").click()
    wait(d, lambda: hooks_shown(d) == [] and hooks_shown(d, "default") == [], msg="still shown")


def test_a_failed_delivery_is_shown_with_its_answer_and_retried(console, margin, receiver):
    d = console
    open_sites(d, margin)
    add_webhook(d, receiver.url)
    wait(d, lambda: d.find_elements(By.CSS_SELECTOR, ".secret"))
    [hook_id] = hooks_shown(d)
    li = item(d, hook_id)

    receiver.status, receiver.body = 500, b"receiver is down for maintenance"
    li.find_element(By.CSS_SELECTOR, "button.hook-test").click()
    wait(d, lambda: li.find_elements(By.CSS_SELECTOR, ".test-result"), timeout=20, msg="no test result")
    result = li.find_element(By.CSS_SELECTOR, ".test-result")
    assert result.text.startswith("Not delivered: HTTP 500") and "err" in result.get_attribute("class").split()
    assert li.find_element(By.CSS_SELECTOR, ".hook-out .answer").text == "receiver is down for maintenance"

    li.find_element(By.CSS_SELECTOR, "button.hook-deliveries").click()
    failed = wait_deliveries(d, li, lambda r: r["state"] == "Failed", "failed")
    assert failed["retry"] and failed["answer"].startswith("HTTP 500") and "receiver is down for maintenance" in failed["answer"]

    # Back up, a retry delivers it through the queue.
    receiver.status, receiver.body = 202, b"better now"
    sent = len(receiver.requests)
    li.find_element(By.CSS_SELECTOR, f"tr[data-delivery='{failed['id']}'] button.hook-retry").click()
    wait_live(d, "The delivery is queued again.")
    # (By position: the retry may repeat the first request byte for byte within the same second.)
    wait(d, lambda: len(receiver.requests) > sent, timeout=20, msg="the retried delivery never arrived")
    row = wait_deliveries(d, li, lambda r: r["id"] == failed["id"] and r["state"] == "Delivered", "the retried one, delivered")
    assert row["attempts"] == "2" and row["answer"].startswith("HTTP 202") and not row["retry"]
    remove_all(d, margin)


def test_notifications_pass_axe_in_light_and_dark(console, margin, receiver):
    d = console
    source = axe_js()
    found = []
    open_sites(d, margin)
    add_webhook(d, receiver.url, name="Audit receiver")
    wait(d, lambda: d.find_elements(By.CSS_SELECTOR, ".secret"))
    li = item(d, hooks_shown(d)[0])
    li.find_element(By.CSS_SELECTOR, "button.hook-test").click()
    wait(d, lambda: li.find_elements(By.CSS_SELECTOR, ".test-result"), timeout=20)
    li.find_element(By.CSS_SELECTOR, "button.hook-deliveries").click()
    wait_deliveries(d, li, lambda r: True, "shown")
    f = open_form(d)
    Select(field(f, "hook-preset")).select_by_value("matrix")
    field(f, "hook-add-submit").click()  # an error shown, a field marked invalid
    try:
        for scheme in ("light", "dark"):
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            found.append((f"notifications ({scheme})", axe_violations(d, source)))
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert all(not vs for _, vs in found), "axe found WCAG 2.2 AA violations:\n" + readable(found)
    remove_all(d, margin)


def test_in_korean(console, margin):
    d = console
    open_sites(d, margin)
    try:
        Select(d.find_element(By.ID, "lang")).select_by_value("ko")
        ready(d, "sites")
        assert part(d).find_element(By.TAG_NAME, "h3").text == "알림"
        assert part(d).find_element(By.CSS_SELECTOR, "details.hook-add summary").text == "알림 추가"
    finally:
        Select(d.find_element(By.ID, "lang")).select_by_value("en")
        ready(d, "sites")


def test_a_moderator_sees_no_notifications(margin):
    d = make_driver()
    try:
        sign_in(d, margin, MODERATOR)
        d.get(margin.base + "/admin/#sites")
        ready(d, "sites")
        assert d.find_elements(By.CSS_SELECTOR, "section.site")
        assert not d.find_elements(By.CSS_SELECTOR, "section.hooks-part")
    finally:
        d.quit()


def remove_all(d, m):
    """Removes the site's hooks through the page, leaving the next test a clean card."""
    open_sites(d, m)
    for hook_id in hooks_shown(d):
        item(d, hook_id).find_element(By.CSS_SELECTOR, "button.hook-remove").click()
        d.find_element(By.ID, "confirm-ok").click()
        try:
            wait(d, lambda: hook_id not in hooks_shown(d))
        except TimeoutException:
            raise AssertionError(f"hook {hook_id} was not removed") from None
