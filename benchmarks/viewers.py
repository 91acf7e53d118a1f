"""Live viewers: the server's CPU per Train-page viewer, the time each viewer takes to show the
live run, and the Draw page's latency while they watch, with one training running.

    python -m benchmarks.viewers N [N ...] [--seconds 30] [--strokes 20]

Starts `streamlit run app.py` on a free localhost port with a fresh runs directory and a `fast`
training through the dashboard's own queue. Then, for each N:
  1. the server process's CPU over --seconds with no viewer open (the baseline: the training's
     files change, nobody looks);
  2. N headless Chromium viewers open /Train?run=ID at the same moment; each records, by its
     own clock, when the page first shows the live run (the "running · step" progress and both
     charts): the time to show;
  3. the server's CPU over --seconds while the N viewers watch: (that - baseline) / N per viewer;
  4. with the viewers still open, --strokes strokes on the Draw page: ms from mouseup to the
     predicted digit (p50, p90).
The browsers share the machine's cores with the server and the training, which inflates the
page times (not the server's CPU per viewer, the figure that scales).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sgan_core.config import make_config
from sgan_core.runs import launcher
from tests import pages_harness as driver

TICK = os.sysconf("SC_CLK_TCK")
# set in every viewer before the page's own scripts: when the live run is first on screen
SHOWN_AT = """(() => {
  const check = () => {
    if (window.__shownAt) return;
    const text = document.body ? document.body.innerText : "";
    if (/running · step \\d+/.test(text) &&
        document.querySelectorAll(".js-plotly-plot").length >= 2)
      window.__shownAt = performance.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                                  characterData: true});
})()"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def start_all(runs_dir):
    """A `fast` training (an hour by the clock) through the dashboard's queue and a server over
    its runs directory, once the training runs: (run, server process, its URL)."""
    run = launcher.start_run(make_config("fast", max_seconds=3600), runs_dir)
    proc, base_url = driver.start_streamlit(runs_dir)
    while run.read_status().get("state") != "running":
        time.sleep(0.5)
    return run, proc, base_url


def stop_all(run, proc) -> None:
    """Stop the benchmark's training and its server, and wait for the training to end."""
    launcher.stop_run(run)
    proc.terminate()
    proc.wait(timeout=30)
    deadline = time.time() + 30
    while run.read_status().get("state") == "running" and time.time() < deadline:
        time.sleep(0.5)


def server_cores(pid: int, seconds: float) -> float:
    t0, c0 = time.perf_counter(), cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


def open_viewers(browser, url: str, n: int) -> tuple[list, list[float | None]]:
    contexts, pages = [], []
    for _ in range(n):
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
        ctx.add_init_script(SHOWN_AT)
        contexts.append(ctx)
        pages.append(ctx.new_page())
    for page in pages:  # all navigations in flight at once
        page.goto(url, wait_until="commit")
    deadline = time.time() + 60
    shown = [None] * n
    while time.time() < deadline and None in shown:
        for i, page in enumerate(pages):
            if shown[i] is None:
                shown[i] = page.evaluate("window.__shownAt || null")
        time.sleep(0.25)
    return contexts, [s / 1000 if s else None for s in shown]


def draw_latencies(browser, url: str, strokes: int) -> list[float]:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    page.set_default_timeout(60000)
    page.goto(f"{url}/Draw")
    page.get_by_text("Draw a digit on the canvas").wait_for()
    page.evaluate(driver.WATCH_PREDICTIONS)
    out = []
    for i in range(strokes + 1):  # the first stroke warms the page up and is not counted
        _, ms = driver.draw_and_read(page, driver.ONE if i % 2 == 0 else driver.ZERO)
        if i:
            out.append(ms)
        driver.clear_canvas(page)
    ctx.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("viewers", type=int, nargs="+")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--strokes", type=int, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as runs_dir:
        run, proc, base_url = start_all(runs_dir)
        try:
            url = f"{base_url}/Train?run={run.id}"
            print(f"{os.cpu_count()} cores; one `fast` training running ({run.id})", flush=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=driver.CHROMIUM, args=driver.FLAGS)
                warm, _ = open_viewers(browser, url, 1)  # first page run: imports, caches
                for c in warm:
                    c.close()
                for n in args.viewers:
                    idle = server_cores(proc.pid, args.seconds)
                    contexts, shown = open_viewers(browser, url, n)
                    watched = server_cores(proc.pid, args.seconds)
                    ms = sorted(draw_latencies(browser, base_url, args.strokes))
                    for c in contexts:
                        c.close()
                    ok = [s for s in shown if s is not None]
                    per_viewer = (watched - idle) / n
                    print(f"N={n}: server {idle:.3f} cores idle, {watched:.3f} watched -> "
                          f"{per_viewer:.3f} cores per viewer; shown {len(ok)}/{n}, "
                          f"slowest {max(ok) if ok else float('nan'):.1f} s, median "
                          f"{statistics.median(ok) if ok else float('nan'):.1f} s; Draw "
                          f"p50 {statistics.median(ms):.0f} ms, "
                          f"p90 {ms[int(0.9 * (len(ms) - 1))]:.0f} ms", flush=True)
                browser.close()
        finally:
            stop_all(run, proc)


if __name__ == "__main__":
    main()
