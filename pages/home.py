"""Home page: what an SGAN is, how to use the app, and the runs at a glance."""
from __future__ import annotations

import streamlit as st

from sgan_core import PROJECT_ROOT
from sgan_ui.common import fmt_acc, phone_layout, readable, runs, runs_table, unreadable_note
from sgan_ui.navigation import PAGES, through_app

DIAGRAMS = PROJECT_ROOT / "sgan_ui" / "diagrams"

through_app()
phone_layout()
st.title("SGAN Lab")
st.markdown(
    "**Learn to read handwritten digits from a handful of labels, and watch a network learn to "
    "draw them.** Two networks train together:\n"
    "- the **reader** (the *discriminator*) learns to name the digit in a picture from the few "
    "labeled images, and to tell real handwriting from the artist's drawings;\n"
    "- the **artist** (the *generator*) learns to draw digits that the reader takes for real.\n\n"
    "**What each part does: the real/fake game teaches the artist to draw; the labels the "
    "reader gives itself do most of the reading.** Each unlabeled image it already names "
    "confidently becomes an extra labeled example (shown rotated, scaled and shifted), in the "
    "`fast` and `best` recipes; how sure counts as confident is set per digit, lower while a "
    "digit is still rarely recognised.",
    help="This is a semi-supervised GAN (Salimans et al. 2016, *Improved Techniques for "
         "Training GANs*; Odena 2016, *Semi-Supervised Learning with Generative Adversarial "
         "Networks*), with self-training on the reader's own confident labels.")
# an image, not st.html: st.html's sanitiser drops inline SVG (the diagram never showed);
# the tall one replaces the wide one on a phone, where its labels would shrink to ~6 px
st.container(key="diagram_wide").image((DIAGRAMS / "sgan_wide.svg").read_text())
st.container(key="diagram_tall").image((DIAGRAMS / "sgan_tall.svg").read_text(), width="content")
st.caption(
    "What each part buys, measured on a 2-core CPU (two minutes, mean of three seeds). The "
    "labels it gives itself: with 20 labels, test accuracy goes from 73% (labels only) to "
    "97.6%, with 100 labels from 93.4% to 97.8%. The game: the artist, whose digits are read "
    "as digits by a separate classifier trained on all labels 83-94% of the time; in two minutes "
    "it adds no accuracy (96.5% with it at 20 and at 100 labels: its steps cost 1.7 times as "
    "much), nor in an hour of the best preset (98.9% with it, 99.0% without, 100 labels). The "
    "README and benchmarks/RESULTS.md give the numbers.")

BLURBS = {
    "pages/1_Train.py": "Pick a label budget, a discriminator variant and a preset, press Start, "
                        "and watch the losses, accuracy and generated digits live.",
    "pages/2_Compare.py": "Put runs side by side, or press **Demo** to train a GAN, the same "
                          "recipe without its real/fake game and a supervised baseline on the "
                          "same 100 labels, and see what the unlabeled data buys.",
    "pages/3_Draw.py": "Draw a digit with the mouse or a finger and let any trained run read "
                       "it; see the 28×28 image the model actually sees.",
    "pages/4_Sweep.py": "Train every combination of label budgets, variants and seeds and draw "
                        "the label-efficiency curve: accuracy against the number of labels.",
    "pages/5_Teach.py": "Give it its labels yourself: draw one of each digit, label the images "
                        "it picks as most typical, or answer the ones it asks about.",
    "pages/6_Room.py": "Teach together: the host lets a room label the images a run asks "
                       "about, one at a time on their phones, and checks them before use.",
}
others = [p for p in PAGES if p.url_path]
for i, (column, entry) in enumerate(zip(st.columns(len(others)), others), 1):
    with column:
        st.subheader(f"{i} · {entry.title}")
        st.markdown(BLURBS.get(entry.path, ""))
        st.page_link(entry.path, label=f"Open {entry.title}", icon=":material/arrow_forward:")

st.divider()
st.subheader("Runs at a glance")
all_runs = runs()
if not all_runs:
    st.info("No runs yet: start one on the Train page, or press Demo on the Compare page.")
else:
    unreadable_note(all_runs)
    finished = [r for r in readable(all_runs) if r.test_acc is not None]
    best = max(finished, key=lambda r: r.test_acc, default=None)
    m = st.columns(3)
    m[0].metric("Runs", len(all_runs))
    m[1].metric("Training now", sum(r.active for r in all_runs))
    m[2].metric("Best test accuracy", fmt_acc(best.test_acc) if best else "–",
                help=best.id if best else None)
    runs_table(all_runs)
