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
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=340, hovermode="x unified",
              legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))


def smooth(values, weight: float) -> list:
    """TensorBoard-style exponential moving average (weight 0 = raw), bias-corrected."""
    out, last, n = [], 0.0, 0
    for v in values:
        n += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** n) if weight < 1 else v)
    return out


def losses_figure(rows: list[dict], smoothing: float = 0.0) -> go.Figure:
    fig = go.Figure()
    steps = [r["step"] for r in rows]
    for key, name in LOSS_SERIES.items():
        vals = [r.get(key) for r in rows]
        if not rows or all(v in (None, 0.0) for v in vals):
            continue
        fig.add_scatter(x=steps, y=smooth([v or 0.0 for v in vals], smoothing), name=name,
                        mode="lines", hovertemplate="%{y:.4f}")
    fig.update_layout(title="Losses", xaxis_title="step", **LAYOUT)
    return fig


def accuracy_figure(rows: list[dict], smoothing: float = 0.0) -> go.Figure:
    fig = go.Figure()
    steps = [r["step"] for r in rows]
    if rows:
        fig.add_scatter(x=steps, y=smooth([r.get("train_acc", 0.0) for r in rows], smoothing),
                        name="labeled batch (noisy, augmented)", mode="lines",
                        hovertemplate="%{y:.2%}")
    evals = [r for r in rows if "test_acc" in r]
    if evals:
        fig.add_scatter(x=[r["step"] for r in evals], y=[r["test_acc"] for r in evals],
                        name="test set (10,000 images)", mode="lines+markers",
                        hovertemplate="%{y:.2%}")
    fig.update_layout(title="Accuracy", xaxis_title="step", yaxis_tickformat=PERCENT, **LAYOUT)
    fig.update_yaxes(range=[0, 1.01])
    return fig


def compare_figure(curves: dict[str, list[dict]], x: str = "step") -> go.Figure:
    """Test-accuracy curves of several runs; curves maps a label to its metric rows."""
    fig = go.Figure()
    for label, rows in curves.items():
        evals = [r for r in rows if "test_acc" in r]
        fig.add_scatter(x=[r[x] for r in evals], y=[r["test_acc"] for r in evals], name=label,
                        mode="lines+markers", hovertemplate="%{y:.2%}")
    layout = dict(LAYOUT, height=420)
    fig.update_layout(title="Test accuracy", yaxis_tickformat=PERCENT,
                      xaxis_title="training seconds" if x == "elapsed_s" else "step", **layout)
    return fig


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
