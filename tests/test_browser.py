"""Real-browser tests: `streamlit run app.py` driven by Playwright in Debian's chromium.

Skipped when chromium is missing (the CI script installs it).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sgan_ui.testing import (
    CHROMIUM,
    ONE,
    WATCH_PREDICTIONS,
    ZERO,
    clear_canvas,
    draw_and_read,
    open_page,
    start_streamlit,
)

SCREENSHOT_DIR = os.environ.get("SGAN_SCREENSHOT_DIR")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]


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


def test_sidebar_navigation_reaches_every_page(server, page, tmp_path):
    page.goto(server(tmp_path / "runs"))
    page.get_by_role("heading", name="SGAN Lab").wait_for()
    nav = page.locator('[data-testid="stSidebarNav"] a')
    for i, (title, heading) in enumerate([("Home", "SGAN Lab"),
                                          ("Train", "Train a semi-supervised GAN"),
                                          ("Compare", "Compare runs"),
                                          ("Draw", "Draw a digit")]):
        assert nav.nth(i).inner_text().endswith(title)
        nav.nth(i).click()
        page.get_by_role("heading", name=heading).wait_for()
        assert urlparse(page.url).path == ("/" if title == "Home" else f"/{title}")
        assert page.locator('[data-testid="stException"]').count() == 0


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
