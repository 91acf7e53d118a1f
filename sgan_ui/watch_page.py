"""The watch-only page for a room (/watch/<id>, feed_routes.py): one run's progress line, its
four figures, both live charts and the latest generated grid, phone first, drawn by the same
code as the Train page's live part (feed_view.py) from the same stream. A plain HTML page: no
Streamlit script runs for its viewers, and its Content-Security-Policy lets it load nothing
from any host but this server.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json

from .feed_view import CSS, FEED_VIEW_JS, HTML, PLOTLY_JS

SMOOTHING = 0.6   # the Train page's default
GRID_CAPTION = ("every grid starts from the same 100 random seeds of the generator, so each "
                "square shows one drawing changing as it learns")

_PAGE_CSS = """
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem; font-family: "Source Sans Pro", system-ui, sans-serif;
       color: #1f2a36; background: #fff; overflow-x: hidden; }
main { max-width: 1100px; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: 0 0 0.2rem 0; }
.sgan-watch-title { color: rgba(49, 51, 63, 0.6); margin: 0 0 0.8rem 0; font-size: 0.95rem;
                    overflow-wrap: anywhere; }
.sgan-feed-metric { min-width: 9rem; }
.sgan-feed-metric b { font-size: 1.8rem; }
.sgan-feed-chart { flex: 1 1 300px; }
"""

_START = """
(async () => {
  const root = document.querySelector(".sgan-feed");
  const title = document.querySelector(".sgan-watch-title");
  root.args = JSON.parse(document.getElementById("sgan-watch-args").textContent);
  const Plotly = await loadPlotly(root.args.src);
  followFeed(root, Plotly, (feed) => {
    if (feed.title && title.textContent !== feed.title) title.textContent = feed.title;
  });
})();
"""


@functools.cache
def _script() -> tuple[str, str]:
    """The page's script and its CSP hash (the same for every run: the run is in the args)."""
    script = PLOTLY_JS + FEED_VIEW_JS + _START
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return script, f"'sha256-{digest}'"


def watch_html(fid: str, base: str) -> tuple[str, str]:
    """(the page for feed id fid on a server under base path base, its CSP header)."""
    script, script_hash = _script()
    args = {"url": f"{base}/feed/{fid}", "src": f"{base}/feed/assets/plotly.js",
            "smoothing": SMOOTHING, "x": "step", "x_title": "step", "grid": True,
            "caption": GRID_CAPTION}
    # JSON in a data block (never run): </ escaped, so no value can close the element
    data = json.dumps(args).replace("</", "<\\/")
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SGAN Lab · live run</title>
<style>{CSS}{_PAGE_CSS}</style></head>
<body><main><h1>SGAN Lab · live run</h1><p class="sgan-watch-title"></p>
{HTML}
</main>
<script type="application/json" id="sgan-watch-args">{data}</script>
<script>{script}</script>
</body></html>"""
    # plotly.js sets styles inline; everything else comes from this server alone
    csp = (f"default-src 'none'; script-src 'self' {script_hash}; "
           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
           "font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
    return html, csp
