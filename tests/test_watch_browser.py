"""The watch-only page in a real browser: a `fast` run trains, the Train page shows its link and
QR code ("Show this run to the room"), the QR code read back from the screen is the link, and
the page it opens, on a 390-px phone, updates its progress, charts and grid as the run trains,
with nothing wider than the screen and nothing fetched from any other host. `streamlit run
app.py` from a copy of the app; Debian's chromium through Playwright.
"""
from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest

from tests.pages_harness import CHROMIUM, FLAGS, app_copy, start_streamlit

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]

SCREENSHOT_DIR = os.environ.get("SGAN_SCREENSHOT_DIR")


# every EventSource the page opens, to count those still open
COUNT_STREAMS = """(() => {
  const Original = window.EventSource;
  window.__streams = [];
  window.EventSource = function (url) {
    const s = new Original(url);
    window.__streams.push(s);
    return s;
  };
})()"""
OPEN_STREAMS = "() => window.__streams.filter(s => s.readyState !== 2).length"
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _step(page) -> int:
    text = page.locator(".sgan-feed-text").inner_text()
    found = re.search(r"step (\d+)", text)
    return int(found.group(1)) if found else -1


def _points(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .reduce((n, el) => n + (el.data || []).reduce((m, t) => m + (t.x || []).length, 0), 0)""")


def test_the_room_watches_a_run_on_a_phone(tmp_path, small_mnist):
    import zxingcpp
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from sgan_core.config import make_config
    from sgan_core.runs import launcher
    from sgan_ui.feed_publisher import feed_id

    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    app_dir = app_copy(tmp_path / "app")
    proc, url = start_streamlit(runs_dir, app_dir, SGAN_MNIST=small_mnist, SGAN_SLOTS="1",
                                log=tmp_path / "server.log")
    run = launcher.start_run(make_config("fast", mnist_path=small_mnist, steps=20000,
                                         sample_every=40), runs_dir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            host = browser.new_context(viewport={"width": 1300, "height": 1000})
            page = host.new_page()
            page.set_default_timeout(120000)
            page.goto(f"{url}/Train?run={run.id}")
            page.get_by_text(re.compile(r"running · step \d+")).first.wait_for()
            page.get_by_text("Show this run to the room").click()
            link = f"{url}/watch/{feed_id(run.id)}"
            room = page.locator("[data-testid=stExpander]").filter(
                has_text="Show this run to the room")
            room.get_by_role("link", name=link).wait_for()
            qr = room.locator("img").first
            qr.scroll_into_view_if_needed()
            read, deadline = [], time.time() + 30
            while not read and time.time() < deadline:  # once the expander has opened fully
                time.sleep(0.5)
                shot = Image.open(io.BytesIO(qr.screenshot(animations="disabled")))
                read = [r.text for r in zxingcpp.read_barcodes(shot)]
            assert read == [link]
            host.close()

            phone = browser.new_context(viewport={"width": 390, "height": 844},
                                        device_scale_factor=2, is_mobile=True, has_touch=True)
            phone.add_init_script(COUNT_STREAMS)
            watch = phone.new_page()
            watch.set_default_timeout(120000)
            requests = []
            watch.on("request", lambda r: requests.append(r.url))
            watch.goto(link)
            watch.get_by_text(re.compile(r"running · step \d+")).wait_for()
            watch.wait_for_function("document.querySelectorAll('.js-plotly-plot').length == 2")
            watch.wait_for_function("(() => { const i = document.querySelector("
                                    "'.sgan-feed-grid img'); return i && i.naturalWidth > 0 })()")
            watch.get_by_text("stacked · 100 labels · fast").wait_for()  # its title
            first = (_step(watch), _points(watch),
                     watch.locator(".sgan-feed-grid p").inner_text())
            deadline = time.time() + 120
            while time.time() < deadline and not (
                    _step(watch) > first[0] and _points(watch) > first[1]
                    and watch.locator(".sgan-feed-grid p").inner_text() != first[2]):
                time.sleep(1)
            assert _step(watch) > first[0], "the progress never moved"
            assert _points(watch) > first[1], "the charts never grew"
            assert watch.locator(".sgan-feed-grid p").inner_text() != first[2], \
                "the grid never changed"
            wide = watch.evaluate("""() => [document.documentElement.scrollWidth,
                // plotly's own measuring svg lives far off screen on purpose
                [...document.querySelectorAll('body *')].filter(e => {
                    if (e.closest('#js-plotly-tester')) return false;
                    const r = e.getBoundingClientRect();
                    return r.width > 0 && (r.right > 391 || r.left < -1); })
                    .map(e => `${e.tagName}.${e.getAttribute("class")}`)]""")
            assert wide == [390, []], wide
            if SCREENSHOT_DIR:
                Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
                watch.screenshot(path=f"{SCREENSHOT_DIR}/watch_phone.png", full_page=True)
            # the phone locks its screen: the page holds no stream; back, it follows again
            assert watch.evaluate(OPEN_STREAMS) == 1
            watch.evaluate(SET_HIDDEN, True)
            watch.wait_for_function(f"({OPEN_STREAMS})() == 0")
            back = _step(watch)
            watch.evaluate(SET_HIDDEN, False)
            watch.wait_for_function(f"({OPEN_STREAMS})() == 1")
            watch.wait_for_function(f"""() => /step (\\d+)/.test(document.querySelector(
                '.sgan-feed-text').textContent) && +document.querySelector('.sgan-feed-text')
                .textContent.match(/step (\\d+)/)[1] > {back}""")
            own = url.split("//", 1)[1]
            assert requests and all(r.split("//", 1)[1].startswith(own + "/")
                                    for r in requests if not r.startswith(("data:", "blob:")))
            assert not any("/_stcore/" in r for r in requests)  # no Streamlit session at all
            phone.close()
            browser.close()
    finally:
        launcher.stop_run(run)
        proc.terminate()
        proc.wait(timeout=20)
        deadline = time.time() + 60
        while time.time() < deadline and run.effective_status().get("state") in (
                "running", "queued"):
            time.sleep(0.5)
