"""Train page: start a run, watch its losses, accuracy and generated digits live."""
from __future__ import annotations

import os

import streamlit as st

from sgan_core.config import (
    DEFAULT_THREADS,
    MAX_SEED,
    PRESET_MINUTES,
    PRESETS,
    ConfigError,
    make_config,
    parse_labels,
)
from sgan_core.data.picks import DEFAULT_PICK, PICKS
from sgan_core.model.variants import VARIANTS, is_gan_variant
from sgan_core.runs import launcher, speed
from sgan_core.runs.rundir import (
    ACTIVE_STATES,
    NoSuchRun,
    UnreadableRun,
    cached_summary,
    resolve_run,
)
from sgan_core.runs.tables import run_length
from sgan_core.training.grids import gif_bytes
from sgan_ui import access
from sgan_ui.admission import page_slot
from sgan_ui.charts import X_TITLES
from sgan_ui.common import (
    fmt_acc,
    fmt_duration,
    phone_layout,
    plain,
    run_from_id,
    run_label,
    runs,
    runs_dir,
    runs_table,
)
from sgan_ui.insight_panels import learning_section
from sgan_ui.labeling import labeled_block
from sgan_ui.live_chart import live_chart, preload
from sgan_ui.live_feed import feed, progress_parts, room_interval
from sgan_ui.navigation import through_app
from sgan_ui.run_figures import figures, grid_problem
from sgan_ui.words import (
    PICK_HELP,
    PRESET_HELP,
    PRESET_TERMS,
    RATE_SOURCES,
    VARIANT_PAPERS,
    errors_per_100,
    length_text,
    status_text,
    variant_caption,
)

# The "How it learns" panels change once per full evaluation (every 100 steps of `fast`,
# about 10 s): checking for a new snapshot more often would only resend the same figures.
# (room_interval: wider in a big room). The live progress, charts and grid are not rerun per
# viewer at all: the page fetches them (live_feed.py).
INSIGHT_REFRESH_S = 10.0

through_app()
phone_layout()
preload()
st.title("Train a semi-supervised GAN")
at_once = launcher.runs_at_once(DEFAULT_THREADS)
st.caption(f"{'One run trains' if at_once == 1 else f'{at_once} runs train'} at a time on this "
           f"machine ({DEFAULT_THREADS} CPU threads each, {os.cpu_count()} cores); further "
           "starts wait in a queue. Training runs in its own process: closing or refreshing the "
           "browser, or restarting the server, does not stop it.")


def run_estimate(cfg, summaries) -> speed.Estimate:
    """What a run of cfg does here now (speed.estimate): this machine's rate, from its runs like
    it or a step timed here (once, a few seconds), slowed by what else is running, as a step
    timed lately says or, while one of our runs trains, as its own rate says."""
    busy = any(r.active for r in summaries)  # a probe now would time our own runs too
    probe = speed.read_probe(runs_dir(), cfg.threads)
    if not busy and probe is None and speed.probing():
        with st.spinner("Timing a training step on this machine (once, a few seconds)..."):
            probe = speed.current_probe(runs_dir(), cfg.threads)
    elif not busy:
        probe = speed.current_probe(runs_dir(), cfg.threads)  # retimed in the background if old
    slow = None
    for r in summaries:  # our own training is not what else is running: its rate says what is
        if r.state != "running" or not r.usable:
            continue
        idle = speed.idle_rate_of(r, summaries, probe)
        try:
            rows = resolve_run(runs_dir(), r.id).read_metrics()
        except (NoSuchRun, UnreadableRun):
            continue
        slow = idle and speed.trainer_slowdown(idle, rows)
        if slow:
            break
    return speed.estimate(summaries, cfg, probe, slow or (1.0 if busy else None))


def length_caption(cfg, summaries) -> str:
    """How long a run of cfg takes here and, by the clock, how many steps it trains."""
    est = run_estimate(cfg, summaries)
    where = RATE_SOURCES[est.source]
    if est.slowdown > 1.2:
        where += f", {est.slowdown:.1f} times slower now with what else is running"
    total = fmt_duration(est.seconds(cfg))
    if cfg.max_seconds:
        return (f"Trains {fmt_duration(cfg.max_seconds)} by the clock, wherever it has got "
                f"to: about {est.steps(cfg):,} steps at {est.rate:.1f} steps/s ({where}). "
                f"Ends about {total} after Start, with starting up and the final test.")
    return f"About {total} at {est.rate:.1f} steps/s ({where})."


def new_run_form(expanded: bool, summaries):
    # on_change="rerun": a closed form is not built (a room opening the page pays for it
    # only where someone opens it)
    box = st.expander("New run", expanded=expanded, icon=":material/add:", key="new_run",
                      on_change="rerun")
    if box.open is False:
        return
    with box:
        c1, c2, c3 = st.columns([2, 3, 2], gap="medium")
        with c1:
            budget = st.radio("Label budget (labeled images, balanced over the 10 digits)",
                              ["20", "50", "100", "1000", "custom"], index=2, horizontal=True)
            labels_text = budget
            if budget == "custom":
                labels_text = st.text_input("Custom label budget", "200",
                                            help="A whole number from 10 to 60000.")
            pick = st.radio("Which images get labels", list(PICKS), horizontal=True,
                            index=list(PICKS).index(DEFAULT_PICK))
            st.caption(PICK_HELP[pick])
            preset = st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index("fast"),
                                  help="\n".join([f"- **{p}**: {h}" for p, h in PRESET_HELP.items()]
                                                   + ["", PRESET_TERMS]))
            st.caption(PRESET_HELP[preset])
            defaults = make_config(preset)
        with c2:
            variant = st.radio("Discriminator", list(VARIANTS),
                               format_func=lambda name: VARIANTS[name].label,
                               captions=[variant_caption(n, v) for n, v in VARIANTS.items()],
                               help=VARIANT_PAPERS)
        with c3:
            timed = PRESET_MINUTES.get(preset)
            length_kind = st.radio("Length", ["steps", "minutes"], index=int(bool(timed)),
                                   horizontal=True)
            if length_kind == "steps":
                steps = st.number_input("Steps", 10, 200000, defaults.steps, step=100)
                max_seconds = None
            else:
                minutes = st.number_input("Minutes", 0.5, 600.0, timed or 2.0, step=0.5)
                max_seconds, steps = minutes * 60, None
            seed = st.number_input("Seed", 0, MAX_SEED, 0)
            length_note = st.empty()
            with st.expander("Advanced"):
                lr_d = st.number_input("Discriminator learning rate", 1e-6, 1.0,
                                       defaults.lr_d, format="%.5f")
                lr_g = st.number_input("Generator learning rate", 1e-6, 1.0,
                                       defaults.lr_g, format="%.5f")
                batch = st.number_input("Batch size (per kind)", 2, 1000,
                                        defaults.batch_size)
        try:
            labels = parse_labels(labels_text)
        except ConfigError as e:
            st.error(str(e))
            labels = None
        try:
            length_note.caption(length_caption(make_config(
                preset, labels=labels, variant=variant, steps=steps, max_seconds=max_seconds,
                batch_size=int(batch)), summaries))
        except ConfigError:
            pass
        lock = access.locked()
        if st.button("Start training", type="primary", icon=":material/play_arrow:",
                     disabled=labels is None or lock["disabled"], help=lock["help"]) \
                and access.can_control():
            try:
                cfg = make_config(preset, labels=labels, variant=variant, pick=pick,
                                  steps=None if steps is None else int(steps),
                                  max_seconds=max_seconds, seed=int(seed), lr_d=lr_d, lr_g=lr_g,
                                  batch_size=int(batch))
                run = launcher.start_run(cfg, runs_dir(), access.max_queued())
            except (ConfigError, launcher.QueueFull) as e:
                st.error(str(e))
                return
            st.query_params["run"] = run.id
            st.rerun()


def progress_block(summary, rows):
    fraction, text, metrics = progress_parts(summary, rows)
    st.progress(fraction, text=text)
    c = st.container(key="train_metrics").columns(4)
    for col, (label, value) in zip(c, metrics):
        col.metric(label, value)
    state_messages(summary)


def state_messages(summary):
    state = summary.state
    if state == "failed":
        st.error(f"Run failed: {plain(status_text(summary) or 'no message')}")
    elif state == "interrupted":
        st.warning(f"Interrupted: {plain(status_text(summary))}")
    elif state == "queued":
        if status_text(summary) not in ("", "queued", "queued to resume"):  # why it waits
            st.warning(f"Queued: {plain(status_text(summary))}")
        else:
            st.info("Queued: it starts when the runs before it leave room on the CPU cores.")


def chart_controls() -> tuple[float, str]:
    c0, c1 = st.columns([3, 2], vertical_alignment="bottom")
    smoothing = c0.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="smoothing",
                          help="Exponential moving average of the loss and batch-accuracy "
                               "curves.")
    x = c1.segmented_control("X axis", list(X_TITLES), format_func=X_TITLES.get,
                             default="step", key="x_axis") or "step"
    return smoothing, x


def charts_block(run, rows):
    smoothing, x = chart_controls()
    losses, accuracy = figures(str(run.path), len(rows), repr(rows[-1]) if rows else "",
                               smoothing, x, rows)
    c1, c2 = st.columns(2)
    with c1:  # live_chart, not st.plotly_chart: a zoom survives the live refreshes
        live_chart(losses, key="losses")
    with c2:
        live_chart(accuracy, key="accuracy")


def grid_caption(cfg) -> str:
    asked = ("each column asks the generator for one digit, 0 to 9 from the left; "
             if cfg.conditional else "")
    ended = (f"; the real/fake game, and so the generator's learning, stopped after the first "
             f"{cfg.game_until:.0%} of this run, which then learned by self-training alone"
             if cfg.game_until < 1 else "")
    return (f"{asked}every grid starts from the same 100 random seeds of the generator, so "
            f"each square shows one drawing changing as it learns{ended}")


def samples_block(run, cfg, live: bool = False) -> bool:
    """The grid picked (or the latest), its controls and the GIF; for a live run following the
    latest grid, only the controls: True, and the live feed draws the grid."""
    grids = run.sample_files()
    if not grids:
        if not live:
            st.caption("No generated digits yet.")
        return live
    steps = [s for s, _ in grids]
    c1, c2 = st.columns([2, 1])
    with c2:
        follow = st.toggle("Follow the latest grid", value=True, key="follow_latest")
        choice = steps[-1]
        if len(steps) > 1 and not follow:
            choice = st.select_slider("Step", steps, value=steps[-1], key="grid_step")
        # built only when clicked: encoding every grid on each live refresh cost the most
        st.download_button("Download all grids as GIF", lambda: gif_bytes([p for _, p in grids]),
                           file_name=f"{run.id}.gif", mime="image/gif")
    if live and choice == steps[-1]:
        return True
    with c1.container(key="sample_grid"):
        path = dict(grids)[choice]
        try:
            stat = path.stat()
            problem = grid_problem(str(path), stat.st_mtime, stat.st_size)
        except OSError:  # removed since the listing: a resume drops grids past its checkpoint
            problem = "the file is gone"
        if problem:
            st.warning(f"The grid of step {choice} cannot be shown: {problem}.")
            return False
        st.image(str(path), width=420,
                 caption=f"Generated digits at step {choice} ({grid_caption(cfg)})")
    return False


def actions_block(run, state):
    # one row of the buttons this state has, from the left (a finished run's Delete once sat
    # alone in the middle of the row, where Stop and Resume had been)
    row = st.container(horizontal=True, key="run_actions")
    if state in ACTIVE_STATES and row.button(
            "Stop", icon=":material/stop:",
            **access.locked("Stops within 2 s and keeps the last checkpoint.")) \
            and access.can_control():
        launcher.stop_run(run)
        st.toast("Stop requested")
    resumable = state in ("stopped", "interrupted", "failed")
    if resumable and row.button("Resume", icon=":material/play_arrow:", **access.locked()) \
            and access.can_control():
        try:
            launcher.resume_run(run, runs_dir(), access.max_queued())
        except launcher.QueueFull as e:
            st.error(str(e))
            return
        st.rerun()
    with row.popover("Delete", icon=":material/delete:", **access.locked()):
        st.write(f"Delete **{run.id}** and all its files? This cannot be undone.")
        if st.button("Delete for good", type="primary") and access.can_control():
            launcher.delete_run(run)
            del st.query_params["run"]
            st.rerun()


def verdict_block(summary, summaries):
    """A finished run's accuracy beside the supervised baseline's on the same labels, and what
    to do next."""
    if summary.test_acc is None:
        return
    baselines = [r for r in summaries if r.state == "finished" and r.variant == "supervised"
                 and r.labels == summary.labels and r.seed == summary.seed
                 and r.preset == summary.preset and run_length(r) == run_length(summary)
                 and r.test_acc is not None]
    if summary.variant == "supervised":
        text = (f"The baseline reads {fmt_acc(summary.test_acc)} of the test digits right "
                f"({errors_per_100(summary.test_acc)} mistakes per 100) from its "
                f"{summary.labels} labels alone.")
        st.info(text)
    elif baselines:
        base = max(baselines, key=lambda r: r.finished_at)
        text = (f"This run misreads {errors_per_100(summary.test_acc)} of every 100 test "
                f"digits; the supervised baseline on the same {summary.labels} labeled images "
                f"(seed {summary.seed}, same preset and length) "
                f"{errors_per_100(base.test_acc)} ({base.id}).")
        if summary.test_acc > base.test_acc:
            st.success(text)
        elif summary.test_acc == base.test_acc:
            st.info(text)
        else:
            st.warning(text)
    else:
        st.info(f"This run misreads {errors_per_100(summary.test_acc)} of every 100 test digits."
                f" To see what the unlabeled images bought, train the supervised baseline on "
                f"the same {summary.labels} labeled images: *Supervised*, seed {summary.seed}, "
                f"preset `{summary.preset}`, {length_text(run_length(summary))}, in **New run** "
                "above.")
    # plain links, not st.page_link: they work however the page is run (AppTest, folder mode)
    st.markdown(":material/draw: [Draw a digit for it to read](Draw) · :material/compare: "
                "[Compare it with other runs](Compare)")


def progress_view(run_id):
    """A run that is not training: where it stopped, or why it cannot be read."""
    run = run_from_id(run_id)
    if run is None:
        return
    summary = cached_summary(run)
    if not summary.usable:
        st.error(f"This run cannot be read: {plain(summary.problem)}. Its files were damaged or "
                 "written by something else; delete it, or repair the file.")
        actions_block(run, "unreadable")
        return
    progress_block(summary, run.read_metrics())


def run_view(run_id, summary, summaries):
    """The buttons, the verdict, the charts and grid: while it trains, drawn in the browser
    from the run's live feed (live_feed.py), which reruns the page when the state changes;
    afterwards, here."""
    try:
        run = resolve_run(runs_dir(), run_id)
        cfg = run.load_config()
    except (NoSuchRun, UnreadableRun):
        return  # progress_view says why
    if summary.active:
        state_messages(summary)
    actions_block(run, summary.state)
    if summary.state == "finished":
        verdict_block(summary, summaries)
    gan = is_gan_variant(summary.variant)
    if summary.active:
        live = st.container()  # the progress line and charts on top, their controls below
        smoothing, x = chart_controls()
        follow = samples_block(run, cfg, live=True) if gan else False
        with live:
            feed(run, summary.state, smoothing, x, grid_caption(cfg) if follow else None)
        from sgan_ui.room_link import show_to_room
        show_to_room(run)  # its watch-only page's link and QR code
        labeled_block(run, summary)
        return
    charts_block(run, run.read_metrics())
    if gan:
        samples_block(run, cfg)
    labeled_block(run, summary)


def insight_view(run_id):
    with page_slot():  # its reruns take turns with page runs (admission.py)
        insight_body(run_id)


def insight_body(run_id):
    run = run_from_id(run_id)
    if run is None:
        return
    try:
        cfg = run.load_config()
    except UnreadableRun:
        return  # the run's header above says why
    learning_section(run, cached_summary(run), cfg, run.read_metrics())


all_runs = runs()
new_run_form(expanded=not all_runs, summaries=all_runs)
ids = [r.id for r in all_runs]
wanted = st.query_params.get("run")
if wanted and wanted not in ids:
    run_from_id(wanted)  # shows "no such run" for ids that do not name a run directory
    wanted = None
if not ids:
    st.info("No runs yet. Open **New run** above, choose settings and press **Start training**.")
else:
    labels = {r.id: run_label(r) for r in all_runs}
    # the URL decides (a run just started or queued, a link, Back); a deleted run's id falls
    # back to the newest run the user started here (a sweep's runs come after those)
    newest = next((r.id for r in all_runs if not r.sweep), ids[0])
    st.session_state["run_pick"] = wanted or (
        st.session_state.get("run_pick") if st.session_state.get("run_pick") in ids else newest)
    run_id = st.selectbox("Run", ids, key="run_pick", format_func=labels.get,
                          on_change=lambda: st.query_params.update(
                              run=st.session_state["run_pick"]))
    if run_id != st.query_params.get("run"):
        st.query_params["run"] = run_id
    picked = next(r for r in all_runs if r.id == run_id)
    active = picked.active
    if not active:
        progress_view(run_id)
    if picked.usable:
        run_view(run_id, picked, all_runs)
    st.fragment(run_every=room_interval(INSIGHT_REFRESH_S) if active else None)(
        insight_view)(run_id)
    table = st.expander(f"All runs ({len(all_runs)})", icon=":material/table:",
                        key="all_runs", on_change="rerun")
    if table.open is not False:
        with table:
            runs_table(all_runs)
