"""SGAN Lab: train a semi-supervised GAN on MNIST live, compare runs, draw digits to classify.

Run with `streamlit run app.py`. This file only sets up navigation; each page is a thin view in
pages/ over the run directories that `sgan_core` writes.
"""
import streamlit as st

st.set_page_config(page_title="SGAN Lab", page_icon="🧪", layout="wide")
PAGES = [
    st.Page("pages/0_Home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Train.py", title="Train", icon=":material/model_training:", url_path="Train"),
    st.Page("pages/2_Compare.py", title="Compare", icon=":material/compare:", url_path="Compare"),
    st.Page("pages/3_Draw.py", title="Draw", icon=":material/draw:", url_path="Draw"),
]
# Our own sidebar links: Streamlit's automatic menu would also list this file, as "app".
current = st.navigation(PAGES, position="hidden")
with st.sidebar:
    st.markdown("### SGAN Lab")
    for page in PAGES:
        st.page_link(page)
    st.caption("Semi-supervised GANs on MNIST, trained live on this machine.")
current.run()
