"""Real-browser tests: `streamlit run app.py` driven by Playwright in Debian's chromium.

The servers run from a copy of the app in a temporary directory, so nothing they write lands
in the project. Skipped when chromium is missing (the CI script installs it).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from sgan_ui.navigation import PAGES
from tests.pages_harness import (
    CHROMIUM,
    FLAGS,
    ONE,
    WATCH_PREDICTIONS,
    ZERO,
    app_copy,
    clear_canvas,
    draw,
    draw_and_read,
    open_page,
    start_streamlit,
)

from conftest import HEADINGS, demo_of_finished_runs

SCREENSHOT_DIR = os.environ.get("SGAN_SCREENSHOT_DIR")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]


@pytest.fixture(scope="session")
def app_dir(tmp_path_factory) -> Path:
    """The app copied once into a temporary directory: its servers write there."""
    return app_copy(tmp_path_factory.mktemp("app") / "sgan_lab")


@pytest.fixture
def server(tmp_path, small_mnist, app_dir):
    """Starts Streamlit servers on the small MNIST slice; yields a function returning a URL."""
    def start(runs_dir: Path):
        # one training at a time whatever the cores, as on the 2-core machine
        proc, url = start_streamlit(runs_dir, app_dir, SGAN_MNIST=small_mnist, SGAN_SLOTS="1",
                                    log=tmp_path / "server.log")
        procs.append(proc)
        return url

    procs = []
    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)
    stop_every_run(tmp_path)


def stop_every_run(root: Path) -> None:
    """The trainers a test started run in their own sessions: stop them, even after a failure."""
    from sgan_core.runs import launcher
    from sgan_core.runs.rundir import RunDir
    runs = [RunDir(c.parent) for c in root.glob("*/*/config.json")]
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


# how long a step of a test waits for a page beside a training that keeps the 2 cores busy
SLOW_PAGE_MS = 180_000
URL_RUN = "new URLSearchParams(location.search).get('run')"  # the run the page's URL names


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
    """Every page, and not one request to any host but the dashboard's own."""
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    url = server(tmp_path / "runs")
    page.goto(url)
    page.get_by_role("heading", name="SGAN Lab").wait_for()
    nav = page.locator('[data-testid="stSidebarNav"] a')
    assert nav.count() == len(PAGES)
    for i, entry in enumerate(PAGES):
        assert nav.nth(i).inner_text().endswith(entry.title)
        nav.nth(i).click()
        page.get_by_role("heading", name=HEADINGS[entry.path]).wait_for()
        assert urlparse(page.url).path == f"/{entry.url_path}"
        assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1000)  # late requests (fonts, components) are counted too
    assert len(requests) > 10 and not local_only(requests, url), local_only(requests, url)


def test_train_page_live_run_survives_reload(server, page, tmp_path):
    runs_dir = tmp_path / "runs"
    url = server(runs_dir)
    page.goto(f"{url}/Train")
    page.get_by_text("No runs yet").wait_for()
    # far more steps than the test lasts, so the run is still training when it is stopped (a
    # 1,500-step run once finished first on a fast idle machine and never read "stopped")
    start_from_form(page, 20000)

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
    run_dir = runs_dir / run_id
    stop = page.get_by_role("button", name="Stop")
    for _ in range(2):  # under load a click can land while the page reruns: press once more
        stop.click()
        deadline = time.time() + 15
        while time.time() < deadline and not (run_dir / "STOP").exists():
            time.sleep(0.5)
        if (run_dir / "STOP").exists() or not stop.is_visible():
            break
    status = json.loads((run_dir / "status.json").read_text())
    assert (run_dir / "STOP").exists() or status["state"] == "stopped", \
        f"the Stop press never reached the run: {status}"
    deadline = time.time() + 90
    while time.time() < deadline and json.loads(
            (run_dir / "status.json").read_text())["state"] != "stopped":
        time.sleep(0.5)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "stopped", f"the trainer never stopped: {status}"
    # the page, not the test, notices the new state (the live feed reruns it)
    page.get_by_text(re.compile(r"stopped · step \d+")).first.wait_for(timeout=60000)


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
    # Clear, then the very same stroke again: it was once taken for the cleared drawing
    clear_canvas(page)
    same, _ = draw_and_read(page, [(120, 50 + 4 * i) for i in range(46)])
    assert same == "1"
    print(f"stroke end -> prediction shown: {first_ms:.0f} ms (first), {second_ms:.0f} ms, "
          f"{third_ms:.0f} ms")
    # the canvas ran with its send delay lowered (fast_canvas), not the package's fallback
    assert not [m for m in console if "send delay not lowered" in m], console
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1")
    page.get_by_text("What the model sees").wait_for()
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / "draw_page.png"), full_page=True)


def start_first_run(page, url: str, steps: int) -> str:
    """Start a run from the Train page's form on an empty server; its id once it trains."""
    page.goto(f"{url}/Train")
    page.get_by_text("No runs yet").wait_for()
    start_from_form(page, steps)
    page.get_by_text(re.compile(r"running · step \d+")).first.wait_for(timeout=120000)
    return re.search(r"run=([^&]+)", page.url).group(1)


def start_from_form(page, steps: int, open_form: bool = False):
    if open_form:  # the form starts open only while there is no run
        page.get_by_text("New run").first.click()
    # `fast` is offered by the clock (two minutes); these runs are told their steps
    page.locator("label").filter(has_text=re.compile(r"^steps$")).first.click()
    field = page.get_by_role("spinbutton", name="Steps")
    field.wait_for()
    field.fill(str(steps))
    field.press("Enter")
    page.get_by_role("button", name="Start training").click()


# the accuracy chart (found again each time: a live refresh may replace the element)
PLOT = ("[...document.querySelectorAll('.js-plotly-plot')].find(p => p._fullLayout && "
        "p._fullLayout.title && p._fullLayout.title.text.includes('Accuracy'))")


def plot_js(expr: str) -> str:
    """A JS expression on the accuracy chart `p`, false while it is not on the page."""
    return f"(p => !!p && !!p._fullData && p._fullData.length > 0 && ({expr}))({PLOT})"


def local_only(requests: list[str], url: str) -> list[str]:
    """The requests that left this server (nothing may: the dashboard works offline)."""
    own = urlparse(url).netloc
    return [r for r in requests
            if not r.startswith(("data:", "blob:")) and urlparse(r).netloc != own]


def test_chart_zoom_survives_live_refreshes(server, page, tmp_path):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    url = server(tmp_path / "runs")
    start_first_run(page, url, 5000)
    page.wait_for_function(plot_js("p._fullData[0].x.length > 5"), timeout=120000)
    # plotly.js 3's toolbar button that uploads the chart to Plotly Cloud is not there
    page.locator(".js-plotly-plot").nth(1).hover()
    page.locator(".js-plotly-plot .modebar-btn").first.wait_for(state="attached")
    assert page.locator('.modebar-btn[data-title^="Share chart"]').count() == 0
    assert page.locator('.js-plotly-plot a[href*="plotly.com"]').count() == 0
    # a box zoom with the mouse over the middle of the accuracy chart's plot area
    box = page.locator(".js-plotly-plot").nth(1).locator(".nsewdrag").first.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.3, y0 + box["height"] * 0.4, steps=8)
    page.mouse.up()
    page.wait_for_function(plot_js("p._fullLayout.xaxis.autorange === false"))
    zoomed = page.evaluate(f"({PLOT})._fullLayout.xaxis.range")
    points = page.evaluate(f"({PLOT})._fullData[0].x.length")
    # several live refreshes bring new points; the zoom stays
    page.wait_for_function(plot_js(f"p._fullData[0].x.length >= {points} + 5"), timeout=60000)
    assert page.evaluate(f"({PLOT})._fullLayout.xaxis.range") == zoomed
    assert page.evaluate(f"({PLOT})._fullLayout.xaxis.autorange") is False
    page.get_by_role("button", name="Stop").click()
    assert requests and not local_only(requests, url), local_only(requests, url)


def test_queued_run_is_shown_to_its_starter_and_delete_forgets_it(server, page, tmp_path):
    """Beside a training that keeps the 2 cores busy a page can take many seconds to rerun:
    every step waits on what the page shows, for up to SLOW_PAGE_MS."""
    from playwright.sync_api import expect
    first = start_first_run(page, server(tmp_path / "runs"), 5000)
    picker = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Run", exact=True)).locator("input")
    # the rerun the feed asks for once the run trains: its picker says so (a form opened
    # before that rerun could be redrawn under the clicks)
    expect(picker).to_have_value(re.compile(re.escape(f"running  ({first})")),
                                 timeout=SLOW_PAGE_MS)
    # a second start waits behind the first (the server's worker has one slot here)
    start_from_form(page, 300, open_form=True)
    page.wait_for_function(f"(r => r && r !== {first!r})({URL_RUN})", timeout=SLOW_PAGE_MS)
    second = re.search(r"run=([^&]+)", page.url).group(1)
    expect(picker).to_have_value(re.compile(re.escape(f"queued  ({second})")),
                                 timeout=SLOW_PAGE_MS)
    expect(page.get_by_text(re.compile(r"queued · step 0")).first).to_be_visible(
        timeout=SLOW_PAGE_MS)
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete for good").click()
    page.wait_for_function(f"{URL_RUN} === {first!r}", timeout=SLOW_PAGE_MS)
    expect(picker).to_have_value(re.compile(re.escape(f"({first})")), timeout=SLOW_PAGE_MS)
    expect(page.get_by_text(re.compile(r"running · step \d+")).first).to_be_visible(
        timeout=SLOW_PAGE_MS)
    page.get_by_role("button", name="Stop").click()


def touch_stroke(page, points):
    """A one-finger stroke through the browser's touch input (CDP), as on a phone."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
    for p in at[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_phone_draw_shows_the_reading_without_scrolling(server, tmp_path):
    from playwright.sync_api import sync_playwright
    url = server(tmp_path / "empty_runs")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True, device_scale_factor=2)
        page = phone.new_page()
        page.set_default_timeout(60000)
        page.goto(f"{url}/Draw")
        page.get_by_text("its reading shows here").wait_for()
        touch_stroke(page, ONE)
        reading = page.get_by_text(re.compile(r"Reads 1, \d+% confident"))
        reading.wait_for()
        box = reading.bounding_box()
        assert page.evaluate("window.scrollY") == 0
        assert 0 <= box["y"] and box["y"] + box["height"] <= 844, box
        canvas = page.locator("canvas.upper-canvas").first.bounding_box()
        assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 390, canvas
        assert canvas["y"] + canvas["height"] <= 844, canvas  # the whole canvas on screen
        if SCREENSHOT_DIR:
            page.screenshot(path=str(Path(SCREENSHOT_DIR) / "draw_phone.png"))
        browser.close()


def test_a_page_under_a_foreign_host_name_is_refused(server, tmp_path):
    """DNS rebinding: a page on evil.example whose name resolves to this machine. Chromium maps
    the name to 127.0.0.1 itself, so nothing leaves the loopback."""
    from playwright.sync_api import sync_playwright
    url = server(tmp_path / "runs")
    port = urlparse(url).port
    with sync_playwright() as pw:
        browser, pg = open_page(pw, ["--host-resolver-rules=MAP evil.example 127.0.0.1"])
        try:
            pg.goto(f"http://evil.example:{port}/Train")
            pg.get_by_text("does not answer to 'evil.example'").wait_for()
            assert pg.get_by_role("button", name="Start training").count() == 0
            assert pg.get_by_text("Train a semi-supervised GAN").count() == 0
            pg.goto(f"{url}/Train")  # the same server under its own name
            pg.get_by_role("button", name="Start training").wait_for(state="attached")
        finally:
            browser.close()


OVERLAP = """plot => {
  const box = el => el && el.getBoundingClientRect();
  const title = box(plot.querySelector('.gtitle')), bar = box(plot.querySelector('.modebar'));
  const legend = box(plot.querySelector('.legend')), all = box(plot);
  const apart = (a, b) => !a || !b || a.right <= b.left || b.right <= a.left ||
                          a.bottom <= b.top || b.bottom <= a.top;
  const inside = !legend || (legend.left >= all.left - 1 && legend.right <= all.right + 1 &&
                             legend.bottom <= all.bottom + 1);
  return {apart: apart(title, bar), inside, title: !!title, bar: !!bar};
}"""


def test_compare_shows_the_demo_and_keeps_phone_charts_readable(server, tmp_path,
                                                                finished_runs_dir):
    """A finished demo (two 30-step runs on the same 20 labels): curves by step, each side's
    steps, the generated digits, and the verdict in a box whose colour follows the result. On
    a 390-px phone the toolbar once covered chart titles and legends ran off the chart."""
    from playwright.sync_api import sync_playwright

    runs_dir = tmp_path / "runs"
    accs = demo_of_finished_runs(finished_runs_dir, runs_dir)
    url = server(runs_dir)
    with sync_playwright() as pw:
        browser, page = open_page(pw)
        try:
            page.goto(f"{url}/Compare")
            verdict = page.get_by_text(re.compile("Taught with the same 20 labeled digits"))
            verdict.wait_for()
            assert "for 30 training steps each" in verdict.inner_text()
            box = "stAlertContentSuccess" if accs["stacked"] > accs["supervised"] else \
                "stAlertContentWarning"
            assert page.locator(f'[data-testid="{box}"]').filter(has_text="Taught with") \
                .count() == 1
            page.get_by_text(re.compile(r"GAN \(stacked\): finished, step 30 of 30")).wait_for()
            page.get_by_text(re.compile(r"Supervised baseline: finished, step 30 of 30")) \
                .wait_for()
            page.get_by_text(re.compile("each column asks it for one digit")).wait_for()
            page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')].some(p "
                                   "=> p._fullLayout && p._fullLayout.xaxis.title.text === "
                                   "'step')")
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True, device_scale_factor=2).new_page()
            phone.set_default_timeout(60000)
            phone.goto(f"{url}/Compare")
            phone.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2")
            plots = phone.locator(".js-plotly-plot")
            for i in range(plots.count()):
                plots.nth(i).scroll_into_view_if_needed()
                plots.nth(i).hover()
                result = plots.nth(i).evaluate(OVERLAP)
                assert result["title"] and result["apart"] and result["inside"], (i, result)
        finally:
            browser.close()


def test_train_page_shows_every_panel_of_how_it_learns(server, page, tmp_path,
                                                       finished_runs_dir):
    """A finished 30-step run: the self-label sentence and charts, the map (its images on a
    click), the confusion matrix with its gallery, the generator asked for a 4; nothing is
    fetched from another host and no chart can be uploaded."""
    import shutil

    from sgan_core.runs.rundir import list_run_dirs
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = next(r for r in list_run_dirs(runs_dir) if r.read_config()["variant"] == "stacked")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    url = server(runs_dir)
    page.goto(f"{url}/Train?run={run.id}")
    page.get_by_text("How it learns").wait_for()
    page.get_by_text(re.compile("From 20 labeled images the model now labels about")).wait_for()

    def plot_titled(text: str) -> str:
        return ("[...document.querySelectorAll('.js-plotly-plot')].some(p => p._fullLayout && "
                f"p.offsetParent !== null && (p._fullLayout.title.text || '').includes({text!r}))")
    page.wait_for_function(plot_titled("Labels it gives itself"))
    page.get_by_role("tab", name="Map").click()
    page.wait_for_function(plot_titled("what it believes"))
    # a click on a test image's dot shows that image
    page.evaluate("""() => {
        const p = [...document.querySelectorAll('.js-plotly-plot')].find(p =>
            p._fullLayout && (p._fullLayout.title.text || '').includes('what it believes'));
        p.emit('plotly_selected', {points: [{curveNumber: 4, pointNumber: 0, pointIndex: 0,
                                             data: p.data[4], fullData: p._fullData[4]}]});
    }""")
    page.get_by_text(re.compile(r"^a 4, read \d$")).first.wait_for()
    page.get_by_role("tab", name="Mistakes").click()
    page.wait_for_function(plot_titled("what it reads each test digit as"))
    page.get_by_text(re.compile("of the 1,000 test digits")).wait_for()
    # a click on a cell of the matrix (here its second most frequent mistake) shows that pair
    pair = page.evaluate("""() => {
        const p = [...document.querySelectorAll('.js-plotly-plot')].find(p =>
            (p._fullLayout.title.text || '').includes('what it reads each test digit as'));
        const z = p.data[0].z, cells = [];
        z.forEach((row, t) => row.forEach((n, r) => { if (n) cells.push([n, t, r]); }));
        cells.sort((a, b) => b[0] - a[0]);
        const [n, t, r] = cells[1];
        p.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: [t, r],
                                          x: String(r), y: String(t)}]});
        return `${t} read as ${r} (${n})`;
    }""")
    page.wait_for_function("""(pair) => [...document.querySelectorAll(
        '[data-testid=stSelectbox] input')].some(i => i.value === pair)""", arg=pair)
    page.get_by_role("tab", name="Generator").click()
    page.get_by_text(re.compile(r"drawings of a 4 \(the generator is told to draw it\)")) \
        .wait_for()
    page.get_by_text(re.compile(r"Answered in \d+ ms")).first.wait_for()
    page.locator(".js-plotly-plot").first.hover()
    assert page.locator('.modebar-btn[data-title^="Share chart"]').count() == 0
    assert local_only(requests, url) == []
    if SCREENSHOT_DIR:
        page.get_by_role("tab", name="Map").click()
        page.wait_for_function(plot_titled("what it believes"))
        page.get_by_text("How it learns").scroll_into_view_if_needed()
        page.screenshot(path=f"{SCREENSHOT_DIR}/insight_map.png")


# Streamlit's front end, opened at a page's own address (/Train), first looks for its server
# one folder down (/Train/_stcore/health, then /Train/_stcore/host-config), then at the root
# (streamlit/streamlit#7074): two 404s per page opened by its address, asked by Streamlit's own
# script before any of the app's code runs. Every other failed request or console error fails.
STREAMLIT_PROBES = re.compile(r"^/[A-Za-z]+/_stcore/(health|host-config)$")

# Elements whose box passes the window's right edge, outside anything that scrolls sideways on
# its own (a table, a row of images): the page would be wider than the screen, or cut off.
OVERFLOW = """() => {
  const W = window.innerWidth, bad = [];
  const PAGE = ['stApp', 'stAppViewContainer', 'stMain', 'stMainBlockContainer'];
  const scrolls = el => !PAGE.includes(el.getAttribute('data-testid')) &&
      ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) &&
      el.getBoundingClientRect().right <= W + 1;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= W + 1) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.opacity === '0') continue;  // a slider's hidden input
    if (el.closest('[data-testid=stSidebar]')) continue;  // slid away on a phone
    // a screen reader's copy, inside a 1 px box that clips it (a slider's range input)
    let q = el.parentElement, hidden = false;
    while (q && !hidden) { hidden = getComputedStyle(q).overflow === 'hidden' &&
                                    q.getBoundingClientRect().width <= 1; q = q.parentElement; }
    if (hidden) continue;
    let p = el.parentElement, inside = false;
    while (p && p !== document.body && !inside) { inside = scrolls(p); p = p.parentElement; }
    if (!inside) bad.push(`${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') || ''}]`
                          + ` ${Math.round(r.left)}-${Math.round(r.right)} px: `
                          + (el.innerText || el.getAttribute('alt') || '').slice(0, 50));
  }
  const main = document.querySelector('[data-testid=stMain]');
  return {wide: Math.max(document.scrollingElement.scrollWidth,
                         main ? W + main.scrollWidth - main.clientWidth : 0), bad};
}"""

# a chart's title clear of its toolbar, its legend clear of the x axis's title and inside it
CHART_OVERLAPS = """plot => {
  const box = sel => { const el = plot.querySelector(sel);
                       return el && el.getBoundingClientRect(); };
  const apart = (a, b) => !a || !b || a.right <= b.left || b.right <= a.left ||
                          a.bottom <= b.top || b.bottom <= a.top;
  const title = box('.gtitle'), bar = box('.modebar'), legend = box('.legend'),
        xtitle = box('.xtitle'), all = plot.getBoundingClientRect();
  const inside = !legend || (legend.left >= all.left - 1 && legend.right <= all.right + 1 &&
                             legend.bottom <= all.bottom + 1);
  return {title: plot._fullLayout && plot._fullLayout.title.text, toolbar: apart(title, bar),
          legend: apart(legend, xtitle), inside};
}"""


def assert_fits(page, view: str, shots: Path | None, width: int) -> None:
    """Nothing wider than the screen, no chart's parts on top of each other; a screenshot of
    the whole page into shots (if given)."""
    page.wait_for_timeout(700)  # late layout: fonts, charts sizing to their column
    found = page.evaluate(OVERFLOW)
    if shots and found["bad"]:  # what overflowed, to look at
        whole_page_screenshot(page, shots / f"{view}_{width}_overflow.png")
    assert found["wide"] <= width and not found["bad"], (view, width, found)
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        if not plots.nth(i).is_visible():
            continue
        plots.nth(i).scroll_into_view_if_needed()
        plots.nth(i).hover()  # the toolbar shows
        parts = plots.nth(i).evaluate(CHART_OVERLAPS)
        assert parts["toolbar"] and parts["legend"] and parts["inside"], (view, width, parts)
    if shots:
        whole_page_screenshot(page, shots / f"{view}_{width}.png")


def whole_page_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside its main element, not the document: a window as tall as the
    page shows all of it."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(height + 40, 12000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def watch_errors(page, requests: list) -> list:
    """Console errors, script errors and failed requests of the page, as they come."""
    from urllib.parse import urlparse as parse
    errors = []

    def failed(url: str) -> bool:
        return not STREAMLIT_PROBES.match(parse(url).path)
    page.on("console", lambda m: m.type == "error" and failed(m.location.get("url") or "")
            and errors.append(f"console: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: errors.append(f"script: {e}"))
    page.on("response", lambda r: r.status >= 400 and failed(r.url)
            and errors.append(f"HTTP {r.status}: {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    return errors


def test_every_page_fits_a_phone_and_a_wide_screen(server, tmp_path, finished_runs_dir):
    """Home, Train with a run and each tab of How it learns, Compare, Draw with a digit drawn,
    and Sweep, at 390 px (a phone) and 1300 px: no page wider than the screen, no chart title
    under its toolbar or legend on its axis title, no console error or failed request, nothing
    fetched from another host. SGAN_SCREENSHOT_DIR=dir keeps a screenshot of each."""
    import shutil

    from playwright.sync_api import sync_playwright

    from sgan_core.runs.rundir import list_run_dirs
    runs_dir = tmp_path / "runs"
    shutil.copytree(finished_runs_dir, runs_dir)
    run = next(r for r in list_run_dirs(runs_dir) if r.read_config()["variant"] == "stacked")
    url = server(runs_dir)
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    def shown(page, title: str) -> None:
        page.wait_for_function(
            "t => [...document.querySelectorAll('.js-plotly-plot')].some(p => p._fullLayout "
            "&& p.offsetParent !== null && (p._fullLayout.title.text || '').includes(t))",
            arg=title)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for width in (390, 1300):
                phone = width < 600
                context = browser.new_context(viewport={"width": width, "height": 844},
                                              is_mobile=phone, has_touch=phone)
                page = context.new_page()
                page.set_default_timeout(SLOW_PAGE_MS)
                requests = []
                errors = watch_errors(page, requests)

                page.goto(url)
                page.get_by_role("heading", name="SGAN Lab").wait_for()
                page.wait_for_function("[...document.querySelectorAll('[data-testid=stImage] "
                                       "img')].some(i => i.complete && i.naturalWidth > 0)")
                assert_fits(page, "home", shots, width)

                page.goto(f"{url}/Train?run={run.id}")
                page.get_by_text("How it learns").wait_for()
                shown(page, "Labels it gives itself")
                shown(page, "Accuracy")
                page.get_by_text(re.compile(r"Generated digits at step \d+")).first.wait_for()
                assert_fits(page, "train", shots, width)
                for tab, ready in (("Map", "what it believes"),
                                   ("Mistakes", "what it reads each test digit as"),
                                   ("Generator", None)):
                    page.get_by_role("tab", name=tab).click()
                    if ready:
                        shown(page, ready)
                    else:
                        page.get_by_text(re.compile(r"Answered in \d+ ms")).first.wait_for()
                    if tab == "Mistakes":  # each misread digit's caption on one line
                        page.get_by_text(re.compile("kept, surest first")).wait_for()
                        heights = page.locator("[data-testid=stImageCaption]").evaluate_all(
                            "cs => cs.filter(c => c.getBoundingClientRect().width < 100)"
                            ".map(c => c.getBoundingClientRect().height / "
                            "parseFloat(getComputedStyle(c).lineHeight))")
                        assert heights and max(heights) < 1.5, heights
                    assert_fits(page, f"train_{tab.lower()}", shots, width)

                page.goto(f"{url}/Compare")
                page.get_by_role("heading", name="Compare runs").wait_for()
                shown(page, "Test accuracy")
                assert_fits(page, "compare", shots, width)

                page.goto(f"{url}/Draw")
                page.get_by_text("Draw a digit on the canvas").wait_for()
                (touch_stroke if phone else draw)(page, ONE)
                page.get_by_text(re.compile(r"\d+% sure it is a \d")).wait_for()
                assert page.get_by_text("real handwriting").count() == 0  # it meant nothing
                shown(page, "Class probabilities")
                # the canvas's toolbar, above its top edge, covers neither the reading shown
                # above the canvas on a phone nor the controls
                toolbar = page.locator(".dc-toolbar-card").first.bounding_box()
                above = (page.locator(".st-key-phone_prediction") if phone else
                         page.get_by_role("button", name="Clear")).bounding_box()
                assert above["y"] + above["height"] <= toolbar["y"], (above, toolbar)
                if phone:  # and no empty band between Clear and the reading
                    clear = page.get_by_role("button", name="Clear").bounding_box()
                    assert above["y"] - (clear["y"] + clear["height"]) < 40, (clear, above)
                assert_fits(page, "draw", shots, width)

                page.goto(f"{url}/Sweep")
                page.get_by_role("heading", name="Label-efficiency sweep").wait_for()
                assert_fits(page, "sweep", shots, width)

                page.wait_for_timeout(1000)  # late requests count too
                assert not errors, (width, errors)
                assert requests and not local_only(requests, url), local_only(requests, url)
                context.close()
        finally:
            browser.close()


# Server and trainer log lines a user should never have to read: CPU-only TensorFlow noise,
# Streamlit's warning about a missing static folder, and any Python traceback.
ALARMING = re.compile(r"cuInit|CUDA error|remapper failed|Static file serving is enabled|"
                      r"Traceback \(most recent call last\)|^\w*(Error|Exception): |\bERROR\b")


def test_a_newcomer_walks_every_page_from_an_empty_runs_dir(tmp_path, small_mnist, app_dir):
    """A first visit with nothing trained yet: the New run form's estimate (the machine timed
    once, as on a fresh install), a `fast` run started from the form (half a minute), the four
    tabs of How it learns, a digit drawn, Compare and Sweep, at 1300 px and at 390 px: no page
    wider than the screen, no console error or failed request, nothing fetched from another
    host, no alarming line in the server's or the trainer's log. Prints the estimated steps
    beside the steps trained (benchmarks/promise.py judges that promise)."""
    from playwright.sync_api import sync_playwright

    from sgan_core.runs.rundir import list_run_dirs
    runs_dir, log = tmp_path / "runs", tmp_path / "server.log"
    runs_dir.mkdir()
    proc, url = start_streamlit(runs_dir, app_dir, log=log, SGAN_MNIST=small_mnist,
                                SGAN_SLOTS="1", SGAN_SPEED_PROBE="1",
                                TF_CPP_MIN_LOG_LEVEL=None)  # the app's own log levels
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else None

    def shown(page, title: str) -> None:
        page.wait_for_function(
            "t => [...document.querySelectorAll('.js-plotly-plot')].some(p => p._fullLayout "
            "&& p.offsetParent !== null && (p._fullLayout.title.text || '').includes(t))",
            arg=title)

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for width in (1300, 390):
                phone = width < 600
                context = browser.new_context(viewport={"width": width, "height": 844},
                                              is_mobile=phone, has_touch=phone)
                page = context.new_page()
                page.set_default_timeout(SLOW_PAGE_MS)
                requests = []
                errors = watch_errors(page, requests)
                page.goto(url)
                page.get_by_role("heading", name="SGAN Lab").wait_for()
                assert_fits(page, "newcomer_home", shots, width)

                page.goto(f"{url}/Train")
                page.get_by_role("heading", name="Train a semi-supervised GAN").wait_for()
                if not phone:  # the first run, from the form (the phone visits it after)
                    page.get_by_role("spinbutton", name="Minutes").fill("0.5")
                    page.get_by_role("spinbutton", name="Minutes").press("Enter")
                    note = page.get_by_text(re.compile(r"Trains .+ by the clock.*about "
                                                       r"[\d,]+ steps")).first
                    note.wait_for()
                    estimate = int(re.search(r"about ([\d,]+) steps",
                                             note.inner_text()).group(1).replace(",", ""))
                    assert_fits(page, "newcomer_form", shots, width)
                    page.get_by_role("button", name="Start training").click()
                    page.get_by_text(re.compile(r"finished · step \d+")).first.wait_for(
                        timeout=SLOW_PAGE_MS * 2)
                    trained = progress_step(page)
                    print(f"estimated {estimate} steps, trained {trained} "
                          f"({trained / estimate:.2f}x)")
                    assert estimate > 0 and trained > 0
                else:
                    run = list_run_dirs(runs_dir)[0]
                    page.goto(f"{url}/Train?run={run.id}")
                page.get_by_text("How it learns").wait_for()
                shown(page, "Labels it gives itself")
                assert_fits(page, "newcomer_train", shots, width)
                for tab, ready in (("Map", "what it believes"),
                                   ("Mistakes", "what it reads each test digit as"),
                                   ("Generator", None)):
                    page.get_by_role("tab", name=tab).click()
                    if ready:
                        shown(page, ready)
                    else:
                        page.get_by_text(re.compile(r"Answered in \d+ ms")).first.wait_for()
                    assert_fits(page, f"newcomer_{tab.lower()}", shots, width)

                page.goto(f"{url}/Draw")
                page.get_by_text("Draw a digit on the canvas").wait_for()
                (touch_stroke if phone else draw)(page, ONE)
                page.get_by_text(re.compile(r"\d+% sure it is a \d")).wait_for()
                assert_fits(page, "newcomer_draw", shots, width)
                for path, heading in (("Compare", "Compare runs"),
                                      ("Sweep", "Label-efficiency sweep")):
                    page.goto(f"{url}/{path}")
                    page.get_by_role("heading", name=heading).wait_for()
                    assert_fits(page, f"newcomer_{path.lower()}", shots, width)
                page.wait_for_timeout(1000)  # late requests count too
                assert not errors, (width, errors)
                assert requests and not local_only(requests, url), local_only(requests, url)
                context.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        stop_every_run(tmp_path)
    logs = [log] + [p for p in runs_dir.rglob("*.log")]
    alarming = [f"{p.name}: {line}" for p in logs
                for line in p.read_text(errors="replace").splitlines() if ALARMING.search(line)]
    assert not alarming, "\n".join(alarming)
