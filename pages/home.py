"""Home page: what an SGAN is, how to use the app, and the runs at a glance."""
from __future__ import annotations

import streamlit as st

from sgan_ui.common import fmt_acc, phone_layout, readable, runs, runs_table, unreadable_note
from sgan_ui.navigation import through_app

DIAGRAM = """
<svg width="760" height="250" viewBox="0 0 760 250" xmlns="http://www.w3.org/2000/svg"
     font-family="sans-serif" font-size="14" role="img" aria-label="SGAN diagram">
  <defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
    orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>
  <rect x="10" y="15" width="200" height="50" rx="8" fill="#d8ecf3" stroke="#3a7ca5"/>
  <text x="110" y="37" text-anchor="middle">Labeled images</text>
  <text x="110" y="55" text-anchor="middle" font-size="12">a few: e.g. 100 of 60,000</text>
  <rect x="10" y="100" width="200" height="50" rx="8" fill="#e6f2e6" stroke="#4c9a4c"/>
  <text x="110" y="122" text-anchor="middle">Unlabeled images</text>
  <text x="110" y="140" text-anchor="middle" font-size="12">all 60,000, no labels used</text>
  <rect x="10" y="185" width="200" height="50" rx="8" fill="#f8e3da" stroke="#e4572e"/>
  <text x="110" y="207" text-anchor="middle">Generator</text>
  <text x="110" y="225" text-anchor="middle" font-size="12">noise → fake digits</text>
  <rect x="300" y="80" width="180" height="90" rx="10" fill="#fff6d6" stroke="#b58900"
        stroke-width="2"/>
  <text x="390" y="118" text-anchor="middle" font-weight="bold">Discriminator</text>
  <text x="390" y="140" text-anchor="middle" font-size="12">one network, two jobs</text>
  <line x1="210" y1="40" x2="298" y2="100" stroke="#555" marker-end="url(#a)"/>
  <line x1="210" y1="125" x2="298" y2="125" stroke="#555" marker-end="url(#a)"/>
  <line x1="210" y1="210" x2="298" y2="150" stroke="#555" marker-end="url(#a)"/>
  <rect x="560" y="40" width="190" height="50" rx="8" fill="#d8ecf3" stroke="#3a7ca5"/>
  <text x="655" y="62" text-anchor="middle">Which digit? 0–9</text>
  <text x="655" y="80" text-anchor="middle" font-size="12">learned from the labels</text>
  <rect x="560" y="160" width="190" height="50" rx="8" fill="#f8e3da" stroke="#e4572e"/>
  <text x="655" y="182" text-anchor="middle">Real or generated?</text>
  <text x="655" y="200" text-anchor="middle" font-size="12">learned from everything</text>
  <line x1="480" y1="110" x2="558" y2="70" stroke="#555" marker-end="url(#a)"/>
  <line x1="480" y1="140" x2="558" y2="180" stroke="#555" marker-end="url(#a)"/>
</svg>
"""

DIAGRAM_TALL = """
<svg width="360" height="330" viewBox="0 0 360 330" xmlns="http://www.w3.org/2000/svg"
     font-family="sans-serif" font-size="14" role="img" aria-label="SGAN diagram">
  <defs><marker id="b" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
    orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>
  <rect x="4" y="4" width="112" height="52" rx="8" fill="#d8ecf3" stroke="#3a7ca5"/>
  <text x="60" y="26" text-anchor="middle">Labeled</text>
  <text x="60" y="44" text-anchor="middle" font-size="12">e.g. 100</text>
  <rect x="124" y="4" width="112" height="52" rx="8" fill="#e6f2e6" stroke="#4c9a4c"/>
  <text x="180" y="26" text-anchor="middle">Unlabeled</text>
  <text x="180" y="44" text-anchor="middle" font-size="12">all 60,000</text>
  <rect x="244" y="4" width="112" height="52" rx="8" fill="#f8e3da" stroke="#e4572e"/>
  <text x="300" y="26" text-anchor="middle">Generator</text>
  <text x="300" y="44" text-anchor="middle" font-size="12">fake digits</text>
  <line x1="60" y1="56" x2="140" y2="122" stroke="#555" marker-end="url(#b)"/>
  <line x1="180" y1="56" x2="180" y2="120" stroke="#555" marker-end="url(#b)"/>
  <line x1="300" y1="56" x2="220" y2="122" stroke="#555" marker-end="url(#b)"/>
  <rect x="80" y="124" width="200" height="72" rx="10" fill="#fff6d6" stroke="#b58900"
        stroke-width="2"/>
  <text x="180" y="156" text-anchor="middle" font-weight="bold">Discriminator</text>
  <text x="180" y="176" text-anchor="middle" font-size="12">one network, two jobs</text>
  <line x1="140" y1="196" x2="90" y2="254" stroke="#555" marker-end="url(#b)"/>
  <line x1="220" y1="196" x2="270" y2="254" stroke="#555" marker-end="url(#b)"/>
  <rect x="4" y="256" width="170" height="60" rx="8" fill="#d8ecf3" stroke="#3a7ca5"/>
  <text x="89" y="281" text-anchor="middle">Which digit? 0–9</text>
  <text x="89" y="300" text-anchor="middle" font-size="12">from the labels</text>
  <rect x="186" y="256" width="170" height="60" rx="8" fill="#f8e3da" stroke="#e4572e"/>
  <text x="271" y="281" text-anchor="middle">Real or generated?</text>
  <text x="271" y="300" text-anchor="middle" font-size="12">from everything</text>
</svg>
"""

through_app()
phone_layout()
st.title("SGAN Lab")
st.markdown(
    "**Learn to read handwritten digits from a handful of labels, and watch a network learn to "
    "draw them.** A semi-supervised GAN trains one *discriminator* with two jobs: name the digit "
    "in the few labeled images, and tell real images from the ones a *generator* invents, while "
    "the generator learns to draw digits that pass as real. The `fast` and `best` presets also "
    "let the discriminator teach itself from all 60,000 unlabeled images: those it already "
    "names confidently (a bar per digit that rises to 95% as the digit is learned) become "
    "extra labeled examples, shown rotated, scaled and shifted.")
# an image, not st.html: st.html's sanitiser drops inline SVG (the diagram never showed);
# the tall one replaces the wide one on a phone, where its labels would shrink to ~6 px
st.container(key="diagram_wide").image(DIAGRAM.strip())
st.container(key="diagram_tall").image(DIAGRAM_TALL.strip(), width="content")
st.caption(
    "What each part buys, measured on a 2-core CPU (two minutes, mean of three seeds): "
    "self-training does the work. With 20 labels it takes test accuracy from 73% (labels only) "
    "to 97.6%, with 100 labels from 93.4% to 97.8%. The real/fake game does not add to that "
    "in two minutes (96.5% with it at 20 and at 100 labels: its steps cost 1.7 times as much). "
    "What the game buys is the generator: 95% of the digits it draws are read as digits by "
    "a separate classifier trained on all labels. The README and benchmarks/RESULTS.md give "
    "the numbers.")

c1, c2, c3 = st.columns(3)
with c1:
    st.subheader("1 · Train")
    st.markdown("Pick a label budget, a discriminator variant and a preset, press Start, and "
                "watch the losses, accuracy and generated digits live.")
    st.page_link("pages/1_Train.py", label="Open Train", icon=":material/arrow_forward:")
with c2:
    st.subheader("2 · Compare")
    st.markdown("Put runs side by side, or press **Demo** to train a GAN and a supervised "
                "baseline on the same 100 labels and see what the unlabeled data buys.")
    st.page_link("pages/2_Compare.py", label="Open Compare", icon=":material/arrow_forward:")
with c3:
    st.subheader("3 · Draw")
    st.markdown("Draw a digit with the mouse or a finger and let any trained run read it; "
                "see the 28×28 image the model actually sees.")
    st.page_link("pages/3_Draw.py", label="Open Draw", icon=":material/arrow_forward:")

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
