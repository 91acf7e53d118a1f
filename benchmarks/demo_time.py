"""The Compare page's demo as a presenter sees it: the time it promises before the click, the
seconds from the click to its verdict on screen, and the verdict itself.

    python -m benchmarks.demo_time [--runs-dir DIR] [--hogs N] [--screenshot PNG]

Starts `streamlit run app.py` on a free localhost port with a fresh (or the given) runs
directory, opens the Compare page in Debian's chromium, reads the promised time, clicks the
button and waits for the verdict. --hogs N first starts N busy processes at the trainers'
priority (nice 10), each wanting a whole core: with 4 on 2 cores every trainer gets a third of
a core, a machine three times slower. Prints the demo's run directories, for
`python -m benchmarks.samples` on the GAN's.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sgan_ui import testing as driver

HOG = "import os\nos.nice(10)\nwhile True: pass"


def seconds_in(text: str) -> float | None:
    """"about 2m 10s" -> 130 (the page's fmt_duration)."""
    m = re.search(r"about (?:(\d+)h )?(?:(\d+)m )?(?:(\d+)s)?", text)
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return 3600 * h + 60 * mi + s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs-dir")
    ap.add_argument("--hogs", type=int, default=0, help="busy nice-10 processes beside it")
    ap.add_argument("--screenshot", help="save the page with its verdict here (PNG)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    with tempfile.TemporaryDirectory() as fresh:
        runs_dir = args.runs_dir or fresh
        proc, url = driver.start_streamlit(runs_dir)
        try:
            with sync_playwright() as pw:
                browser, page = driver.open_page(pw)
                page.goto(f"{url}/Compare")
                button = page.get_by_role("button", name="Run the demo")
                button.wait_for()
                promise = page.get_by_text(re.compile(r"(Takes|take) about")).first
                promised = promise.inner_text()
                t0 = time.perf_counter()
                button.click()
                live = page.get_by_text(re.compile(r"about .* to go on this machine"))
                live.first.wait_for(timeout=600000)
                live_at, live_text = time.perf_counter() - t0, live.first.inner_text()
                verdict = page.get_by_text(re.compile("Taught with the same")).first
                verdict.wait_for(timeout=3600000)
                seconds = time.perf_counter() - t0
                print(f"promised before the click: {promised}")
                print(f"first live estimate, {live_at:.0f} s after the click: {live_text}")
                for name, said, elapsed in (("promise", promised, 0.0),
                                            ("live", live_text, live_at)):
                    s = seconds_in(said)
                    if s:
                        print(f"  {name}: {elapsed + s:.0f} s against {seconds:.0f} s taken "
                              f"({(elapsed + s) / seconds - 1:+.0%})")
                print(f"verdict after {seconds:.1f} s:\n{verdict.inner_text()}")
                for line in page.get_by_text(re.compile(r": finished, step")).all():
                    print(line.inner_text())
                if args.screenshot:
                    page.screenshot(path=args.screenshot, full_page=True)
                browser.close()
            print("runs:", *sorted(p for p in Path(runs_dir).iterdir() if p.is_dir()))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            for h in hogs:
                h.kill()


if __name__ == "__main__":
    main()
