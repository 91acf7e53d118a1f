"""Plotly figures of how a run learns (sgan_core/insight.py's snapshots), as plain plotly.js
specs like charts.py's: the labels it gives itself, the map, the confusion matrix."""
from __future__ import annotations

import numpy as np

from sgan_core.reading.insight import CORNERS, per_digit_accuracy

from .charts import (
    LEGEND_BELOW,
    PERCENT,
    TOOLBAR_PX,
    _layout,
    _rounded,
    _series,
    one_point_range,
    title_below_toolbar,
)

# one colour per digit, the same on every chart (plotly's D3 palette)
DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def self_label_figure(rows, snaps: list[tuple[int, dict]]) -> dict:
    """Over steps: the share of unlabeled images it labels itself and the share of those that
    are right; per digit (hidden until picked in the legend): how many of its labels of that
    digit are right."""
    traces = []
    for key, name in (("self_labeled", "labeled by itself"),
                      ("self_label_acc", "of those, right")):
        xs, ys = _series(rows, key, "step")
        traces.append({"type": "scatter", "x": _rounded(xs, 0), "y": _rounded(ys, 5),
                       "name": name, "mode": "lines+markers", "hovertemplate": "%{y:.1%}"})
    steps = [s for s, _ in snaps]
    for d in range(10):
        right = [snap["self_right_by_digit"][d] / max(1, snap["self_by_digit"][d])
                 for _, snap in snaps]
        traces.append({"type": "scatter", "x": steps, "y": _rounded(np.array(right), 5),
                       "name": f"digit {d} right", "mode": "lines", "visible": "legendonly",
                       "line": {"color": DIGIT_COLORS[d], "width": 1.5},
                       "hovertemplate": "%{y:.1%}"})
    layout = _layout("Labels it gives itself", "step", PERCENT, height=420)
    layout["yaxis"]["range"] = [0, 1.02]
    span = one_point_range(steps + [x for t in traces[:2] for x in t["x"]])
    if span:  # one evaluation so far
        layout["xaxis"]["range"] = span
    return {"data": traces, "layout": layout}


def self_label_bars(snap: dict) -> dict:
    """Per digit read: images it labels that digit, right and wrong, scaled to the whole
    training set."""
    scale = int(snap["train_size"]) / max(1, int(snap["self_sample"]))
    right = snap["self_right_by_digit"] * scale
    wrong = (snap["self_by_digit"] - snap["self_right_by_digit"]) * scale
    digits = [str(d) for d in range(10)]
    data = [{"type": "bar", "x": digits, "y": _rounded(right, 0), "name": "right",
             "marker": {"color": "#2ca02c"}, "hovertemplate": "about %{y:,.0f} right"},
            {"type": "bar", "x": digits, "y": _rounded(wrong, 0), "name": "wrong",
             "marker": {"color": "#d62728"}, "hovertemplate": "about %{y:,.0f} wrong"}]
    layout = _layout(f"Step {int(snap['step'])}: the labels it gives, by digit", "step",
                     height=380)
    layout.update(barmode="stack", hovermode="x unified")
    layout["xaxis"] = {"title": {"text": "digit it labels them"}, "type": "category"}
    layout["yaxis"] = {"title": {"text": "training images"}, "automargin": True}
    return {"data": data, "layout": layout}


MAP_LAYOUTS = {"belief": "what it believes", "map": "what it sees"}


def map_figure(snap: dict, points: dict, layout: str = "belief") -> dict:
    """The test images placed by what the discriminator believes (layout "belief") or sees
    ("map"), coloured by their true digit; the labeled images as stars, generated ones as
    crosses."""
    xy, truth, read = snap[f"{layout}_test"], points["test_digits"], snap["map_test_read"]
    n = min(len(xy), len(truth))
    data = []
    for d in range(10):
        idx = np.flatnonzero(truth[:n] == d)
        data.append({
            "type": "scatter", "mode": "markers", "name": str(d),
            "x": _rounded(xy[idx, 0], 3), "y": _rounded(xy[idx, 1], 3),
            "customdata": [[int(i), int(read[i])] for i in idx],
            "marker": {"color": DIGIT_COLORS[d], "size": 5, "opacity": 0.7},
            "hovertemplate": "test image %{customdata[0]}: a " + str(d)
                             + ", read as %{customdata[1]}<extra></extra>"})
    lab, lab_d = snap[f"{layout}_labeled"], points["labeled_digits"]
    m = min(len(lab), len(lab_d))
    data.append({
        "type": "scatter", "mode": "markers", "name": "labeled",
        "x": _rounded(lab[:m, 0], 3), "y": _rounded(lab[:m, 1], 3),
        "customdata": [[int(i), int(lab_d[i])] for i in range(m)],
        "marker": {"color": [DIGIT_COLORS[int(d)] for d in lab_d[:m]], "size": 15,
                   "symbol": "star", "line": {"color": "black", "width": 1.5}},
        "hovertemplate": "labeled image %{customdata[0]}: a %{customdata[1]}<extra></extra>"})
    if "fake_images" in snap:
        fake, asked = snap[f"{layout}_fake"], snap.get("map_fake_asked")
        k = len(fake)
        what = ([f"asked for a {a}, read as {r}" for a, r in zip(asked, snap["map_fake_read"])]
                if asked is not None and (asked >= 0).all() else
                [f"read as {r}" for r in snap["map_fake_read"]])
        data.append({
            "type": "scatter", "mode": "markers", "name": "generated",
            "x": _rounded(fake[:, 0], 3), "y": _rounded(fake[:, 1], 3),
            "customdata": [[i, w] for i, w in zip(range(k), what)],
            "marker": {"color": "black", "size": 8, "symbol": "x-thin",
                       "line": {"color": "black", "width": 2}},
            "hovertemplate": "generated %{customdata[0]}: %{customdata[1]}<extra></extra>"})
    spec = _layout(f"Step {int(snap['step'])}: {MAP_LAYOUTS[layout]}", "step", height=560)
    spec.update(hovermode="closest", dragmode="lasso",
                xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
                legend=LEGEND_BELOW | {"itemsizing": "constant"})
    if layout == "belief":  # each digit's corner, where the images it is sure of sit
        spec["annotations"] = [
            {"x": 1.12 * x, "y": 1.12 * y, "text": f"<b>{d}</b>", "showarrow": False,
             "font": {"size": 16, "color": DIGIT_COLORS[d]}}
            for d, (x, y) in enumerate(CORNERS.tolist())]
    return {"data": data, "layout": spec}


def confusion_figure(matrix: np.ndarray, step: int) -> dict:
    """Counts, true digit down, read as across; the diagonal (right readings) is written but
    left uncoloured, so the mistakes set the colour scale."""
    off = [[None if t == r else int(n) for r, n in enumerate(row)]
           for t, row in enumerate(matrix)]
    acc = per_digit_accuracy(matrix)
    digits = [str(d) for d in range(10)]
    data = [{"type": "heatmap", "z": off, "x": digits, "y": digits,
             "text": matrix.tolist(), "texttemplate": "%{text}", "colorscale": "Reds",
             "showscale": False, "xgap": 1, "ygap": 1,
             "hovertemplate": "a %{y} read as %{x}: %{text} times<extra></extra>"}]
    layout = _layout(f"Step {step}: what it reads each test digit as", "step", height=460)
    layout.update(hovermode="closest")
    layout["xaxis"] = {"title": {"text": "read as"}, "side": "top", "type": "category"}
    layout["yaxis"] = {"title": {"text": "true digit"}, "autorange": "reversed",
                       "type": "category", "ticktext": [f"{d} ({a:.1%})" for d, a in
                                                        zip(digits, acc)],
                       "tickvals": digits, "automargin": True}
    layout["title"] = title_below_toolbar(layout["title"]["text"], 460)
    layout["margin"] = dict(l=10, r=10, t=TOOLBAR_PX + 80, b=10)  # the title, then the axis
    return {"data": data, "layout": layout}
