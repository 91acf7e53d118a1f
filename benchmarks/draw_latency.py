"""Draw page latency: milliseconds from the end of a stroke to the predicted digit on screen.

Starts `streamlit run app.py` on a free port, opens the Draw page in Debian's chromium, draws
a "1" and a "0" in turn (clearing between), and times each from the browser's mouseup to the
change of the predicted digit, both by the page's own clock. Prints every stroke and a summary.
Run it once on an idle machine and once while a training run is active to see both cases.

    python benchmarks/draw_latency.py --strokes 24 [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import (CHROMIUM, FLAGS, WATCH_PREDICTIONS, clear_canvas,  # noqa: E402
                          draw_and_read, free_port)

ONE = [(140, 40 + 4 * i) for i in range(51)]
ZERO = [(140 + 60 * math.sin(t / 40 * 2 * math.pi), 140 - 95 * math.cos(t / 40 * 2 * math.pi))
        for t in range(43)]


def start_server(runs_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SGAN_RUNS_DIR=runs_dir, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def measure(url: str, strokes: int) -> list[tuple[str, str, float]]:
    from playwright.sync_api import sync_playwright
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(60000)
        page.goto(f"{url}/Draw")
        page.get_by_text("Draw a digit on the canvas").wait_for()
        page.evaluate(WATCH_PREDICTIONS)
        for i in range(strokes + 1):  # the first stroke warms the page up and is not counted
            drawn, points = ("1", ONE) if i % 2 == 0 else ("0", ZERO)
            digit, ms = draw_and_read(page, points)
            if i:
                results.append((drawn, digit, ms))
                print(f"stroke {i:2d}: drew {drawn}, read {digit}, {ms:4.0f} ms", flush=True)
            clear_canvas(page)
        browser.close()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=24)
    ap.add_argument("--runs-dir", help="runs the page offers (default: none, so the shipped "
                                       "model is used)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        proc, url = start_server(args.runs_dir or empty)
        try:
            results = measure(url, args.strokes)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    ms = sorted(r[2] for r in results)
    within = sum(m <= 300 for m in ms)
    correct = sum(drawn == read for drawn, read, _ in results)
    print(f"\n{len(ms)} strokes: median {statistics.median(ms):.0f} ms, "
          f"p90 {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, min {ms[0]:.0f}, max {ms[-1]:.0f}; "
          f"{within}/{len(ms)} within 300 ms; {correct}/{len(ms)} read as drawn")


if __name__ == "__main__":
    main()
