"""Compare page: runs side by side, a table by label budget x variant, and the one-click demo."""
from __future__ import annotations

import csv
import dataclasses
import io

import streamlit as st

from sgan_core import committee, demo
from sgan_core.charts import compare_figure
from sgan_core.predict import model_version
from sgan_core.rundir import RunDir
from sgan_core.tables import accuracy_table
from sgan_ui.common import fmt_acc, run_label, runs, runs_dir

st.set_page_config(layout="wide")  # also when Streamlit runs this page without app.py
st.title("Compare runs")


@st.fragment(run_every=2.0)
def demo_block():
    state = demo.read(runs_dir())
    runs_now = demo.demo_runs(runs_dir(), state)
    if not runs_now:
        return
    curves = {f"{r.read_config().get('variant')} ({r.id})": r.read_metrics() for r in runs_now}
    st.plotly_chart(compare_figure(curves, x="elapsed_s"), key="demo_chart")
    sentence = demo.sentence(runs_now)
    if sentence:
        st.success(sentence)
    else:
        steps = ", ".join(f"{r.read_config().get('variant')}: {r.effective_status().get('state')}"
                          f" {r.read_status().get('step', 0)}/{r.read_status().get('total_steps')}"
                          for r in runs_now)
        st.info(f"Demo training ({steps}). The curves update by themselves.")


with st.container(border=True):
    st.subheader("Demo: what do unlabeled images buy?")
    st.markdown(
        f"One click trains a semi-supervised GAN (`{demo.GAN_VARIANT}`, preset `fast`) and the "
        "supervised-only baseline on **the same 100 labeled images** (0.17% of the training "
        f"set) for {demo.SECONDS:g} seconds each, one after the other, then overlays their test "
        "accuracy.")
    if st.button("Run the demo", type="primary", icon=":material/play_arrow:"):
        demo.start(runs_dir())
        st.rerun()
    demo_block()

all_runs = [r for r in runs() if r.test_acc is not None]
st.subheader("Test accuracy over training")
if not all_runs:
    st.info("No run has been evaluated yet. Train one on the Train page or run the demo.")
    st.stop()

labels = {r.id: run_label(r) for r in all_runs}
chosen = st.multiselect("Runs", list(labels), default=list(labels)[:4], format_func=labels.get)
x_axis = st.radio("X axis", ["step", "elapsed_s"], horizontal=True,
                  format_func=lambda x: "training seconds" if x == "elapsed_s" else "step")
if chosen:
    curves = {labels[i]: RunDir(runs_dir() / i).read_metrics() for i in chosen}
    st.plotly_chart(compare_figure(curves, x=x_axis), key="compare_chart")

st.subheader("Final test accuracy by label budget and variant")
st.caption("Mean over seeds of each run's last evaluation (the final, weight-averaged model; "
           "never the best score seen). Cells show mean and run count.")
table = accuracy_table(all_runs)
st.dataframe(table["rows"], hide_index=True)


@st.cache_data(max_entries=16, show_spinner="Reading the test images with each member…")
def committee_accuracy(paths: tuple, versions: tuple) -> dict:
    """Cached per member file versions, so a retrained member is read again."""
    return committee.evaluate([RunDir(p) for p in paths])


st.subheader("Read runs together")
st.caption("Runs trained on the same labeled images (label budget and seed) but with other "
           "variants or presets can make different mistakes. A committee reads a digit with "
           "all of them and takes the mean of their probabilities; it has seen no more labels "
           "than each member. It can also be worse than its best member, when the others share "
           "a mistake: measure it here. The Draw page reads drawings the same way.")
groups = committee.label_groups(runs())
if not groups:
    st.info("Train two or more runs on the same labels (the same label budget and seed) to "
            "read them together.")
else:
    group = st.selectbox("Labeled images", list(groups), format_func=lambda k: (
        f"{k[0]} labels · seed {k[1]} ({len(groups[k])} runs)"))
    member_labels = {r.id: run_label(r) for r in groups[group]}
    ids = st.multiselect("Members", list(member_labels), default=list(member_labels),
                         format_func=member_labels.get)
    if len(ids) < 2:
        st.caption("Choose at least two members.")
    elif st.button("Evaluate the committee on the test images", icon=":material/groups:"):
        members = [RunDir(runs_dir() / i) for i in ids]
        result = committee_accuracy(tuple(str(r.path) for r in members),
                                    tuple(model_version(r) for r in members))
        rows = [{"model": member_labels[i], "test acc": round(100 * acc, 2)}
                for i, acc in zip(ids, result["members"])]
        rows.append({"model": f"committee of {len(ids)} (mean of probabilities)",
                     "test acc": round(100 * result["committee"], 2)})
        st.dataframe(rows, hide_index=True)
        best_member = max(result["members"])
        st.success(f"The committee reads {fmt_acc(result['committee'])} of the "
                   f"{result['images']:,} test images right; its best member alone "
                   f"{fmt_acc(best_member)}.")

buf = io.StringIO()
writer = csv.DictWriter(buf, fieldnames=["id", "labels", "variant", "preset", "seed", "state",
                                         "step", "test_acc", "elapsed_s"], extrasaction="ignore")
writer.writeheader()
writer.writerows(dataclasses.asdict(r) for r in all_runs)
st.download_button("Download all runs as CSV", buf.getvalue(), file_name="sgan_runs.csv",
                   mime="text/csv")
best = max(all_runs, key=lambda r: r.test_acc)
st.caption(f"Best run: {labels[best.id]} with {fmt_acc(best.test_acc)}.")
