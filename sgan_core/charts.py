"""Plotly figures built from run metrics (no Streamlit here: the pages only display them)."""
from __future__ import annotations

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


def _layout(title: str, x: str, **extra) -> dict:
    # uirevision: a zoom, pan or hidden legend entry survives live updates of the data, and
    # resets only when the x axis changes
    return dict(dict(title=title, xaxis_title=X_TITLES[x], uirevision=x,
                     margin=dict(l=10, r=10, t=40, b=10), height=340, hovermode="x unified",
                     legend=dict(orientation="h", yanchor="top", y=-0.22, x=0)), **extra)


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


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS of n rows, evenly spread, the last one included."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def _series(rows, key: str, x: str):
    """(x values, y values) of the rows that have `key`."""
    have = [r for r in rows if isinstance(r.get(key), (int, float))]
    return (np.array([r.get(x, np.nan) for r in have], dtype=np.float64),
            np.array([r[key] for r in have], dtype=np.float64))


def _line(xs, ys, name: str, fmt: str, markers: bool = False) -> go.Scatter:
    keep = _thin(len(xs))
    return go.Scatter(x=xs[keep], y=ys[keep], name=name,
                      mode="lines+markers" if markers else "lines",
                      hovertemplate=f"%{{y:{fmt}}}")


def losses_figure(rows, smoothing: float = 0.0, x: str = "step") -> go.Figure:
    traces = []
    for key, name in LOSS_SERIES.items():
        xs, ys = _series(rows, key, x)
        if len(ys) and np.any(ys != 0.0):  # the baseline has no real/fake or generator loss
            traces.append(_line(xs, smooth(ys, smoothing), name, ".4f"))
    return go.Figure(traces, layout=_layout("Losses", x))


def accuracy_figure(rows, smoothing: float = 0.0, x: str = "step") -> go.Figure:
    traces = []
    xs, ys = _series(rows, "train_acc", x)
    if len(ys):
        traces.append(_line(xs, smooth(ys, smoothing), "labeled batch (noisy, augmented)",
                            ".2%"))
    xs, ys = _series(rows, "test_acc_subset", x)
    if len(ys):
        traces.append(_line(xs, ys, "test subset (first 1,000 images, live)", ".2%"))
    xs, ys = _series(rows, "test_acc", x)
    if len(ys):
        traces.append(_line(xs, ys, "test set (all 10,000 images)", ".2%", markers=True))
    fig = go.Figure(traces, layout=_layout("Accuracy", x, yaxis_tickformat=PERCENT))
    fig.update_yaxes(range=[0, 1.01])
    return fig


def compare_figure(curves: dict[str, list[dict]], x: str = "step") -> go.Figure:
    """Test-accuracy curves of several runs; curves maps a label to its metric rows."""
    traces = [_line(*_series(rows, "test_acc", x), label, ".2%", markers=True)
              for label, rows in curves.items()]
    return go.Figure(traces, layout=_layout("Test accuracy", x, yaxis_tickformat=PERCENT,
                                            height=420))


def probabilities_figure(probs: np.ndarray) -> go.Figure:
    best = int(np.argmax(probs)) if np.max(probs) > 0 else None  # all zero: nothing drawn yet
    colors = ["#e4572e" if i == best else "#8aa1b1" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(i) for i in range(len(probs))], y=probs, marker_color=colors,
                           hovertemplate="digit %{x}: %{y:.2%}<extra></extra>"))
    fig.update_layout(title="Class probabilities", yaxis_tickformat=PERCENT, xaxis_title="digit",
                      xaxis_type="category",
                      margin=dict(l=10, r=10, t=40, b=10), height=300)
    fig.update_yaxes(range=[0, 1])
    return fig
