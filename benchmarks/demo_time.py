"""The Compare page's demo as a presenter sees it: seconds from the click on "Run the demo" to
its sentence on screen, and the sentence itself.

    python -m benchmarks.demo_time [--runs-dir DIR] [--screenshot PNG]

Starts `streamlit run app.py` on a free localhost port with a fresh (or the given) runs
directory, opens the Compare page in Debian's chromium, clicks the button and waits for the
sentence. Run it on an idle machine: the demo's two trainings use one core each.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from sgan_ui import testing as driver


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs-dir")
    ap.add_argument("--screenshot", help="save the page with its sentence here (PNG)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as fresh:
        proc, url = driver.start_streamlit(args.runs_dir or fresh)
        try:
            with sync_playwright() as pw:
                browser, page = driver.open_page(pw)
                page.goto(f"{url}/Compare")
                button = page.get_by_role("button", name="Run the demo")
                button.wait_for()
                t0 = time.perf_counter()
                button.click()
                sentence = page.locator('[data-testid="stAlertContentSuccess"]').first
                sentence.wait_for(timeout=600000)
                seconds = time.perf_counter() - t0
                print(f"demo sentence after {seconds:.1f} s:\n{sentence.inner_text()}")
                if args.screenshot:
                    page.screenshot(path=args.screenshot, full_page=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
