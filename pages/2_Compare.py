"""Compare page: runs side by side, a table by label budget x variant, and the one-click demo."""
from __future__ import annotations

import csv
import dataclasses
import io

import streamlit as st

from sgan_core.config import ConfigError
from sgan_core.data import labeled as lab
from sgan_core.model.variants import is_gan_variant
from sgan_core.reading import committee
from sgan_core.reading.predict import ModelLoadError, model_version
from sgan_core.runs import demo, speed
from sgan_core.runs.launcher import QueueFull
from sgan_core.runs.rundir import ACTIVE_STATES, RunDir, RunSummary
from sgan_core.runs.speed import recent_rate
from sgan_core.runs.tables import accuracy_table
from sgan_core.training.grids import GridError, read_grid
from sgan_ui import access
from sgan_ui.charts import X_TITLES, compare_figure, to_json
from sgan_ui.common import (
    PLOTLY_CONFIG,
    fmt_acc,
    fmt_duration,
    phone_layout,
    plain,
    readable,
    run_label,
    runs,
    runs_dir,
    slowdown_now,
    unreadable_note,
)
from sgan_ui.labeling import show_by_digit
from sgan_ui.live_chart import live_chart
from sgan_ui.navigation import through_app
from sgan_ui.words import (
    RATE_SOURCES,
    demo_sentence,
    game_cell,
    length_text,
    mean_cell,
    status_text,
    taught_sentence,
)

through_app()
phone_layout()
st.title("Compare runs")


def demo_view(state_file: str = demo.STATE_FILE):
    state = demo.read(runs_dir(), state_file)
    runs_now = demo.demo_runs(runs_dir(), state)
    if not runs_now:
        return
    chart, digits = st.columns([2, 1], vertical_alignment="center")
    summaries = [r.summary() for r in runs_now]
    metrics = [r.read_metrics() for r in runs_now]
    names = [demo_side(s) for s in summaries]
    curves = dict(zip(names, metrics))
    with chart:  # by step: the sides are compared at equal training; a zoom survives updates
        live_chart(to_json(compare_figure(curves, x="step", variants={
            n: s.variant for n, s in zip(names, summaries)})), key="demo_chart")
    gan = demo.gan_run(runs_now)
    grids = gan.sample_files() if gan else []
    if grids:
        step, path = grids[-1]
        try:
            digits.image(read_grid(path), width="stretch",
                         caption=f"What the GAN's generator draws at step {step}: each column "
                                 "asks it for one digit, 0 to 9 from the left.")
        except GridError as e:
            digits.warning(f"The generated digits cannot be shown: {e}.")
    rates = [recent_rate(rows) for rows in metrics]
    for s, rate in zip(summaries, rates):
        st.caption(demo_progress_line(s, rate))
    result = demo.result(runs_now)
    ended = [s for s in summaries if s.state in ("failed", "stopped", "interrupted")]
    if result and result.get("drawn"):
        st.success(taught_sentence(result))
    elif result:
        box = st.success if result["gan"] > result["baseline"] else st.warning
        box(demo_sentence(result))
    elif ended:
        st.warning(f"The demo did not finish: its {ended[0].variant} run is {ended[0].state}"
                   f" ({plain(status_text(ended[0]))}). Run it again, or resume it on the Train "
                   "page.")
    else:  # a queued side's expected rate: as runs like it here (every run read once)
        every, cfgs = runs(), {c.variant: c for c in demo.configs()}
        idle = [speed.rate_for(every, cfgs[s.variant])[0] if s.variant in cfgs else None
                for s in summaries]
        left = demo.seconds_left(summaries, rates, demo.speedup_alone(state),
                                 demo.slots(list(cfgs.values())), idle)
        if left is None:
            st.info("Demo training: measuring this machine's speed… The curves update by "
                    "themselves.")
        elif left > demo.TOO_SLOW_S:
            st.warning(f"This machine is slow or busy right now: the demo needs about "
                       f"{fmt_duration(left)} more here. The result will be the same as on a "
                       "fast machine (it trains a fixed number of steps); only the wait is "
                       "longer. Closing other programs speeds it up.")
        else:
            st.info(f"Demo training: about {fmt_duration(left)} to go on this machine, "
                    "measured while it trains. The curves update by themselves.")
    if not any(s.active for s in summaries) and st.session_state.get(f"_live_{state_file}"):
        st.session_state[f"_live_{state_file}"] = False
        st.rerun()  # leave the polling fragment once the demo has ended


def demo_side(s: RunSummary) -> str:
    """What a stakeholder calls each side of the demo."""
    if is_gan_variant(s.variant):
        return f"Semi-supervised GAN ({s.variant})"
    if s.variant == demo.SELFTRAIN:
        return "Self-training, no game"
    return "Supervised baseline" if s.variant == demo.BASELINE else str(s.variant)


def demo_progress_line(s: RunSummary, rate: float | None) -> str:
    name = demo_side(s)
    speed_text = f" · {rate:.1f} steps/s" if rate and s.state == "running" else ""
    return (f"{name}: {s.state}, step {s.step:,} of {s.total_steps or 0:,} · "
            f"{fmt_duration(s.elapsed_s)} of training{speed_text}")


def demo_section():
    with st.container(border=True):
        st.subheader("Demo: what do unlabeled images buy?")
        cfgs = demo.configs()
        summaries = runs()
        busy = any(r.active for r in summaries)
        at_once = sum(c.threads for c in cfgs[:demo.slots(cfgs)])
        slow = 1.0 if busy else slowdown_now(at_once)
        alone = 1.0 if busy else slowdown_now(cfgs[0].threads)
        expected, source = demo.expected_seconds(summaries, cfgs, slow, alone)
        st.markdown(
            f"One click trains three classifiers on **the same 100 labeled images** (0.17% of "
            f"the training set), **{demo.STEPS:,} training steps each**, and overlays their "
            f"test accuracy: a semi-supervised GAN (`{demo.GAN_VARIANT}`, preset `fast`), "
            "which also learns from the 60,000 training images without their labels, by the "
            "real/fake game and by the labels it gives itself; **the same recipe with the game "
            "switched off** (self-training only); and the supervised-only baseline. The GAN's "
            "generator learns to draw each digit on request. All train the same number of "
            "steps, so the result is the same on a fast or a slow machine. The self-training "
            "side is the GAN's yardstick: in our measurements it reads about one more digit in "
            "100 than the GAN after two minutes, and about the same after an hour of the best "
            "preset; the game buys the generator's drawings.")
        where = "from " + RATE_SOURCES[source]
        if slow > 1.2:
            where += f", and this machine {slow:.1f} times slower now with what else is running"
        if busy:
            where += "; after the runs training now"
        if expected > demo.TOO_SLOW_S:
            st.warning(f"On this machine the demo would take about {fmt_duration(expected)} "
                       f"({where}): too slow for a live demo. Close other programs, or start "
                       "it well before you show it.")
        else:
            st.caption(f"Takes about {fmt_duration(expected)} on this machine ({where}).")
        if st.button("Run the demo", type="primary", icon=":material/play_arrow:",
                     **access.locked()) and access.can_control():
            try:
                demo.start(runs_dir(), max_queued=access.max_queued(),
                           speedup_alone=slow / alone)
                st.rerun()
            except QueueFull as e:
                st.error(str(e))
        live_view(demo.STATE_FILE)


def live_view(state_file: str) -> None:
    """A demo's runs, polled every 2 s while any of them trains."""
    live = any(r.effective_status().get("state") in ACTIVE_STATES
               for r in demo.demo_runs(runs_dir(), demo.read(runs_dir(), state_file)))
    st.session_state[f"_live_{state_file}"] = live
    st.fragment(run_every=2.0 if live else None)(demo_view)(state_file)


def taught_section():
    """Teach it yourself: the three sides of the demo, taught by a person's own drawings."""
    with st.container(border=True):
        st.subheader("Teach it yourself: your ten drawings")
        st.markdown(
            "Draw one of each digit on the **Teach** page and save them as a set: the same "
            f"three classifiers then learn from your drawings alone ({demo.STEPS:,} steps "
            "each), and are tested on MNIST's 10,000 handwritten test digits, none of them "
            "yours. How many does each read?")
        complete = []
        for name in lab.list_sets(runs_dir()):
            try:
                drawn = lab.read(lab.set_path(runs_dir(), name), complete=False)
            except lab.LabelsError:
                continue  # the Teach page names a damaged set
            if not drawn.missing_digits():
                complete.append((name, drawn))
        if not complete:
            st.info("No saved set has all ten digits yet: draw one of each on the **Teach** "
                    "page (sidebar), then come back.")
        else:
            names = [n for n, _ in complete]
            name = st.selectbox("Your drawings", names, key="taught_set")
            drawn = dict(complete)[name]
            show_by_digit(drawn, width=28)
            if st.button(f"Train the three on these {len(drawn)} drawings", type="primary",
                         icon=":material/school:", **access.locked()) \
                    and access.can_control():
                try:
                    demo.start(runs_dir(), max_queued=access.max_queued(), labeled=drawn,
                               name=name)
                    st.rerun()
                except (QueueFull, ConfigError) as e:
                    st.error(plain(str(e)))
        live_view(demo.TAUGHT_FILE)


def curves_section(evaluated: list[RunSummary], labels: dict[str, str]):
    best = sorted(evaluated, key=lambda r: (r.state != "finished", -r.test_acc))
    chosen = st.multiselect("Runs", list(labels), default=[r.id for r in best[:4]],
                            format_func=labels.get, help="The four best runs to begin with.")
    x_axis = st.radio("X axis", list(X_TITLES), horizontal=True, format_func=X_TITLES.get)
    if chosen:
        # short legend names (a phone's chart is 350 px wide); the picker above has the ids
        by_id, names = {r.id: r for r in evaluated}, {}
        for i in chosen:
            r = by_id[i]
            name = f"{r.variant}, {r.labels} labels, seed {r.seed}"
            names[i] = name if name not in names.values() else f"{name} ({i[:15]})"
        curves = {names[i]: RunDir(runs_dir() / i).read_metrics() for i in chosen}
        st.plotly_chart(compare_figure(curves, x=x_axis,
                                       variants={names[i]: by_id[i].variant for i in chosen}),
                        key="compare_chart", config=PLOTLY_CONFIG)


def table_section(evaluated: list[RunSummary]):
    st.subheader("Final test accuracy by label budget and variant")
    st.caption("Finished runs only, one row per label budget, preset and length: the mean of "
               "each run's final test accuracy (its model at the last step, never the best "
               "score seen along the way), ± the standard deviation over the runs, and how "
               "many runs and seeds that is: runs of one seed differ only by chance in "
               "timing, not in their labeled images.")
    table = accuracy_table(evaluated)
    one_dataset = len({row["dataset"] for row in table["rows"]}) == 1  # no column then
    shown = [{**{k: v for k, v in row.items()
                 if k != "game" and not (k == "dataset" and one_dataset)},
              "length": length_text(row["length"]),
              **{v: mean_cell(row[v]) for v in table["variants"]}}
             for row in table["rows"]]
    if any(row["game"] for row in table["rows"]):
        for cells, row in zip(shown, table["rows"]):
            cells["the game adds"] = game_cell(row["game"])
        st.caption("**The game adds**: the best GAN variant's mean against `selftrain`, the "
                   "same recipe with the real/fake game switched off (it still learns from "
                   "the labels it gives itself). Negative: the game cost accuracy at this "
                   "length.")
    st.dataframe(shown, hide_index=True)


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


def export_section(evaluated: list[RunSummary]):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["id", "dataset", "labels", "pick", "variant",
                                             "preset", "seed",
                                             "state", "step", "test_acc", "elapsed_s"],
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(dataclasses.asdict(r) for r in evaluated)
    st.download_button("Download all runs as CSV", buf.getvalue(), file_name="sgan_runs.csv",
                       mime="text/csv")
    best = max(evaluated, key=lambda r: r.test_acc)
    st.caption(f"Best run: {fmt_acc(best.test_acc)} of the test digits right, {best.variant} · "
               f"{best.labels} labels · {best.preset} · seed {best.seed} ({best.id}).")


demo_section()
taught_section()
listed = runs()
unreadable_note(listed)
evaluated = [r for r in readable(listed) if r.test_acc is not None]
st.subheader("Test accuracy over training")
if not evaluated:
    st.info("No run has been evaluated yet. Train one on the Train page or run the demo.")
    st.stop()
run_labels = {r.id: run_label(r) for r in evaluated}
curves_section(evaluated, run_labels)
table_section(evaluated)
committee_section(listed)
export_section(evaluated)
