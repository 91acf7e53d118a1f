"""Real-browser tests: `streamlit run app.py` driven by Playwright in Debian's chromium.

Skipped when chromium or Playwright is missing (the CI script installs both).
"""
from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT_DIR = os.environ.get("SGAN_SCREENSHOT_DIR")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(runs_dir, **env) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free port with its own runs directory: (process, URL)."""
    port = free_port()
    full_env = dict(os.environ, SGAN_RUNS_DIR=str(runs_dir), TF_CPP_MIN_LOG_LEVEL="2", **env)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


@pytest.fixture
def server(tmp_path, small_mnist):
    """Starts Streamlit servers on the small MNIST slice; yields a function returning a URL."""
    def start(runs_dir: Path):
        proc, url = start_streamlit(runs_dir, SGAN_MNIST=small_mnist)
        procs.append(proc)
        return url

    procs = []
    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


def open_page(pw):
    """Debian's chromium with the project's flags: (browser, a new page)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60000)
    return browser, page


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser, pg = open_page(pw)
        yield pg
        browser.close()


def progress_step(page) -> int:
    text = page.get_by_text(re.compile(r"(running|finished) · step \d+")).first.inner_text()
    return int(re.search(r"step (\d+)", text).group(1))


def test_home_page_shows_the_sgan_diagram(server, page, tmp_path):
    """The diagram once vanished silently (st.html's sanitiser dropped the inline SVG)."""
    page.goto(server(tmp_path / "runs"))
    img = page.locator('[data-testid="stImage"] img').first
    img.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    box = img.bounding_box()
    assert box["width"] > 500 and box["height"] > 150, box


def test_train_page_live_run_survives_reload(server, page, tmp_path):
    runs_dir = tmp_path / "runs"
    url = server(runs_dir)
    page.goto(f"{url}/Train")
    page.get_by_text("No runs yet").wait_for()
    steps = page.get_by_role("spinbutton", name="Steps")
    steps.fill("1500")
    steps.press("Enter")
    page.get_by_role("button", name="Start training").click()

    page.get_by_text(re.compile(r"running · step \d+")).first.wait_for(timeout=120000)
    first = progress_step(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2")
    page.get_by_role("img", name=re.compile("Generated digits")).or_(
        page.locator("img[alt*='Generated']")).or_(page.get_by_text("Generated digits at step"))\
        .first.wait_for(timeout=120000)
    grid_caption = page.get_by_text(re.compile(r"Generated digits at step \d+")).first
    first_grid = grid_caption.inner_text()
    deadline = time.time() + 120
    while time.time() < deadline and grid_caption.inner_text() == first_grid:
        time.sleep(1)
    assert grid_caption.inner_text() != first_grid, "the sample grid never updated"
    assert progress_step(page) > first, "the progress never moved"
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / "train_page.png"), full_page=True)

    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    before_reload = progress_step(page)
    page.reload()
    page.get_by_text(re.compile(r"(running|finished) · step \d+")).first.wait_for()
    assert run_id in page.url
    assert progress_step(page) >= before_reload
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2")
    page.get_by_role("button", name="Stop").click()
    deadline = time.time() + 30
    while time.time() < deadline and "stopped" not in page.content():
        time.sleep(0.5)
    assert "stopped" in page.content()


# Browser-side timing: mouseup and every change of the predicted digit, with the page's clock, so
# the latency figure excludes Playwright's polling.
WATCH_PREDICTIONS = """() => {
  window.__ups = []; window.__shown = [];
  document.addEventListener('mouseup', () => window.__ups.push(performance.now()), true);
  new MutationObserver(() => {
    const el = document.querySelector('[data-testid=stMetricValue]');
    const v = el ? el.innerText.trim() : null;
    const last = window.__shown.length ? window.__shown[window.__shown.length - 1].v : null;
    if (v !== last) window.__shown.push({t: performance.now(), v});
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


# strokes in canvas pixels (280 x 280): a vertical "1" and an oval "0"
ONE = [(140, 40 + 4 * i) for i in range(51)]
ZERO = [(140 + 60 * math.sin(t / 40 * 2 * math.pi), 140 - 95 * math.cos(t / 40 * 2 * math.pi))
        for t in range(43)]


def draw(page, points):
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def draw_and_read(page, points):
    draw(page, points)
    return predicted_digit(page)


def predicted_digit(page):
    """The digit shown after the last stroke, and the ms from that stroke's mouseup to it."""
    page.wait_for_function("""() => {
        const up = window.__ups[window.__ups.length - 1];
        return window.__shown.some(s => s.t > up && /^\\d$/.test(s.v || ''));
    }""")
    up, shown = page.evaluate("[window.__ups[window.__ups.length - 1], window.__shown]")
    first = next(s for s in shown if s["t"] > up and (s["v"] or "").isdigit())
    return first["v"], first["t"] - up


INK = """canvases => canvases.some(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 128) return true;
  return false;
})"""


def ink_on_canvas(page) -> bool:
    # a locator, not document.querySelectorAll: the canvas lives in a shadow root
    return page.locator("canvas.lower-canvas").evaluate_all(INK)


def clear_canvas(page):
    """Clear empties the canvas in place (no remount): wait until no ink is left on it."""
    assert ink_on_canvas(page)
    page.get_by_role("button", name="Clear").click()
    deadline = time.time() + 30
    while ink_on_canvas(page) and time.time() < deadline:
        page.wait_for_timeout(50)
    assert not ink_on_canvas(page)
    page.get_by_text("Draw a digit on the canvas").wait_for()


def test_draw_page_reads_a_one_and_a_zero(server, page, tmp_path):
    url = server(tmp_path / "empty_runs")
    console = []
    page.on("console", lambda msg: console.append(msg.text))
    page.goto(f"{url}/Draw")
    page.get_by_text("Draw a digit on the canvas").wait_for()
    page.evaluate(WATCH_PREDICTIONS)
    one, first_ms = draw_and_read(page, ONE)
    assert one == "1"
    clear_canvas(page)
    zero, second_ms = draw_and_read(page, ZERO)
    assert zero == "0"
    # a third stroke (a second 1, away from the ring) shows the steady state
    clear_canvas(page)
    again, third_ms = draw_and_read(page, [(120, 50 + 4 * i) for i in range(46)])
    assert again == "1"
    print(f"stroke end -> prediction shown: {first_ms:.0f} ms (first), {second_ms:.0f} ms, "
          f"{third_ms:.0f} ms")
    # the canvas ran with its send delay lowered (fast_canvas), not the package's fallback
    assert not [m for m in console if "send delay not lowered" in m], console
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1")
    page.get_by_text("What the model sees").wait_for()
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / "draw_page.png"), full_page=True)
