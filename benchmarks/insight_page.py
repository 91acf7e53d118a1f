"""How long a finished run's Train page takes to show "How it learns" in a real browser
(Debian's chromium): the page with its first panel, then each other panel from the click on its
tab, on a first visit and on later ones.

    python -m benchmarks.insight_page RUNS_DIR RUN_ID [--visits 5]

Starts `streamlit run app.py` on a free localhost port over RUNS_DIR, then opens
/Train?run=RUN_ID in the same browser page --visits times. Times are the page's own clock:
  page      navigation start until the live charts, the self-label sentence and both
            self-label charts are drawn and Streamlit is no longer running the script;
  Map, Mistakes, Generator
            the click on the tab until its panel is drawn (the map, the confusion matrix,
            the generator's answer) and the script has ended.
The first visit pays for the cached figures and the generator's loading; later visits are what
another viewer sees.
"""
from __future__ import annotations

import argparse
import statistics

from tests import pages_harness as driver

IDLE = "!document.querySelector('[data-testid=stStatusWidget]')"
TITLES = "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent)" \
         ".map(p => (p._fullLayout && p._fullLayout.title.text) || '')"
READY = {
    "page": f"() => {IDLE} && ['Losses', 'Accuracy', 'Labels it gives itself', 'the labels "
            f"it gives'].every(t => {TITLES}.some(x => x.includes(t))) && "
            "document.body.innerText.includes('labels about')",
    "Map": f"() => {IDLE} && {TITLES}.some(x => x.includes('what it believes'))",
    "Mistakes": f"() => {IDLE} && {TITLES}.some(x => x.includes('what it reads'))",
    "Generator": f"() => {IDLE} && /Answered in \\d+ ms/.test(document.body.innerText)",
}
CLICKED = "() => window.__clicked = performance.now()"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs_dir")
    ap.add_argument("run_id")
    ap.add_argument("--visits", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url = driver.start_streamlit(args.runs_dir)
    times = {k: [] for k in READY}
    try:
        with sync_playwright() as pw:
            browser, page = driver.open_page(pw)
            for visit in range(args.visits):
                page.goto(f"{url}/Train?run={args.run_id}")
                page.wait_for_function(READY["page"], polling=20, timeout=60000)
                times["page"].append(page.evaluate("() => performance.now()"))
                for tab in ("Map", "Mistakes", "Generator"):
                    page.evaluate(CLICKED)
                    page.get_by_role("tab", name=tab).click()
                    page.wait_for_timeout(50)  # let the click's rerun begin
                    page.wait_for_function(READY[tab], polling=20, timeout=60000)
                    times[tab].append(page.evaluate("() => performance.now() - window.__clicked"))
                print(f"visit {visit + 1}: " + ", ".join(f"{k} {v[-1]:,.0f} ms"
                                                         for k, v in times.items()))
                page.goto("about:blank")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for k, v in times.items():
        later = v[1:] or v
        print(f"{k:10} first visit {v[0]:>6,.0f} ms; later visits median "
              f"{statistics.median(later):>6,.0f} ms, slowest {max(later):>6,.0f} ms")


if __name__ == "__main__":
    main()
