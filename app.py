"""SGAN Lab: train a semi-supervised GAN on MNIST live, compare runs, draw digits to classify.

Run with `streamlit run app.py`. This entry point only sets up the pages listed in
sgan_ui/navigation.py (Home, Train, Compare, Draw, Sweep), each a thin view over the run
directories that `sgan_core` writes.
"""
from __future__ import annotations

import streamlit as st

from sgan_ui.navigation import run_app

st.set_page_config(page_title="SGAN Lab", page_icon="🧪", layout="wide")
with st.sidebar:
    st.caption("Semi-supervised GANs on MNIST, trained live on this machine.")
run_app()
