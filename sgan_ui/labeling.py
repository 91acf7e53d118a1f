"""The labeling desk's pieces for the Teach page: MNIST's training images loaded once per
server, the images a pick or a run's ask chose (cached and shared by every viewer), the answers
a person gives (saved at once beside the runs, so a reload or a restart loses none), and a set
of labeled images shown small, grouped by digit."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import streamlit as st

from sgan_core.data.labeled import LabeledSet, LabelsError, sets_dir
from sgan_core.data.labeled import read as read_labeled
from sgan_core.data.mnist import load_mnist
from sgan_core.data.picks import typical
from sgan_core.files import atomic_write_json, read_json
from sgan_core.runs.rundir import RunDir
from sgan_ui.words import labels_source

SKIP = "skip"
KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,140}")


@st.cache_resource(show_spinner="Loading MNIST's training images…")
def training_images() -> np.ndarray:
    """MNIST's 60,000 training images (uint8). Their labels stay on disk: nothing here may
    read them (a person gives the labels)."""
    return load_mnist().x_train


@st.cache_data(max_entries=32, show_spinner="Choosing typical images, from the images alone…")
def typical_pick(n: int, seed: int) -> list[int]:
    from sgan_core.data.mnist import Mnist
    x = training_images()
    blind = Mnist(x, np.full(len(x), -1), x[:0], np.zeros(0, np.int64), "training images")
    return typical(blind, n, seed).tolist()


@st.cache_data(max_entries=32, show_spinner="The model reads the unlabeled images…")
def asked(run_path: str, version: float, count: int, labeled: tuple) -> list[int]:
    """What the run asks for (cached per classifier version: every viewer shares it)."""
    from sgan_core.reading.ask import ask  # the model read apart: only when a run is asked
    return ask(RunDir(run_path), training_images(), count, list(labeled)).tolist()


# ---------- answers: {training-set index: digit or SKIP}, one file per question ----------
# A dict in the order the answers were given (the last one is what undo takes back), saved as
# {"answers": {index: answer}, "order": [index, ...]}; files of the older flat form still load.
def answers_path(runs_dir, key: str) -> Path:
    if not KEY_RE.fullmatch(key):
        raise ValueError(f"bad answers key {key!r}")
    return sets_dir(runs_dir) / "answers" / f"{key}.json"


def _index(k) -> int | None:
    if isinstance(k, str) and k.isascii() and k.isdigit() and len(k) < 10:
        return int(k)
    if isinstance(k, int) and not isinstance(k, bool) and 0 <= k < 10**9:
        return k
    return None


def _answer(v) -> bool:
    return v == SKIP or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 9)


def parse_answers(raw) -> dict[int, object]:
    """The answers in a loaded file, in the order given; whatever is damaged is left out."""
    if not isinstance(raw, dict):
        return {}
    flat = raw.get("answers") if "answers" in raw else raw
    if not isinstance(flat, dict):
        return {}
    valid = {i: v for k, v in flat.items() if (i := _index(k)) is not None and _answer(v)}
    order = raw.get("order") if isinstance(raw.get("order"), list) else []
    out = {}
    for k in order:
        i = _index(k)
        if i in valid and i not in out:
            out[i] = valid[i]
    out.update({i: valid[i] for i in sorted(valid) if i not in out})
    return out


def load_answers(runs_dir, key: str) -> dict[int, object]:
    """The answers saved under key, oldest first; none from a missing or damaged file."""
    return parse_answers(read_json(answers_path(runs_dir, key), {}))


def save_answers(runs_dir, key: str, answers: dict) -> None:
    atomic_write_json(answers_path(runs_dir, key),
                      {"answers": {str(k): v for k, v in answers.items()},
                       "order": list(answers)})


def answered(answers: dict, i: int, value) -> dict:
    """answers with i's answer given last (value None: i's answer taken back)."""
    out = {k: v for k, v in answers.items() if k != i}
    if value is not None:
        out[i] = value
    return out


def first_open(indices: list[int], answers: dict) -> int | None:
    """The image to label next: the first one without an answer."""
    return next((i for i in indices if i not in answers), None)


def given(answers: dict) -> dict[int, int]:
    return {i: d for i, d in answers.items() if d != SKIP}


# ---------- showing labeled images ----------
@st.cache_resource(max_entries=64, show_spinner=False)
def run_labeled(path: str, mtime: float) -> LabeledSet | str:
    """A run's labeled.npz (read once per file version for every viewer: not to be changed),
    or why it cannot be shown."""
    try:
        return read_labeled(path, complete=False)
    except LabelsError as e:
        return str(e)


def labeled_block(run: RunDir, summary) -> None:
    """A run's labeled images, small and grouped by digit, and where they came from; read and
    sent only once the viewer opens them (a room opening a page does not each get 100 images)."""
    title = f"Its {summary.labels} labeled images: {labels_source(summary)}"
    box = st.expander(title, icon=":material/label:", key="labeled_images", on_change="rerun")
    if box.open is False:
        return
    try:
        mtime = run.labeled_path.stat().st_mtime
    except OSError:
        mtime = None
    with box:
        if mtime is None:
            st.caption("Chosen when it starts training." if summary.active else
                       "This run records no labeled.npz (trained before runs kept them).")
            return
        labeled = run_labeled(str(run.labeled_path), mtime)
        if isinstance(labeled, str):
            st.error(f"labeled.npz cannot be read: {labeled}")
            return
        show_by_digit(labeled)


def show_by_digit(labeled: LabeledSet, width: int = 36) -> None:
    """A set's images, small, one line per digit, with the digits it has none of said."""
    for digit in range(10):
        images = labeled.images[labeled.labels == digit]
        if len(images):
            st.image(list(images[:40]), width=width,
                     caption=[str(digit)] + [""] * (min(len(images), 40) - 1))
    missing = labeled.missing_digits()
    if missing:
        st.caption(f"No image of {', '.join(map(str, missing))} yet: a run learns only the "
                   "digits it is shown.")
