"""Sweep page: the label-efficiency curve. A grid of runs over label budgets, variants and seeds,
and what the unlabeled images buy at each budget."""
from __future__ import annotations

import csv
import io
import os

import streamlit as st

from sgan_core.config import DEFAULT_THREADS, PRESETS, ConfigError, parse_labels
from sgan_core.model.variants import VARIANTS, is_gan_variant
from sgan_core.runs import launcher, speed, sweep
from sgan_ui import access
from sgan_ui.charts import sweep_figure, to_json
from sgan_ui.common import (
    fmt_duration,
    phone_layout,
    plain,
    readable,
    runs,
    runs_dir,
    unreadable_note,
)
from sgan_ui.live_chart import live_chart
from sgan_ui.navigation import through_app
from sgan_ui.words import mean_sd, state_counts, sweep_reading

through_app()
phone_layout()
st.title("Label-efficiency sweep")
st.caption("How few labels are enough? A sweep trains every combination of label budgets, "
           "discriminator variants and seeds as ordinary runs (they wait in the same queue as "
           "the Train page's) and draws the answer every semi-supervised paper draws: final "
           "test accuracy against the number of labels, the GAN beside the supervised "
           "baseline, with the spread over seeds.")


def new_sweep_form(expanded: bool):
    with st.expander("New sweep", expanded=expanded, icon=":material/add:"):
        c1, c2, c3 = st.columns(3, gap="medium")
        budgets_text = c1.text_input("Label budgets", "20, 50, 100, 1000",
                                     help="Comma-separated, each from 10 to 60000.")
        variants = c1.multiselect("Variants", list(VARIANTS), default=["stacked", "supervised"])
        seeds = c2.number_input("Seeds per cell", 1, 10, 3, help="Seeds 0, 1, 2, ...")
        preset = c2.selectbox("Preset", list(PRESETS), index=list(PRESETS).index("fast"))
        minutes = c3.number_input("Minutes per run", 1.0, 120.0, 2.0, step=0.5)
        threads = c3.number_input("CPU threads per run", 1, 64, DEFAULT_THREADS,
                                  help="Runs train side by side, as many as the cores hold "
                                       "at this many threads each ($SGAN_SLOTS sets how "
                                       "many instead).")
        try:
            budgets = [parse_labels(b) for b in budgets_text.split(",") if b.strip()]
            cfgs = sweep.plan(budgets, variants, list(range(int(seeds))), preset,
                              max_seconds=minutes * 60, threads=int(threads))
        except ConfigError as e:
            st.error(str(e))
            cfgs = []
        slots = launcher.runs_at_once(int(threads))
        if int(threads) > (os.cpu_count() or 1):
            st.warning(f"{int(threads)} threads per run is more than this machine's "
                       f"{os.cpu_count()} cores: each run trains alone, and slower than asked.")
        if cfgs:
            waves = -(-len(cfgs) // slots)
            summaries = runs()
            estimates = sweep_estimates(cfgs, summaries)
            wave_s = max(e.seconds(c) for c, e in zip(cfgs, estimates))
            at_once = "one at a time" if slots == 1 else f"{slots} at a time"
            st.caption(f"{len(cfgs)} runs, {at_once} on this machine: about "
                       f"{fmt_duration(waves * wave_s)} in all, starting each run included.")
            short_of_preset(cfgs, estimates)
        lock = access.locked()
        if st.button("Start the sweep", type="primary", icon=":material/play_arrow:",
                     disabled=not cfgs or lock["disabled"], help=lock["help"]) \
                and access.can_control():
            try:
                sweep_id, _ = sweep.start(cfgs, runs_dir(), max_queued=access.max_queued())
            except launcher.QueueFull as e:
                st.error(str(e))
                return
            st.query_params["sweep"] = sweep_id
            st.rerun()


def sweep_estimates(cfgs, summaries) -> list[speed.Estimate]:
    """What each run would do here now (speed.estimate, as the Train page's New run form): this
    machine's rate from its runs like it or a step timed here, slowed as a step timed lately
    says. A run of ours training would slow a probe: then the last timing stands."""
    busy = any(r.active for r in summaries)
    threads = cfgs[0].threads
    probe = None
    if not busy and speed.probing() and speed.read_probe(runs_dir(), threads) is None:
        with st.spinner("Timing a training step on this machine (once, a few seconds)..."):
            probe = speed.current_probe(runs_dir(), threads)
    else:
        probe = speed.current_probe(runs_dir(), threads, busy=busy)
    return [speed.estimate(summaries, c, probe, 1.0 if busy else None) for c in cfgs]


def short_of_preset(cfgs, estimates):
    """Warn when runs this short stop at under half their preset's steps on this machine now
    (the same estimate as the sweep's time)."""
    preset_steps = PRESETS[cfgs[0].preset]["steps"]
    for cfg, est in zip(cfgs, estimates):
        reached = est.steps(cfg)
        if is_gan_variant(cfg.variant) and cfg.max_seconds and reached < preset_steps / 2:
            st.warning(f"Too short to mean much: in {fmt_duration(cfg.max_seconds)} a GAN run "
                       f"reaches about {reached:,} steps here now ({est.rate:.1f} steps/s), "
                       f"under half the {preset_steps:,} steps of a `{cfg.preset}` run by "
                       "steps. The curve would say more about the clock than about the labels; "
                       "choose more minutes.")
            return


def sweep_view(sweep_id: str):
    runs_now = sweep.members(readable(runs()), sweep_id)
    table = sweep.efficiency_table(runs_now)
    st.caption(f"{len(runs_now)} run{'s' if len(runs_now) != 1 else ''}: "
               f"{state_counts(runs_now)}")
    headline = sweep.headline(table)
    if headline:
        box = st.success if headline["gan"] > headline["baseline"] else st.warning
        box(sweep_reading(headline))
    live_chart(to_json(sweep_figure(table)), key="sweep_chart")
    st.dataframe([{"labels": r["labels"], "variant": r["variant"],
                   "test accuracy (mean ± sd)": mean_sd(r["mean"], r["sd"]),
                   "finished": f"{r['n']} of {r['runs']}"} for r in table], hide_index=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["run", "labels", "variant", "seed", "state", "test_acc"])
    writer.writerows([r.id, r.labels, r.variant, r.seed, r.state, r.test_acc] for r in runs_now)
    st.download_button("Download the sweep's runs as CSV", buf.getvalue(),
                       file_name=f"{sweep_id}.csv", mime="text/csv")
    active = any(r.active for r in runs_now)
    if active != st.session_state.get("_sweep_live"):
        st.session_state["_sweep_live"] = active
        st.rerun()  # start or stop polling with the sweep


listed = runs()
unreadable_note(listed)
all_runs = readable(listed)
ids = sweep.sweep_ids(all_runs)
new_sweep_form(expanded=not ids)
if not ids:
    st.info("No sweep yet. Open **New sweep**, or from a terminal: `python -m sgan_core sweep "
            "--labels 20,50,100,1000 --variants stacked,supervised --seeds 0,1,2 --preset fast "
            "--max-seconds 120`.")
    st.stop()
wanted = st.query_params.get("sweep")
chosen = st.selectbox("Sweep", ids, index=ids.index(wanted) if wanted in ids else 0)
if chosen != wanted:
    st.query_params["sweep"] = chosen
if wanted and wanted not in ids:
    st.warning(f"No sweep {plain(wanted)}: showing the newest.")
live = any(r.active for r in sweep.members(all_runs, chosen))
st.session_state["_sweep_live"] = live
st.fragment(run_every=3.0 if live else None)(sweep_view)(chosen)
