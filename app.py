"""SGAN Lab: train a semi-supervised GAN on MNIST live, compare runs, draw digits to classify.

Run with `streamlit run app.py`. This entry point only sets up the pages listed in
sgan_ui/navigation.py (Home, Train, Compare, Draw, Sweep), each a thin view over the run
directories that `sgan_core` writes, and (as `app`, an st.App that `streamlit run` finds and
starts) the routes of the live feeds beside them.
"""
from __future__ import annotations

import os

# Before anything imports TensorFlow (the model reader process, predict.py, inherits this):
# TensorFlow's C++ log otherwise reports, as errors, a CPU-only machine's missing CUDA driver
# ("failed call to cuInit") and graph rewrites it skipped. Real errors still raise, with
# their Python traceback.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import streamlit as st  # noqa: E402

if __name__ == "__main__":  # a page run: Streamlit runs this file as __main__ for each
    from sgan_ui.navigation import run_app

    st.set_page_config(page_title="SGAN Lab", page_icon="🧪", layout="wide")
    with st.sidebar:
        st.caption("Semi-supervised GANs on MNIST, trained live on this machine.")
    run_app()
elif __name__ != "__mp_main__":  # (the model reader's start runs this file under that name)
    # `streamlit run app.py` finds `app` and serves it: the pages, and the live feeds' routes
    # beside them (sgan_ui/feed_routes.py: streams, the watch-only page)
    from sgan_ui.feed_routes import lifespan, routes  # noqa: E402

    app = st.App("app.py", routes=routes(), lifespan=lifespan)
