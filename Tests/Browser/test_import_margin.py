"""A Margin export is not trusted on import: markup a file changed goes through the sanitiser.

Run: MARGIN_BIN=.build/debug/margin python -m pytest Tests/Browser -q -k import_margin
"""

import json
import os

from selenium.webdriver.common.by import By  # noqa: E402

from support import INSTRUMENT, SCAN, SETTLED, Blog, Margin, make_driver, open_page, wait

PAYLOAD = "<img src=x onerror=alert(document.domain)>"


def test_import_margin_renders_a_planted_payload_inert():
    # Given a Margin export of two posted comments, one whose html a hostile hand replaced
    source = Margin("--spam-hold", "50", "--spam-threshold", "100")
    target = Margin("--spam-hold", "50", "--spam-threshold", "100")
    blog = Blog(target)
    d = None
    try:
        source.post("/imported/", "A *kept* comment with [a link](https://example.org/ \"its title\").")
        source.post("/imported/", "This one will be tampered with.")
        export = os.path.join(source.dir, "export.jsonl")
        source.cli("export", "-o", export)
        lines = [json.loads(line) for line in open(export, encoding="utf-8")]
        comments = [r for r in lines if r.get("type") == "comment"]
        assert len(comments) == 2
        comments[1]["html"] = PAYLOAD
        hostile = os.path.join(target.dir, "hostile.jsonl")
        with open(hostile, "w", encoding="utf-8") as f:
            for r in lines:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

        # When it is imported with `margin import margin` into a running server
        out = target.cli("import", "margin", hostile, "--json")
        assert json.loads(out)["comments"] == 2, out

        # Then the untouched comment's markup came through byte for byte, the planted one was sanitised
        again = os.path.join(target.dir, "again.jsonl")
        target.cli("export", "-o", again)
        stored = {r["id"]: r["html"] for r in map(json.loads, open(again, encoding="utf-8")) if r.get("type") == "comment"}
        assert stored[comments[0]["id"]] == comments[0]["html"]
        assert "<img" not in stored[comments[1]["id"]] and "onerror" not in stored[comments[1]["id"]]

        # And in the widget, with no CSP to stop it, nothing runs
        d = make_driver()
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
        r = open_page(d, blog.url(uri="/imported/", csp="0"))
        wait(d, lambda: len(r.find_elements(By.CSS_SELECTOR, "article.c")) == 2, msg="both comments shown")
        frames = d.execute_script("return window.__xssFrames")
        wait(d, lambda: d.execute_script(SETTLED, frames), timeout=30, msg="never settled")
        api_prefix = target.base + "/api/v1/"
        calls = [c for c in d.execute_script("return window.__xss")
                 if not (c[0] == "fetch" and c[1].startswith(api_prefix))
                 and not (c[0] == "Function" and c[1].startswith("return async function(){"))]
        assert calls == [], calls
        assert d.execute_script(SCAN) == []
        assert r.find_elements(By.CSS_SELECTOR, ".tx img") == []
        assert "kept" in r.find_element(By.CSS_SELECTOR, "article.c .tx").text
    finally:
        if d:
            d.quit()
        blog.stop()
        target.stop()
        source.stop()
