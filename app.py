"""SGAN Lab: train a semi-supervised GAN on MNIST live, compare runs, draw digits to classify.

Run with `streamlit run app.py`. This entry point only sets up the pages: Home (pages/home.py),
Train, Compare and Draw, each a thin view over the run directories that `sgan_core` writes.
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="SGAN Lab", page_icon="🧪", layout="wide")
pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Train.py", title="Train", icon=":material/model_training:",
            url_path="Train"),
    st.Page("pages/2_Compare.py", title="Compare", icon=":material/compare:",
            url_path="Compare"),
    st.Page("pages/3_Draw.py", title="Draw", icon=":material/draw:", url_path="Draw"),
]
with st.sidebar:
    st.caption("Semi-supervised GANs on MNIST, trained live on this machine.")
st.navigation(pages).run()
