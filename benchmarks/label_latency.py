"""Labeling desk latency: milliseconds from a key press or a tap to the pill shown selected.

Starts `streamlit run app.py` on a free port with an empty runs directory (a copy of the app in
a temporary directory), opens the Teach page's "Label what it picks" tab in Debian's chromium
and labels one grid of typical images by key (0-9), then another by tap. Each press is timed
by the page's own clock: from the keydown or pointerdown to the frame that paints the pill
selected, and to the "N of K labeled" caption that follows the server's rerun (the answer is
saved by then). Presses are paced like a person's: the next waits for the previous one's
caption. Prints every press and a summary.

    python -m benchmarks.label_latency --presses 20 [--mnist FILE]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tests import pages_harness as driver

# In the page: each keydown/pointerdown, each pill turned selected (timed at the frame that
# paints it) and each change of the "N of K labeled" caption.
WATCH = """() => {
  window.__press = []; window.__pill = []; window.__caption = [];
  for (const kind of ['keydown', 'pointerdown'])
    document.addEventListener(kind, () => window.__press.push(performance.now()), true);
  new MutationObserver((changes) => {
    if (changes.some((c) => c.target.getAttribute('aria-checked') === 'true'))
      requestAnimationFrame(() => window.__pill.push(performance.now()));
  }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['aria-checked']});
  let last = null;
  new MutationObserver(() => {
    const el = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
      .find((e) => / of \\d+ labeled/.test(e.innerText));
    const text = el ? el.innerText : null;
    if (text !== last) { last = text; window.__caption.push({t: performance.now(), text}); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def open_grid(page, seed: int, n: int) -> None:
    page.get_by_role("tab", name="Label what it picks").click()
    seed_box = page.get_by_label("Seed")
    seed_box.fill(str(seed))
    seed_box.press("Enter")
    count = page.get_by_label("How many images to label")
    count.fill(str(n))
    count.press("Enter")
    if not page.get_by_label("Let it pick typical images").is_checked():
        page.get_by_text("Let it pick typical images").click()
    page.get_by_text(f"0 of {n} labeled").wait_for(timeout=120_000)
    page.mouse.click(5, 5)  # the focus off the number inputs, where keys type


def press(page, i: int, n: int, how: str) -> tuple[float, float]:
    """One answer, the i-th of the grid, by key or by tap: (ms to the pill, ms to the caption)."""
    before = page.evaluate("[window.__press.length, window.__pill.length]")
    if how == "key":
        page.keyboard.press(str(i % 10))
    else:
        group = page.locator("[role=radiogroup][aria-label='digit']").nth(i)
        group.get_by_role("radio", name=str(i % 10), exact=True).click()
    return page.wait_for_function("""([start, pills, done]) => {
        const t = window.__press[start];
        const cap = window.__caption.find((x) => x.text && x.text.startsWith(done) && x.t > t);
        return t && cap && window.__pill.length > pills && [window.__pill[pills] - t, cap.t - t];
    }""", arg=[before[0], before[1], f"{i + 1} of {n} labeled"]).json_value()


def measure(url: str, presses: int) -> dict[str, list[tuple[float, float]]]:
    from playwright.sync_api import sync_playwright
    out = {}
    with sync_playwright() as pw:
        browser, page = driver.open_page(pw)
        for seed, how in ((0, "key"), (1, "tap")):  # a fresh page for each grid
            page.goto(f"{url}/Teach")
            page.get_by_role("heading", name="Teach it yourself").wait_for()
            page.evaluate(WATCH)
            open_grid(page, seed, presses)
            out[how] = []
            for i in range(presses):
                pill, caption = press(page, i, presses, how)
                out[how].append((pill, caption))
                print(f"{how} {i + 1:2d}: pill {pill:5.0f} ms, caption {caption:5.0f} ms",
                      flush=True)
                page.wait_for_timeout(150)  # a person's pace between answers
        browser.close()
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    return (f"median {statistics.median(ms):.0f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, "
            f"max {ms[-1]:.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=20, help="answers per grid (10-200)")
    ap.add_argument("--mnist", help="an MNIST npz to serve instead of the shipped one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = driver.app_copy(Path(tmp) / "app")
        env = {"SGAN_MNIST": args.mnist} if args.mnist else {}
        proc, url = driver.start_streamlit(Path(tmp) / "runs", app, **env)
        try:
            results = measure(url, args.presses)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print()
    for how, rows in results.items():
        print(f"{how}: {len(rows)} presses; to the pill selected: {summary([r[0] for r in rows])}"
              f"; to the saved count: {summary([r[1] for r in rows])}; "
              f"{sum(r[0] <= 200 for r in rows)}/{len(rows)} pills within 200 ms")


if __name__ == "__main__":
    main()
