"""The Train page's "How it learns" panels: the labels a run gives itself, the map of what the
discriminator sees, its mistakes, the generator's desk, and every panel's data to download.

They read the run's insight/ snapshots (sgan_core/insight.py). What every viewer sees is
built once per snapshot file and shared (cache_resource keyed by the file's path, time and
size); the generator desk answers in NumPy inside the server (sgan_core/desk.py).
"""
from __future__ import annotations

import io
import time

import numpy as np
import streamlit as st

from sgan_core.reading.desk import Desk
from sgan_core.reading.insight import InsightError, read_points, read_snapshot, top_confusions
from sgan_core.reading.predict import ModelLoadError
from sgan_core.runs.rundir import RunDir
from sgan_core.training.grids import png_bytes, tile_image

from .charts import to_json
from .common import plain
from .insight_charts import (
    MAP_LAYOUTS,
    confusion_figure,
    map_figure,
    self_label_bars,
    self_label_figure,
)
from .live_chart import live_chart
from .words import mistakes_sentence, self_label_sentence

GALLERY = 40      # misread digits shown at once
GALLERY_PX = 64   # their width: a caption of up to 8 characters fits on one line
MAP_PICKED = 48   # images of picked map points shown at once


def _key(path) -> tuple[str, float, int]:
    st_ = path.stat()
    return str(path), st_.st_mtime, st_.st_size


@st.cache_resource(max_entries=256, show_spinner=False)
def _read(kind: str, path: str, mtime: float, size: int) -> dict | str:
    """A snapshot ("step") or the points file ("points"), read once per file version for every
    viewer; why it cannot be read, as a sentence, if it cannot."""
    try:
        return (read_points if kind == "points" else read_snapshot)(path)
    except InsightError as e:
        return str(e)


def readable_snapshots(run: RunDir) -> tuple[list[tuple[int, dict]], list[str]]:
    """(step, snapshot) of every snapshot that can be read, and why the others cannot."""
    good, bad = [], []
    for step, path in run.insight_files():
        try:
            snap = _read("step", *_key(path))
        except OSError:  # removed since the listing (a resume drops later snapshots)
            continue
        (bad if isinstance(snap, str) else good).append(snap if isinstance(snap, str)
                                                        else (step, snap))
    return good, bad


@st.cache_resource(max_entries=64, show_spinner=False)
def figure(kind: str, key: tuple, _args: tuple) -> str:
    """A panel's figure as live_chart's JSON, built once per `key` (run, snapshot step, rows)
    for every viewer; _args, what it is built from, is not hashed."""
    return to_json(_BUILDERS[kind](*_args))


_BUILDERS = {"self": self_label_figure, "bars": self_label_bars, "map": map_figure,
             "confusion": confusion_figure}


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for row in rows:
        out.write(",".join(str(v) for v in row) + "\n")
    return out.getvalue()


def learning_section(run: RunDir, summary, cfg, rows) -> None:
    st.subheader("How it learns")
    snaps, bad = readable_snapshots(run)
    if bad:
        st.warning(f"{len(bad)} insight file(s) cannot be read and are left out: "
                   f"{plain(bad[0])}.")
    if not snaps and not bad:
        st.caption("No insight yet: the first is recorded at the first full evaluation "
                   f"(step {cfg.eval_every})." if summary.active else
                   "This run has no insight/ files (it was trained before SGAN Lab recorded "
                   "how runs learn): train it again to see its self-labels, map and mistakes.")
        generator_tab(run, cfg)
        return
    if not snaps:
        generator_tab(run, cfg)
        return
    points_path = run.insight_points_path
    points = (_read("points", *_key(points_path)) if points_path.is_file() else
              "insight/points.npz is missing")
    # on_change="rerun": only the open tab runs and is sent, so a page opens with one panel's
    # charts, not four
    tabs = st.tabs(TABS, key="insight_tab", on_change="rerun")
    if tabs[0].open is not False:  # None where tabs cannot track state (older front ends)
        with tabs[0]:
            self_label_tab(run, summary, cfg, rows, snaps)
    if tabs[1].open is not False:
        with tabs[1]:
            if isinstance(points, str):
                st.warning(f"The map cannot be drawn: {plain(points)}.")
            else:
                map_tab(run, snaps, points)
    if tabs[2].open is not False:
        with tabs[2]:
            mistakes_tab(run, snaps[-1])
    if tabs[3].open is not False:
        with tabs[3]:
            generator_tab(run, cfg)


TABS = ["Labels it gives itself", "Map", "Mistakes", "Generator"]


def self_label_tab(run, summary, cfg, rows, snaps) -> None:
    step, last = snaps[-1]
    st.markdown(self_label_sentence(cfg.labels, last, cfg.variant, cfg.pseudo_threshold))
    rows = [r for r in rows if "self_labeled" in r]  # the full evaluations' rows
    key = (str(run.path), step, len(rows))
    c1, c2 = st.columns([3, 2])
    with c1:
        live_chart(figure("self", key, (rows, snaps)), key="self_chart")
    with c2:
        live_chart(figure("bars", key, (last,)), key="self_bars")
    st.caption("The teacher, a steadier copy of the discriminator (the average of its recent "
               "versions), labels an unlabeled image when it is sure of it: above its bar for "
               "the digit it reads, a bar that starts low and rises to "
               f"{cfg.pseudo_threshold:.0%} as it grows sure of every digit. Pick a digit in "
               "the legend to see how right its labels of that digit are.")
    st.download_button(
        "Self-labels (CSV)", key="csv_self", mime="text/csv", file_name=f"{run.id}-self.csv",
        data=lambda: _csv(["step", "digit", "labeled_in_sample", "right_in_sample", "sample",
                           "bar"],
                  ((s, d, int(p["self_by_digit"][d]), int(p["self_right_by_digit"][d]),
                    int(p["self_sample"]), round(float(p["self_bars"][d]), 4))
                   for s, p in snaps for d in range(10))))


def map_tab(run, snaps, points) -> None:
    steps = [s for s, _ in snaps]
    step = steps[-1]
    if len(steps) > 1:
        step = st.select_slider("Step (slide back to watch the clusters form)", steps,
                                value=steps[-1], key="map_step")
    snap = dict(snaps)[step]
    layout = st.segmented_control("Place each image by", list(MAP_LAYOUTS),
                                  format_func=MAP_LAYOUTS.get, default="belief",
                                  key="map_layout") or "belief"
    fig = figure("map", (str(run.path), step, layout), (snap, points, layout))
    picked = live_chart(fig, key="map_chart", select=True)
    st.caption(MAP_CAPTIONS[layout] + " A dot's colour is its true digit; stars are the "
               "labeled images, crosses the generated ones. Lasso or click points to see their "
               "images.")
    show_picked(picked, snap, points)
    st.download_button(
        "Map of this step (CSV)", key="csv_map", mime="text/csv",
        file_name=f"{run.id}-map-{step}.csv",
        data=lambda: _csv(["kind", "index", "x", "y", "belief_x", "belief_y", "true_digit",
                           "read_as"], _map_rows(snap, points)))


MAP_CAPTIONS = {
    "belief": "Each dot is a test image, pulled towards each digit's corner as strongly as the "
              "discriminator believes it is that digit: the images it is sure of sit in a "
              "corner, those it hesitates over between two.",
    "map": "Each dot is a test image, placed by what the discriminator's last hidden layer "
           "makes of it: the two main directions of a PCA, turned to match the previous step "
           "so the picture does not flip. Two directions cannot hold ten digits apart: most "
           "overlap here even when the classifier tells them apart.",
}


def _map_rows(snap, points):
    asked = snap.get("map_fake_asked")
    kinds = (("test", points["test_digits"], snap["map_test_read"]),
             ("labeled", points["labeled_digits"], None),
             ("generated", asked, snap["map_fake_read"]))
    for kind, truth, read in kinds:
        for i, ((x, y), (bx, by)) in enumerate(zip(snap[f"map_{_KEY[kind]}"],
                                                   snap[f"belief_{_KEY[kind]}"])):
            known = truth is not None and i < len(truth) and truth[i] >= 0
            yield (kind, i, round(float(x), 4), round(float(y), 4), round(float(bx), 4),
                   round(float(by), 4), int(truth[i]) if known else "",
                   int(read[i]) if read is not None else "")


_KEY = {"test": "test", "labeled": "labeled", "generated": "fake"}


def show_picked(picked: list, snap, points) -> None:
    """The images of the points picked on the map, with what they are and were read as."""
    images, captions = [], []
    curves = {10: ("labeled", points["labeled_images"], points["labeled_digits"]),
              11: ("generated", snap.get("fake_images"), None)}
    for p in picked[:MAP_PICKED]:
        c, i = p.get("curve"), p.get("index")
        if not isinstance(c, int) or not isinstance(i, int):
            continue
        if c < 10:  # one curve per true digit
            idx = np.flatnonzero(points["test_digits"][:len(snap["map_test"])] == c)
            if i < len(idx):
                j = idx[i]
                images.append(points["test_images"][j])
                captions.append(f"a {c}, read {snap['map_test_read'][j]}")
        elif c in curves and curves[c][1] is not None and i < len(curves[c][1]):
            kind, imgs, digits = curves[c]
            images.append(imgs[i])
            captions.append(f"labeled {digits[i]}" if kind == "labeled" else
                            f"generated, read {snap['map_fake_read'][i]}")
    if images:
        st.image(images, caption=captions, width=56)
    elif picked:
        st.caption("Those points have no images to show.")


def mistakes_tab(run, latest) -> None:
    step, snap = latest
    matrix = snap["confusion"]
    pairs = top_confusions(matrix, 90)
    st.markdown(mistakes_sentence(matrix, pairs, step))
    c1, c2 = st.columns([1, 1])
    with c1:
        cell = live_chart(figure("confusion", (str(run.path), step), (matrix, step)),
                          key="confusion_chart", select=True)
    with c2:
        options = ["all mistakes"] + [f"{t} read as {r} ({n})" for t, r, n in pairs]
        picked_cell = _cell(cell)
        if picked_cell != st.session_state.get("_cell_seen"):  # a new click on a cell
            st.session_state["_cell_seen"] = picked_cell
            wanted = [o for (t, r, _), o in zip(pairs, options[1:]) if (t, r) == picked_cell]
            if wanted:
                st.session_state["mistake_pair"] = wanted[0]
        choice = st.selectbox("Show", options, index=1 if len(options) > 1 else 0,
                              key="mistake_pair",
                              help="Pairs by how often they happen: pick one, or click a "
                                   "cell of the matrix, to see those digits.")
        keep = np.ones(len(snap["mistake_index"]), bool)
        pair = None
        if choice in options[1:]:
            pair = pairs[options.index(choice) - 1][:2]
            keep = (snap["mistake_truth"] == pair[0]) & (snap["mistake_read"] == pair[1])
        idx = np.flatnonzero(keep)[:GALLERY]
        if len(idx):
            st.image([snap["mistake_images"][i] for i in idx], width=GALLERY_PX,
                     caption=[mistake_caption(snap, i, pair is None) for i in idx])
            what = (f"each a {pair[0]} it read as a {pair[1]}, and under it how sure it was"
                    if pair else "under each, the digit it is and what it was read as, and "
                    "how sure")
            st.caption(f"{len(idx)} of the {int(keep.sum())} kept, surest first: {what} (the "
                       f"snapshot keeps the {len(snap['mistake_index'])} surest mistakes).")
        else:
            st.caption("None of the kept mistakes is of this pair.")
        if len(idx):  # encoded when clicked, not on every run of the page
            st.download_button("These digits (PNG)", key="png_mistakes", mime="image/png",
                               data=lambda: png_bytes(tile_image(
                                   np.stack([snap["mistake_images"][i] for i in idx]), 10,
                                   gap=2)),
                               file_name=f"{run.id}-mistakes-{step}.png")
    st.download_button(
        "Confusion matrix (CSV)", key="csv_confusion", mime="text/csv",
        file_name=f"{run.id}-confusion-{step}.csv",
        data=lambda: _csv(["true_digit"] + [f"read_{d}" for d in range(10)],
                  ([t] + [int(n) for n in row] for t, row in enumerate(matrix))))
    st.download_button(
        "Misread digits (CSV)", key="csv_mistakes", mime="text/csv",
        file_name=f"{run.id}-mistakes-{step}.csv",
        data=lambda: _csv(["test_index", "true_digit", "read_as", "confidence"],
                  ((int(i), int(t), int(r), round(float(c), 4)) for i, t, r, c in zip(
                      snap["mistake_index"], snap["mistake_truth"], snap["mistake_read"],
                      snap["mistake_conf"]))))


def _a(digit: int) -> str:
    """'a 3', 'an 8'."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def mistake_caption(snap, i: int, with_digits: bool) -> str:
    """Short enough for one line under a GALLERY_PX image: "99%", or "7→2 99%" when the
    gallery mixes pairs."""
    sure = f"{snap['mistake_conf'][i]:.0%}"
    if not with_digits:
        return sure
    return f"{snap['mistake_truth'][i]}→{snap['mistake_read'][i]} {sure}"


def _cell(picked: list[dict]) -> tuple[int, int] | None:
    """(true digit, read as) of a clicked cell of the confusion matrix, None if none."""
    try:
        return int(picked[0]["y"]), int(picked[0]["x"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def _desk(path: str, version: tuple) -> Desk | str:
    try:
        return Desk(RunDir(path))
    except ModelLoadError as e:
        return str(e)


def generator_tab(run: RunDir, cfg) -> None:
    if not cfg.is_gan:
        st.caption("A supervised run has no generator.")
        return
    try:
        version = (run.generator_path.stat().st_mtime, run.classifier_path.stat().st_mtime)
    except OSError:
        st.caption("Its generator is saved at the first checkpoint "
                   f"(step {cfg.checkpoint_every}); the desk opens then.")
        return
    desk = _desk(str(run.path), version)
    if isinstance(desk, str):
        st.warning(f"The generator cannot be used: {plain(desk)}")
        return
    ended = (f" It stopped learning after the first {cfg.game_until:.0%} of the run, when "
             "the real/fake game ended." if cfg.game_until < 1 else "")
    st.caption("The latest saved generator (saved every "
               f"{cfg.checkpoint_every} steps and at the end); the sample grids above show "
               f"how it got there.{ended}")
    c1, c2 = st.columns([1, 1])
    with c1:
        # pills, not a segmented control: they wrap onto a second row on a phone, where the
        # control's 9 was cut off at the screen's edge
        digit = st.pills("Ask it for a", list(range(10)), default=4, key="desk_digit") or 0
        if st.button("New batch", key="desk_new", icon=":material/casino:"):
            st.session_state["desk_seed"] = st.session_state.get("desk_seed", 0) + 1
        t0 = time.perf_counter()
        images, tried = desk.batch(digit, st.session_state.get("desk_seed", 0))
        read, _ = desk.read(images) if len(images) else (np.zeros(0, int), None)
        ms = (time.perf_counter() - t0) * 1000
        if len(images):
            picture = png_bytes(tile_image(images, 10, gap=2))
            st.image(picture, width=420)
            how = ("told to draw it" if desk.conditional else
                   f"not told which digit to draw: these are the ones its classifier reads as "
                   f"a {digit}, out of {tried} it drew")
            st.caption(f"{len(images)} drawings of a {digit} (the generator is {how}); its "
                       f"classifier reads {int((read == digit).sum())} of them as a {digit}. "
                       f"Answered in {ms:.0f} ms.")
            st.download_button("This batch (PNG)", picture, key="png_batch",
                               file_name=f"{run.id}-asked-{digit}.png", mime="image/png")
        else:
            st.caption(f"Of {tried} drawings, its classifier reads none as a {digit}. "
                       f"Answered in {ms:.0f} ms.")
    with c2:
        a, b = st.columns(2)
        first = a.selectbox("Morph from", range(10), index=3, key="morph_from")
        last = b.selectbox("to", range(10), index=8, key="morph_to")
        if st.button("New pair", key="morph_new", icon=":material/casino:"):
            st.session_state["morph_seed"] = st.session_state.get("morph_seed", 0) + 2
        seed = st.session_state.get("morph_seed", 0)
        row = png_bytes(tile_image(desk.morph(first, last, 1000 + seed, 1001 + seed), 10,
                                   gap=2))
        st.image(row, width=420)
        st.caption((f"From {_a(first)} to {_a(last)}: " if desk.conditional else "")
                   + "ten drawings on the way between two random inputs of the generator"
                   + (f", and what it is told to draw blends from all {first} to all {last} "
                      "on the way. The drawings are spaced so each changes about as much "
                      "from the one before." if desk.conditional else
                      " (this generator takes no digit: the ends are whatever it draws)."))
        st.download_button("This morph (PNG)", row, key="png_morph",
                           file_name=f"{run.id}-morph.png", mime="image/png")
