"""Plotly figures built from run metrics (no Streamlit here: the pages display them, live ones
through sgan_ui/live_chart.py).

The run charts are plain plotly.js specs (dicts of lists), not plotly.graph_objects: a live
page rebuilds them for every new metrics row, and building validated Figure objects with a
template cost about 100 ms a time, most of a live refresh's CPU (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import functools
import json
import math

import numpy as np
import plotly.graph_objects as go

LOSS_SERIES = {
    "loss_sup": "supervised",
    "loss_d_real": "discriminator, real",
    "loss_d_fake": "discriminator, fake",
    "loss_g": "generator",
}
# Percent ticks with as many decimals as they need: a fixed ".0%" rounded 98.5% up to a "99%"
# tick when runs near the top filled the axis.
PERCENT = ".2~%"
X_TITLES = {"step": "step", "elapsed_s": "training seconds"}
MAX_POINTS = 1000  # per curve: longer runs are thinned evenly (the last row always kept)
# One colour per variant in every chart, so "stacked" is the same orange on Compare and Sweep.
VARIANT_COLORS = {"stacked": "#e4572e", "shared": "#b58900", "multi": "#8e44ad",
                  "selftrain": "#2e86ab", "supervised": "#5b6770"}
OTHER_COLOR = "#999999"


@functools.cache
def _template() -> dict:
    """plotly's "plotly_white" look for line charts, as plain JSON (read from plotly once): its
    layout part; the rest styles trace types these charts do not draw."""
    import plotly.io as pio
    layout = pio.templates["plotly_white"].to_plotly_json()["layout"]
    keep = ("autotypenumbers", "colorway", "font", "hoverlabel", "paper_bgcolor",
            "plot_bgcolor", "xaxis", "yaxis", "title")
    return {"layout": json.loads(json.dumps({k: layout[k] for k in keep if k in layout}))}


# The chart toolbar's height at the top right: a title sits below it, never under it (on a
# phone's 350-px chart a title reaches the toolbar).
TOOLBAR_PX = 36


def title_below_toolbar(text: str, height: int) -> dict:
    """A chart title at the top left, just under the toolbar's row."""
    return {"text": text, "x": 0, "xanchor": "left", "y": 1 - TOOLBAR_PX / height,
            "yanchor": "top", "yref": "container"}


# The legend at the very bottom of the figure, in rows that plotly reserves room for, below the
# x axis's title (placed under the plot area instead, a legend of several rows on a phone ran
# into the axis title).
LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                "yref": "container"}


def _layout(title: str, x: str, y_format: str | None = None, height: int = 340) -> dict:
    # uirevision: a zoom, pan or hidden legend entry survives live updates of the data, and
    # resets only when the x axis changes
    return {"template": _template(), "title": title_below_toolbar(title, height),
            "xaxis": {"title": {"text": X_TITLES[x]}, "automargin": True},
            "yaxis": ({"tickformat": y_format} if y_format else {}) | {"automargin": True},
            "uirevision": x, "margin": dict(l=10, r=10, t=TOOLBAR_PX + 34, b=10),
            "height": height, "hovermode": "x unified", "legend": dict(LEGEND_BELOW)}


def one_point_range(xs) -> list[float] | None:
    """An x range for a chart whose points all sit at one x (a run's first evaluation): from
    0 to twice it, the point in the middle (plotly's own spans a unit around it: 99 to 100.5);
    None when the points spread out."""
    values = {float(v) for v in xs if v is not None and v == v}
    if len(values) != 1:
        return None
    (x,) = values
    return [0.0, 2 * x] if x > 0 else [x - 1, x + 1]


def to_json(spec: dict) -> str:
    """A spec as live_chart takes it (its numbers are already rounded by _line: 5 decimals,
    what a chart can show, and about half the JSON of full floats)."""
    return json.dumps(spec, separators=(",", ":"))


def smooth(values, weight: float) -> np.ndarray:
    """TensorBoard-style exponential moving average (weight 0 = raw), bias-corrected."""
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or len(values) == 0:
        return values
    out, last = np.empty_like(values), 0.0
    for i, v in enumerate(values):
        last = last * weight + (1 - weight) * v
        out[i] = last
    return out / (1 - weight ** np.arange(1, len(values) + 1))


def _thin(n: int, most: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most `most` of n rows, evenly spread, the last one included: every
    stride-th row, the stride a power of two, so that as a live run grows its earlier points
    stay the same (the live feed sends only the new ones) until the stride doubles."""
    if n <= most:
        return np.arange(n)
    stride = 2
    while -(-n // stride) + 1 > most:
        stride *= 2
    return np.unique(np.append(np.arange(0, n, stride), n - 1))


def _series(rows, key: str, x: str):
    """(x values, y values) of the rows that have `key`."""
    have = [r for r in rows if isinstance(r.get(key), (int, float))]
    return (np.array([r.get(x, np.nan) for r in have], dtype=np.float64),
            np.array([r[key] for r in have], dtype=np.float64))


def _line(xs, ys, name: str, fmt: str, markers: bool = False, most: int = MAX_POINTS) -> dict:
    keep = _thin(len(xs), most)
    return {"type": "scatter", "x": _rounded(xs[keep], 3), "y": _rounded(ys[keep], 5),
            "name": name, "mode": "lines+markers" if markers else "lines",
            "hovertemplate": f"%{{y:{fmt}}}"}


def _rounded(values: np.ndarray, decimals: int) -> list:
    """JSON-ready numbers; a missing value (NaN) becomes null, a gap in the line."""
    out = np.round(values, decimals).tolist()
    return [None if v != v else v for v in out]


def losses_figure(rows, smoothing: float = 0.0, x: str = "step", most: int = MAX_POINTS) -> dict:
    traces = []
    for key, name in LOSS_SERIES.items():
        xs, ys = _series(rows, key, x)
        if len(ys) and np.any(ys != 0.0):  # the baseline has no real/fake or generator loss
            traces.append(_line(xs, smooth(ys, smoothing), name, ".4f", most=most))
    return {"data": traces, "layout": _layout("Losses", x)}


def accuracy_figure(rows, smoothing: float = 0.0, x: str = "step",
                    most: int = MAX_POINTS) -> dict:
    traces = []
    xs, ys = _series(rows, "train_acc", x)
    if len(ys):
        traces.append(_line(xs, smooth(ys, smoothing),
                            "labeled images in training (shifted, rotated copies)", ".2%",
                            most=most))
    xs, ys = _series(rows, "test_acc_subset", x)
    if len(ys):
        traces.append(_line(xs, ys, "test subset (first 1,000 images, live)", ".2%",
                            most=most))
    xs, ys = _series(rows, "test_acc", x)
    if len(ys):
        traces.append(_line(xs, ys, "test set (all 10,000 images)", ".2%", markers=True,
                            most=most))
    layout = _layout("Accuracy", x, PERCENT)
    layout["yaxis"]["range"] = [0, 1.01]
    return {"data": traces, "layout": layout}


def compare_figure(curves: dict[str, list[dict]], x: str = "step",
                   variants: dict[str, str] | None = None) -> dict:
    """Test-accuracy curves of several runs; curves maps a label to its metric rows, variants
    (optional) a label to its run's variant, which sets its colour."""
    traces = []
    for label, rows in curves.items():
        trace = _line(*_series(rows, "test_acc", x), label, ".2%", markers=True)
        if variants and label in variants:
            trace["line"] = {"color": VARIANT_COLORS.get(variants[label], OTHER_COLOR)}
        traces.append(trace)
    layout = _layout("Test accuracy", x, PERCENT, height=420)
    span = one_point_range([v for t in traces for v in t["x"]])
    if span:  # every run evaluated once, at the same step
        layout["xaxis"]["range"] = span
    return {"data": traces, "layout": layout}


def probabilities_figure(probs: np.ndarray) -> go.Figure:
    best = int(np.argmax(probs)) if np.max(probs) > 0 else None  # all zero: nothing drawn yet
    colors = ["#e4572e" if i == best else "#8aa1b1" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(i) for i in range(len(probs))], y=probs, marker_color=colors,
                           hovertemplate="digit %{x}: %{y:.2%}<extra></extra>"))
    fig.update_layout(title=title_below_toolbar("Class probabilities", 300),
                      yaxis_tickformat=PERCENT, xaxis_title="digit", xaxis_type="category",
                      margin=dict(l=10, r=10, t=TOOLBAR_PX + 34, b=10), height=300)
    fig.update_yaxes(range=[0, 1])
    return fig


def sweep_figure(table: list[dict]) -> dict:
    """The label-efficiency curve of a sweep (sweep.efficiency_table rows): final test accuracy
    against the label budget (log axis), one line per variant with a band of ± one standard
    deviation over seeds, n in the hover text."""
    traces = []
    for variant in dict.fromkeys(r["variant"] for r in table):
        rows = [r for r in table if r["variant"] == variant and r["mean"] is not None]
        if not rows:
            continue
        color, xs = VARIANT_COLORS.get(variant, OTHER_COLOR), [r["labels"] for r in rows]
        spread = [r["sd"] or 0.0 for r in rows]
        band = dict(type="scatter", x=xs + xs[::-1], showlegend=False, hoverinfo="skip",
                    y=[r["mean"] + s for r, s in zip(rows, spread)] +
                      [r["mean"] - s for r, s in zip(rows[::-1], spread[::-1])],
                    fill="toself", line=dict(width=0), fillcolor=color, opacity=0.18,
                    legendgroup=variant)
        traces.append(band)
        traces.append(dict(type="scatter", x=xs, y=[r["mean"] for r in rows], name=variant,
                           mode="lines+markers", line=dict(color=color), legendgroup=variant,
                           customdata=[[r["n"], r["sd"] or 0.0] for r in rows],
                           hovertemplate="%{x} labels: %{y:.2%} ± %{customdata[1]:.2%} "
                                         "(n=%{customdata[0]})"))
    layout = _layout("Final test accuracy by label budget", "step", PERCENT, height=420)
    budgets = sorted({r["labels"] for r in table})
    # ticks at the budgets themselves: log axes otherwise label "2 3 ... 9 10 2 3"
    layout["xaxis"] = {"title": {"text": "labeled images (log scale)"}, "type": "log",
                       "tickvals": budgets, "ticktext": [f"{b:,}" for b in budgets],
                       "automargin": True}
    done = [r for r in table if r["mean"] is not None]
    if done:  # the range the runs need (one point otherwise spans 0 to 150%)
        low = min(r["mean"] - (r["sd"] or 0) for r in done)
        high = max(r["mean"] + (r["sd"] or 0) for r in done)
        pad = max(0.01, (high - low) * 0.15)
        layout["yaxis"]["range"] = [max(0.0, low - pad), min(1.005, high + pad)]
        if len(budgets) == 1:
            layout["xaxis"]["range"] = [math.log10(budgets[0]) - 0.5,
                                        math.log10(budgets[0]) + 0.5]
    layout["hovermode"] = "closest"
    return {"data": traces, "layout": layout}
