"""The Compare page's demo as a presenter sees it: the time it promises before the click, the
seconds from the click to its verdict on screen, and the verdict itself.

    python -m benchmarks.demo_time [--runs-dir DIR] [--hogs N] [--screenshot PNG]

Starts `streamlit run app.py` on a free localhost port with a fresh (or the given) runs
directory, opens the Compare page in Debian's chromium, reads the promised time, clicks the
button and waits for the verdict. --hogs N first starts N busy programs, each wanting a whole
core and each in a session of its own, as programs a person starts are: Linux shares the CPU
between sessions first, so with 2 on 2 cores the demo's two trainers (one session) get two
thirds of a core between them, a machine three times slower. Prints the demo's run
directories, for `python -m benchmarks.samples` on the GAN's.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import pages_harness as driver

HOG = "while True: pass"


def start_hogs(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)
            for _ in range(n)]


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
    hogs = start_hogs(args.hogs)
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
                verdict = page.get_by_text(re.compile("Taught with the same")).first
                estimates = []  # (seconds after the click, the live estimate then)
                while not verdict.count():
                    if live.count():
                        estimates.append((time.perf_counter() - t0, live.first.inner_text()))
                    page.wait_for_timeout(5000)
                seconds = time.perf_counter() - t0
                print(f"promised before the click: {promised}")
                said = [("promise", 0.0, promised)] + [
                    (f"live at {at:.0f} s", at, text) for at, text in estimates
                    if at == estimates[0][0] or at >= seconds / 4 and not any(
                        seconds / 4 <= a < at for a, _ in estimates)]
                for name, at, text in said:
                    s = seconds_in(text)
                    if s:
                        print(f"  {name}: {at + s:.0f} s against {seconds:.0f} s taken "
                              f"({(at + s) / seconds - 1:+.0%})")
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
