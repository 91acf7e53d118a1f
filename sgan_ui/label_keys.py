"""The labeling grid's keys: a listener in the page (sgan_ui/label_keys.js, an
st.components.v2 component, nothing fetched) that labels the current image with 0-9, skips it
with s and takes back the last answer with u, by clicking the pill a tap would."""
from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

HELP = ("Keys: **0-9** label the highlighted image, **s** skips it, **u** takes back the last "
        "answer. Or tap.")

_listener = st.components.v2.component(
    "sgan_lab.label_keys", js=(Path(__file__).with_name("label_keys.js")).read_text("utf-8"))


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget with this key."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def label_keys(rows: dict[int, str], order: list[int], key: str) -> None:
    """Listen for keys over a grid: rows maps each image's index to its pills' widget key (in
    the order shown); order lists the answered images, the last given last."""
    _listener(key=f"{key}-keys", data={"rows": [[i, key_class(k)] for i, k in rows.items()],
                                       "order": order}, height=0)
