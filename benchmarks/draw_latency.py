"""Draw page latency: milliseconds from the end of a stroke to the predicted digit on screen.

Starts `streamlit run app.py` on a free port, opens the Draw page in Debian's chromium, draws
a "1" and a "0" in turn (clearing between), and times each from the browser's mouseup to the
change of the predicted digit, both by the page's own clock. Prints every stroke and a summary.
Run it once on an idle machine and once while a training run is active to see both cases.

    python -m benchmarks.draw_latency --strokes 24 [--runs-dir DIR]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile

from tests import pages_harness as driver


def measure(url: str, strokes: int) -> list[tuple[str, str, float]]:
    from playwright.sync_api import sync_playwright
    results = []
    with sync_playwright() as pw:
        browser, page = driver.open_page(pw)
        page.goto(f"{url}/Draw")
        page.get_by_text("Draw a digit on the canvas").wait_for()
        page.evaluate(driver.WATCH_PREDICTIONS)
        for i in range(strokes + 1):  # the first stroke warms the page up and is not counted
            drawn, points = ("1", driver.ONE) if i % 2 == 0 else ("0", driver.ZERO)
            digit, ms = driver.draw_and_read(page, points)
            if i:
                results.append((drawn, digit, ms))
                print(f"stroke {i:2d}: drew {drawn}, read {digit}, {ms:4.0f} ms", flush=True)
            driver.clear_canvas(page)
        browser.close()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=24)
    ap.add_argument("--runs-dir", help="runs the page offers (default: none, so the shipped "
                                       "model is used)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        proc, url = driver.start_streamlit(args.runs_dir or empty)
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
