"""A live run's view in the browser, as markup, style and script: the Train page's live
component (live_feed.py) and the watch-only page (watch_page.py) both draw it.

FEED_VIEW_JS follows a run's server-sent event stream (feed_routes.py): the whole feed, then
patches (feed_hub.diff) applied in place; it redraws the progress line, the four figures, both
charts (smoothed and on the x axis the viewer chose, here in the browser) and the latest grid.
It needs PLOTLY_JS (plotly.js loaded from this server, live_chart.py) before it. No Streamlit
component here.
"""
from __future__ import annotations

import json
from pathlib import Path

from .common import PLOTLY_CONFIG

PLOTLY_DIR = Path(__file__).resolve().parent / "plotly_js"
PLOTLY_FILE = "plotly-cartesian.min.js"

# loadPlotly, and plotlyConfig: the toolbar of a chart drawn in the browser, PLOTLY_CONFIG's
PLOTLY_JS = "const PLOTLY_CONFIG = " + json.dumps(PLOTLY_CONFIG) + """;
function plotlyConfig(select) {  // box and lasso select only on a chart that listens to them
  return {...PLOTLY_CONFIG, responsive: true, modeBarButtonsToRemove:
          PLOTLY_CONFIG.modeBarButtonsToRemove.concat(select ? [] : ["lasso2d", "select2d"])};
}
let plotlyReady = null;
function loadPlotly(src) {
  plotlyReady ??= new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => { plotlyReady = null; reject(new Error("plotly.js not loaded")); };
    document.head.appendChild(script);
  });
  return plotlyReady;
}
"""

FEED_VIEW_JS = """
function smooth(ys, w) {  // charts.smooth: TensorBoard's bias-corrected moving average
  if (!(w > 0)) return ys;
  let last = 0;
  return ys.map((v, i) => {
    if (v === null) return null;
    last = last * w + (1 - w) * v;
    return last / (1 - Math.pow(w, i + 1));
  });
}

function applyPatch(feed, p) {  // feed_hub.diff, undone
  const out = {...feed, charts: feed.charts.slice()};
  for (const k in p) if (k !== "charts" && k !== "traces") out[k] = p[k];
  for (const c in (p.charts || {})) out.charts[+c] = p.charts[c];
  for (const [c, t, keep, tail] of (p.traces || [])) {
    const chart = out.charts[c] = {...out.charts[c], data: out.charts[c].data.slice()};
    const trace = chart.data[t] = {...chart.data[t]};
    for (const k in tail) trace[k] = (trace[k] || []).slice(0, keep).concat(tail[k]);
  }
  return out;
}

// root: a .sgan-feed element; root.args: {url, smoothing, x, x_title, grid, caption};
// onFeed(feed) after each redraw. Stops when root leaves the page.
function followFeed(root, Plotly, onFeed) {
  let feed = null, source = null, url = null, drawing = false, again = false;
  const redraw = async () => {
    if (!feed) return;
    root.querySelector(".sgan-feed-text").textContent = feed.text;
    root.querySelector(".sgan-feed-bar > div").style.width = `${100 * feed.fraction}%`;
    root.querySelectorAll(".sgan-feed-metric").forEach((m, i) => {
      if (!feed.metrics[i]) return;
      m.querySelector("span").textContent = feed.metrics[i][0];
      m.querySelector("b").textContent = feed.metrics[i][1];
    });
    const a = root.args, specs = feed.charts;
    const boxes = root.querySelectorAll(".sgan-feed-chart");
    for (let i = 0; i < specs.length; i++) {
      const spec = JSON.parse(JSON.stringify(specs[i]));
      spec.data.forEach(t => {
        if (t.meta === "smooth") t.y = smooth(t.y, a.smoothing);
        if (a.x === "elapsed_s") t.x = t.x_elapsed_s;
        delete t.x_elapsed_s;
      });
      spec.layout.xaxis.title.text = a.x_title;
      spec.layout.uirevision = a.x;
      await Plotly.react(boxes[i], spec.data, spec.layout, plotlyConfig(false));
    }
    const grid = root.querySelector(".sgan-feed-grid");
    if (a.grid && feed.grid) {
      const img = grid.querySelector("img");
      if (img.getAttribute("src") !== feed.grid.src) img.setAttribute("src", feed.grid.src);
      grid.querySelector("p").textContent = `Generated digits at step ${feed.grid.step} (`
          + a.caption + ")";
      grid.style.display = "";
    } else grid.style.display = "none";
  };
  const draw = async () => {  // one redraw at a time; what arrives meanwhile, drawn after
    if (drawing) { again = true; return; }
    drawing = true;
    try {
      do { again = false; await redraw(); if (feed && onFeed) onFeed(feed); } while (again);
    } finally { drawing = false; }
  };
  const open = () => {
    if (source) source.close();
    feed = null;
    url = root.args.url;
    if (document.hidden) { source = null; return; }  // opened when the tab is shown
    source = new EventSource(url);
    source.addEventListener("full", (e) => { feed = JSON.parse(e.data); draw(); });
    source.addEventListener("patch", (e) => {
      const p = JSON.parse(e.data);
      if (feed && p.seq === feed.seq + 1) { feed = applyPatch(feed, p); draw(); }
      else open();  // a patch out of order: start again from the whole feed
    });
  };
  // A hidden tab holds no stream (a browser opens 6 connections at most to one server, and
  // every open Train tab would hold one); shown again, it starts from the whole feed.
  const shown = () => {
    if (document.hidden && source) { source.close(); source = null; }
    else if (!document.hidden && !source) open();
  };
  document.addEventListener("visibilitychange", shown);
  const watchdog = setInterval(() => {  // the page moved on: close the stream
    if (root.isConnected) return;
    if (source) source.close();
    clearInterval(watchdog);
    document.removeEventListener("visibilitychange", shown);
  }, 2000);
  open();
  return {redraw: () => (root.args.url === url ? draw() : open())};
}
"""

HTML = """<div class="sgan-feed">
  <p class="sgan-feed-text"></p><div class="sgan-feed-bar"><div></div></div>
  <div class="sgan-feed-metrics">
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
    <div class="sgan-feed-metric"><span></span><b></b></div>
  </div>
  <div class="sgan-feed-row"><div class="sgan-feed-chart"></div>
  <div class="sgan-feed-chart"></div></div>
  <div class="sgan-feed-grid" style="display:none"><img width="420" alt="generated digits">
  <p></p></div>
</div>"""

CSS = """
.sgan-feed-text { margin: 0 0 0.3rem 0; font-size: 0.875rem; }
.sgan-feed-bar { height: 0.5rem; border-radius: 0.25rem; background: #f3f6f8; }
.sgan-feed-bar > div { height: 100%; width: 0; border-radius: 0.25rem; background: #e4572e;
                       transition: width 0.5s; }
.sgan-feed-metrics { display: flex; flex-wrap: wrap; margin: 1rem 0; }
.sgan-feed-metric { flex: 1 1 25%; min-width: 8rem; }
.sgan-feed-metric span { display: block; font-size: 0.875rem; }
.sgan-feed-metric b { font-size: 2.25rem; font-weight: 400; line-height: 1.3; }
.sgan-feed-row { display: flex; gap: 1rem; flex-wrap: wrap; }
.sgan-feed-chart { flex: 1 1 320px; min-width: 0; min-height: 340px; }
.sgan-feed-grid img { max-width: 100%; height: auto; border-radius: 0.5rem;
                      image-rendering: pixelated; }
.sgan-feed-grid p { color: rgba(49, 51, 63, 0.6); font-size: 0.875rem; max-width: 420px; }
"""
