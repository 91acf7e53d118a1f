"""Real-browser tests of the Teach page: ten drawn digits filed and trained on, and asked images
labeled by key and by tap, kept through a reload. `streamlit run app.py` from a copy of the app
(tests/pages_harness.py) driven by Playwright in Debian's chromium; skipped without chromium."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.pages_harness import CHROMIUM, ONE, ZERO, app_copy, draw, open_page, start_streamlit

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    return app_copy(tmp_path_factory.mktemp("app") / "sgan_lab")


@pytest.fixture
def server(tmp_path, small_mnist, app_dir):
    """Starts a Streamlit server on runs_dir (the small MNIST, one training at a time); yields
    a function returning its URL. Stops the server, then any run a test started."""
    procs = []

    def start(runs_dir: Path) -> str:
        proc, url = start_streamlit(runs_dir, app_dir, SGAN_MNIST=small_mnist, SGAN_SLOTS="1")
        procs.append(proc)
        return url

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)
    from sgan_core.runs import launcher
    from sgan_core.runs.rundir import RunDir
    runs = [RunDir(c.parent) for c in tmp_path.glob("*/*/config.json")]
    for run in runs:
        launcher.stop_run(run)
    deadline = time.time() + 60
    while time.time() < deadline and any(
            r.effective_status().get("state") in ("running", "queued") for r in runs):
        time.sleep(0.5)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser, pg = open_page(pw)
        yield pg
        browser.close()


def polyline(*corners, step: float = 8.0) -> list[tuple[float, float]]:
    """Points every `step` pixels along straight lines through the corners."""
    points = [corners[0]]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        n = max(1, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
        points += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return points


# one stroke per digit, in the canvas's pixels (280 x 280)
DIGIT_STROKES = [
    ZERO, ONE,
    polyline((90, 80), (140, 50), (190, 80), (190, 120), (90, 230), (200, 230)),
    polyline((90, 60), (190, 60), (130, 130), (190, 170), (170, 225), (90, 225)),
    polyline((170, 230), (170, 40), (80, 170), (210, 170)),
    polyline((190, 50), (100, 50), (95, 130), (180, 130), (190, 200), (100, 230)),
    polyline((180, 50), (100, 150), (110, 220), (180, 210), (180, 150), (100, 160)),
    polyline((80, 50), (200, 50), (120, 230)),
    polyline((140, 140), (90, 90), (140, 45), (190, 90), (140, 140), (85, 190), (140, 235),
             (195, 190), (140, 140)),
    polyline((190, 110), (140, 60), (95, 100), (140, 140), (190, 110), (180, 230)),
]


def test_ten_drawn_digits_are_filed_saved_and_trained_on(server, page, tmp_path):
    url = server(tmp_path / "runs")
    page.goto(f"{url}/Teach")
    page.get_by_text("Draw a digit, tap its number").wait_for()
    for digit, stroke in enumerate(DIGIT_STROKES):
        draw(page, stroke)  # the canvas sends its drawing as the stroke ends
        page.wait_for_timeout(300)
        page.get_by_role("radiogroup", name="File it as").get_by_role(
            "radio", name=str(digit), exact=True).click()
        page.get_by_text(f"my digits: {digit + 1} images").wait_for()
        assert page.get_by_text("Draw a digit first").count() == 0
    # the set is saved and listed, its ten images one per digit
    assert (tmp_path / "runs" / ".labelsets" / "my digits.npz").is_file() or \
        any((tmp_path / "runs" / ".labelsets").glob("*.npz"))
    page.reload()
    page.get_by_text("my digits: 10 images").wait_for()
    assert page.get_by_text("No image of").count() == 0

    page.get_by_role("button", name="Train on these 10 labels").click()
    page.get_by_text(re.compile("Queued a run on your 10 drawings")).wait_for()
    page.get_by_role("link", name="Watch it train").click()
    expander = page.get_by_text(re.compile(r"Its 10 labeled images: ")).first
    expander.wait_for(timeout=120_000)
    assert "run=" in page.url
    # the labeled images show once the run records them (labeled.npz, written as its trainer
    # starts: a minute or more on a loaded machine); then the page shows all ten
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    labeled = next((tmp_path / "runs").glob(f"**/{run_id}/labeled.npz"), None)
    deadline = time.time() + 240
    while labeled is None and time.time() < deadline:
        time.sleep(1)
        labeled = next((tmp_path / "runs").glob(f"**/{run_id}/labeled.npz"), None)
    assert labeled is not None, "the run never recorded its labeled images"
    page.reload()
    page.get_by_text(re.compile(r"Its 10 labeled images: ")).first.click()
    images = page.locator("[data-testid=stExpanderDetails] [data-testid=stImage] img")
    deadline = time.time() + 60
    while images.count() < 10 and time.time() < deadline:
        page.wait_for_timeout(500)
    assert images.count() == 10  # one image a digit, each with its digit as caption


def pills_chosen(page) -> list[str | None]:
    """Each row's selected pill in the grid on screen (None: no answer)."""
    return page.locator("[role=radiogroup][aria-label='digit']:visible").evaluate_all(
        "groups => groups.map(g => { const b = g.querySelector(\"[aria-checked='true']\");"
        " return b ? b.innerText.trim() : null; })")


def test_asked_images_labeled_by_key_and_by_tap_survive_a_reload(server, page, tmp_path,
                                                                  finished_runs_dir):
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    url = server(runs_dir)

    def open_ask_grid():
        page.goto(f"{url}/Teach")
        page.get_by_role("tab", name="Answer what it asks").click()
        page.get_by_text("Ask which images to label next").click()
        page.get_by_text(re.compile(r"\d+ of 10 labeled")).wait_for(timeout=120_000)

    open_ask_grid()
    caption = page.get_by_text(re.compile(r"\d+ of 10 labeled"))
    assert caption.inner_text().startswith("0 of 10 labeled")
    page.get_by_text("Keys: 0-9 label the highlighted image").wait_for()
    # keys typed into a number input are the input's, not answers
    questions = page.get_by_label("How many questions")
    questions.fill("")
    questions.press_sequentially("10")
    questions.press("Enter")
    page.wait_for_timeout(800)
    assert caption.inner_text().startswith("0 of 10 labeled")
    assert pills_chosen(page) == [None] * 10
    page.mouse.click(5, 5)  # the focus off the input

    # faster than reruns: answers whose callbacks Streamlit drops are still saved
    for key in ("3", "s", "5", "u", "7"):  # 5 taken back; the image it was on is then a 7
        page.keyboard.press(key)
    page.get_by_role("radiogroup", name="digit").nth(5).get_by_role(
        "radio", name="2", exact=True).click()  # a tap, past the highlighted image
    page.get_by_text("3 of 10 labeled, 1 skipped").wait_for()
    page.keyboard.press("0")  # the first image without an answer: the fourth
    expected = ["3", "skip", "7", "0", None, "2", None, None, None, None]
    page.get_by_text("4 of 10 labeled, 1 skipped").wait_for()
    assert pills_chosen(page) == expected

    open_ask_grid()  # a reload: a new session, the answers read back from their file
    page.get_by_text("4 of 10 labeled, 1 skipped").wait_for()
    assert pills_chosen(page) == expected
    page.mouse.click(5, 5)
    page.keyboard.press("u")  # the last answer given before the reload: the 0
    page.get_by_text("3 of 10 labeled, 1 skipped").wait_for()
    assert pills_chosen(page) == ["3", "skip", "7", None, None, "2", None, None, None, None]

    # with both grids on the page, keys answer the one on screen only
    page.get_by_role("tab", name="Label what it picks").click()
    page.get_by_text("Let it pick typical images").click()
    page.get_by_text("0 of 10 labeled").wait_for(timeout=60_000)
    for _ in range(3):  # under load the new grid's key listener can mount after its caption
        page.mouse.click(5, 5)
        page.keyboard.press("8")
        try:
            page.get_by_text("1 of 10 labeled").wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            assert page.get_by_text("0 of 10 labeled").is_visible()  # nothing taken yet
    else:
        pytest.fail("the key 8 never labeled the pick grid's first image")
    assert pills_chosen(page)[:2] == ["8", None]
    page.get_by_role("tab", name="Answer what it asks").click()
    assert page.get_by_text("3 of 10 labeled, 1 skipped").is_visible()
