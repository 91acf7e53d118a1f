"""Compare page: runs side by side, a table by label budget x variant, and the one-click demo."""
from __future__ import annotations

import csv
import dataclasses
import io

import streamlit as st

from sgan_core import committee, demo
from sgan_core.config import ConfigError
from sgan_core.grids import GridError, read_grid
from sgan_core.launcher import QueueFull
from sgan_core.predict import ModelLoadError, model_version
from sgan_core.rundir import ACTIVE_STATES, RunDir, RunSummary
from sgan_core.tables import accuracy_table
from sgan_ui import access
from sgan_ui.charts import X_TITLES, compare_figure, to_json
from sgan_ui.common import (
    fmt_acc,
    phone_layout,
    plain,
    readable,
    run_label,
    runs,
    runs_dir,
    unreadable_note,
)
from sgan_ui.live_chart import live_chart
from sgan_ui.navigation import through_app
from sgan_ui.words import demo_sentence, length_text, mean_cell

through_app()
phone_layout()
st.title("Compare runs")


def demo_view():
    runs_now = demo.demo_runs(runs_dir(), demo.read(runs_dir()))
    if not runs_now:
        return
    chart, digits = st.columns([2, 1], vertical_alignment="center")
    summaries = [r.summary() for r in runs_now]
    curves = {f"{s.variant} ({r.id})": r.read_metrics() for r, s in zip(runs_now, summaries)}
    with chart:  # updates in place: a zoom survives the live refreshes
        live_chart(to_json(compare_figure(curves, x="elapsed_s")), key="demo_chart")
    gan = demo.gan_run(runs_now)
    grids = gan.sample_files() if gan else []
    if grids:
        step, path = grids[-1]
        try:
            digits.image(read_grid(path), width="stretch",
                         caption=f"What the GAN's generator draws at step {step}.")
        except GridError as e:
            digits.warning(f"The generated digits cannot be shown: {e}.")
    sentence = demo_sentence(demo.result(runs_now))
    if sentence:
        st.success(sentence)
    else:
        progress = ", ".join(f"{s.variant} {s.state} ({s.elapsed_s:.0f} s)" for s in summaries)
        st.info(f"Demo training: {progress}. The curves update by themselves.")
    if not any(s.active for s in summaries) and st.session_state.get("_demo_live"):
        st.session_state["_demo_live"] = False
        st.rerun()  # leave the polling fragment once the demo has ended


def demo_section():
    with st.container(border=True):
        st.subheader("Demo: what do unlabeled images buy?")
        st.markdown(
            f"One click trains a semi-supervised GAN (`{demo.GAN_VARIANT}`, preset `fast`) and "
            "the supervised-only baseline on **the same 100 labeled images** (0.17% of the "
            f"training set), side by side on one CPU core each for {demo.SECONDS:g} seconds, "
            "and overlays their test accuracy. The GAN also learns from the 60,000 training "
            "images without their labels. (Its generator is not told which digit to draw, as "
            "on the Train page: in so short a run that would cost the classifier about two "
            "points.)")
        if st.button("Run the demo", type="primary", icon=":material/play_arrow:",
                     **access.locked()) and access.can_control():
            try:
                demo.start(runs_dir(), max_queued=access.max_queued())
                st.rerun()
            except QueueFull as e:
                st.error(str(e))
        live = any(r.effective_status().get("state") in ACTIVE_STATES
                   for r in demo.demo_runs(runs_dir(), demo.read(runs_dir())))
        st.session_state["_demo_live"] = live
        st.fragment(run_every=2.0 if live else None)(demo_view)()


def curves_section(labels: dict[str, str]):
    chosen = st.multiselect("Runs", list(labels), default=list(labels)[:4],
                            format_func=labels.get)
    x_axis = st.radio("X axis", list(X_TITLES), horizontal=True, format_func=X_TITLES.get)
    if chosen:
        curves = {labels[i]: RunDir(runs_dir() / i).read_metrics() for i in chosen}
        st.plotly_chart(compare_figure(curves, x=x_axis), key="compare_chart")


def table_section(evaluated: list[RunSummary]):
    st.subheader("Final test accuracy by label budget and variant")
    st.caption("Finished runs only, one row per label budget, preset and length: the mean "
               "over runs (seeds) of each run's final test accuracy (the weight-averaged model "
               "at its last step, never the best score seen), ± the standard deviation, and n "
               "runs.")
    table = accuracy_table(evaluated)
    st.dataframe([{**row, "length": length_text(row["length"]),
                   **{v: mean_cell(row[v]) for v in table["variants"]}}
                  for row in table["rows"]], hide_index=True)


@st.cache_data(max_entries=16, show_spinner="Reading the test images with each member…")
def committee_accuracy(paths: tuple, versions: tuple) -> dict:
    """Cached per member file versions, so a retrained member is read again."""
    return committee.evaluate([RunDir(p) for p in paths])


def committee_section(listed: list[RunSummary]):
    st.subheader("Read runs together")
    st.caption("Runs trained on the same labeled images (label budget and seed) but with other "
               "variants or presets can make different mistakes. A committee reads a digit "
               "with all of them and takes the mean of their probabilities; it has seen no "
               "more labels than each member. It can also be worse than its best member, when "
               "the others share a mistake: measure it here. The Draw page reads drawings the "
               "same way.")
    groups = committee.label_groups(listed)
    if not groups:
        st.info("Train two or more runs on the same labels (the same label budget and seed) "
                "to read them together.")
        return
    group = st.selectbox("Labeled images", list(groups), format_func=lambda k: (
        f"{k[0]} labels · seed {k[1]} ({len(groups[k])} runs)"))
    member_labels = {r.id: run_label(r) for r in groups[group]}
    ids = st.multiselect("Members", list(member_labels), default=list(member_labels),
                         format_func=member_labels.get)
    if len(ids) < 2:
        st.caption("Choose at least two members.")
        return
    if not st.button("Evaluate the committee on the test images", icon=":material/groups:"):
        return
    members = [RunDir(runs_dir() / i) for i in ids]
    try:
        result = committee_accuracy(tuple(str(r.path) for r in members),
                                    tuple(model_version(r) for r in members))
    except (ConfigError, ModelLoadError) as e:
        st.error(f"The committee cannot be read: {plain(e)}")
        return
    rows = [{"model": member_labels[i], "test acc": round(100 * acc, 2)}
            for i, acc in zip(ids, result["members"])]
    rows.append({"model": f"committee of {len(ids)} (mean of probabilities)",
                 "test acc": round(100 * result["committee"], 2)})
    st.dataframe(rows, hide_index=True)
    st.success(f"The committee reads {fmt_acc(result['committee'])} of the "
               f"{result['images']:,} test images right; its best member alone "
               f"{fmt_acc(max(result['members']))}.")


def export_section(evaluated: list[RunSummary], labels: dict[str, str]):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["id", "labels", "variant", "preset", "seed",
                                             "state", "step", "test_acc", "elapsed_s"],
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(dataclasses.asdict(r) for r in evaluated)
    st.download_button("Download all runs as CSV", buf.getvalue(), file_name="sgan_runs.csv",
                       mime="text/csv")
    best = max(evaluated, key=lambda r: r.test_acc)
    st.caption(f"Best run: {labels[best.id]} with {fmt_acc(best.test_acc)}.")


demo_section()
listed = runs()
unreadable_note(listed)
evaluated = [r for r in readable(listed) if r.test_acc is not None]
st.subheader("Test accuracy over training")
if not evaluated:
    st.info("No run has been evaluated yet. Train one on the Train page or run the demo.")
    st.stop()
run_labels = {r.id: run_label(r) for r in evaluated}
curves_section(run_labels)
table_section(evaluated)
committee_section(listed)
export_section(evaluated, run_labels)
