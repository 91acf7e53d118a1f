"""Drive the dashboard in a real browser: `streamlit run app.py` on a free localhost port (from
the project, or from a copy of the app in a temporary directory), Debian's chromium through
Playwright, and the Draw page's strokes and timing.

Used by the browser tests and the benchmarks that open pages (draw_latency, demo_time, viewers,
insight_page). Playwright is imported by the caller; nothing here runs at import.
"""
from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from sgan_core import PROJECT_ROOT as ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# what `streamlit run app.py` needs besides data/ (its files are linked, not copied)
APP_PARTS = ("app.py", "pages", "sgan_ui", "sgan_core", ".streamlit", "static")


def app_copy(dest) -> Path:
    """The dashboard copied into dest, the shipped data linked. The trainings a server started
    there starts run from the copy: nothing is written into the project."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in APP_PARTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "live"))
        else:
            shutil.copy2(ROOT / name, dest / name)
    (dest / "data").mkdir()
    for item in (ROOT / "data").iterdir():
        (dest / "data" / item.name).symlink_to(item, target_is_directory=item.is_dir())
    return dest


def start_streamlit(runs_dir, app_dir=ROOT, log=None, **env) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` in app_dir (the project, or an app_copy) on a free port with its
    own runs directory: (process, URL). log: a file path for the server's output."""
    port = free_port()
    full_env = dict(os.environ, SGAN_RUNS_DIR=str(runs_dir), TF_CPP_MIN_LOG_LEVEL="2")
    for name, value in env.items():  # None: not set at all, as on a user's machine
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1"],
                            cwd=app_dir, env=full_env,
                            stdout=open(log, "ab") if log else subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def open_page(pw, extra_flags: tuple = ()):
    """Debian's chromium with the project's flags: (browser, a new page)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS + list(extra_flags))
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60000)
    return browser, page


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
