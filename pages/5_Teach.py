"""Teach page: give the model its labels yourself: draw them, label the images it picks, or
answer the images a trained run asks about, then train on them."""
from __future__ import annotations

import streamlit as st

from sgan_core.config import PRESET_MINUTES, ConfigError, make_config
from sgan_core.data import labeled as lab
from sgan_core.data.canvas import to_mnist
from sgan_core.reading.predict import model_version
from sgan_core.runs import launcher, teach
from sgan_core.runs.rundir import RunDir
from sgan_ui import access
from sgan_ui.common import phone_layout, plain, run_label, runs, runs_dir, unreadable_note
from sgan_ui.fast_canvas import st_canvas
from sgan_ui.label_keys import HELP as KEYS_HELP
from sgan_ui.label_keys import key_class, label_keys
from sgan_ui.labeling import (
    SKIP,
    answered,
    answers_path,
    asked,
    first_open,
    given,
    load_answers,
    save_answers,
    show_by_digit,
    training_images,
    typical_pick,
)
from sgan_ui.navigation import through_app

through_app()
phone_layout()
# a row of digits wraps onto a second line on a narrow screen instead of hiding 9 and skip
st.html("<style>[data-testid='stButtonGroup'] > div { flex-wrap: wrap; overflow-x: visible; }"
        "</style>")
st.title("Teach it yourself")
st.caption("Which images carry labels matters as much as how many. Give the model its labels "
           "yourself: draw them, label the images it picks, or answer what a trained run asks "
           "about; the unlabeled images are MNIST's 60,000 training images, the test stays "
           "MNIST's 10,000.")

DIGITS = [str(d) for d in range(10)]


def start(cfg, files, what: str) -> None:
    """Queue a run (host mode: only an unlocked session) and point the Train page at it."""
    if not access.can_control():
        st.error("Starting runs is locked on this server.")
        return
    try:
        run = launcher.start_run(cfg, runs_dir(), max_queued=access.max_queued(), files=files)
    except (launcher.QueueFull, ConfigError) as e:
        st.error(plain(str(e)))
        return
    st.success(f"Queued {what}: {run.id}.")
    st.page_link("pages/1_Train.py", label="Watch it train", icon=":material/monitoring:",
                 query_params={"run": run.id})


def fast_config(labels: int, **settings):
    return make_config("fast", labels=labels, max_seconds=PRESET_MINUTES["fast"] * 60,
                       **settings)


def as_answer(value):
    """A pill's value as an answer: a digit, SKIP, or None (no answer)."""
    return SKIP if value == SKIP else (int(value) if value is not None else None)


def label_grid(indices: list[int], key: str) -> dict:
    """The images at these training-set indices, each with 0-9 (or skip) to tap or type; the
    first without an answer is highlighted. Every answer is saved at once. The
    answers so far."""
    x = training_images()

    def keep(i):
        # to_dict(), not st.session_state[...]: reading an item lets a rerun already waiting
        # (another answer given meanwhile) stop this callback before it saves
        value = as_answer(st.session_state.to_dict().get(f"{key}-{i}"))
        # from the file, not this run's copy: two answers may land before the next rerun
        save_answers(runs_dir(), key, answered(load_answers(runs_dir(), key), i, value))

    # A pill shown selected whose answer is not saved: its callback was dropped (answers given
    # faster than reruns can lose one). Saved now, so what is shown is what is kept.
    saved = load_answers(runs_dir(), key)
    shown = st.session_state.to_dict()
    for i in indices:
        value = as_answer(shown.get(f"{key}-{i}"))
        if value is not None and value != saved.get(i):
            saved = answered(saved, i, value)
            save_answers(runs_dir(), key, saved)
    answers = {i: v for i, v in saved.items() if i in set(indices)}

    st.caption(KEYS_HELP)
    label_keys({i: f"{key}-{i}" for i in indices}, list(answers), key)
    now = first_open(indices, answers)
    if now is not None:  # outlined, not enlarged: no row moves under a finger as answers land
        st.html(f"<style>.{key_class(f'{key}-row-{now}')} {{ outline: 3px solid #e4572e; "
                "outline-offset: 4px; border-radius: 6px; background: #fdeee9; }</style>")
    for i in indices:  # a row each: the pills wrap on a phone instead of scrolling
        with st.container(key=f"{key}-row-{i}"):
            image, choice = st.columns([1, 7], vertical_alignment="center")
            image.image(x[i], width=56, caption=f"#{i}")
            current = answers.get(i)
            choice.pills("digit", DIGITS + [SKIP], key=f"{key}-{i}",
                         label_visibility="collapsed",
                         default=None if current is None else str(current), on_change=keep,
                         args=(i,))
    done = given(answers)
    st.caption(f"{len(done)} of {len(indices)} labeled"
               + (f", {sum(v == SKIP for v in answers.values())} skipped" if answers else "")
               + ". Saved as you go: a reload keeps them.")
    return done


def draw_tab() -> None:
    sets = lab.list_sets(runs_dir())
    name = st.selectbox("Set", sets + ["a new set…"], index=0 if sets else None,
                        placeholder="a new set…")
    if name in (None, "a new set…"):
        name = st.text_input("Name of the new set", "my digits", max_chars=60)
    try:
        path = lab.set_path(runs_dir(), name)
    except lab.LabelsError as e:
        st.error(str(e))
        return
    current = None
    if path.is_file():
        try:
            current = lab.read(path, complete=False)
        except lab.LabelsError as e:
            st.error(f"This set cannot be read: {plain(str(e))}")
            return
    drawn = st.session_state.setdefault("teach_drawn", 0)
    left, right = st.columns([1, 1])
    with left:
        canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw",
                           return_image_data=True, key=f"teach_canvas_{drawn}")
        digit = st.pills("File it as", DIGITS, key=f"teach_file_{drawn}")
        if digit is not None:
            image = to_mnist(canvas.image_data) if canvas.image_data is not None else None
            if image is None:
                st.warning("Draw a digit first, then tap its number.")
            else:
                one = lab.check(image[None], [int(digit)], complete=False)
                lab.save_set(runs_dir(), name, current.plus(one) if current else one)
                st.session_state["teach_drawn"] = drawn + 1
                st.rerun()
    with right:
        if current is None:
            st.info("Draw a digit, tap its number: it is filed in the set and saved at once.")
            return
        st.markdown(f"**{name}**: {len(current)} images")
        show_by_digit(current)
        undo, delete = st.columns(2)
        if undo.button("Undo the last", icon=":material/undo:"):
            if len(current) > 1:
                lab.save_set(runs_dir(), name, lab.LabeledSet(
                    current.images[:-1], current.labels[:-1], current.index[:-1]))
            else:
                lab.delete_set(runs_dir(), name)
            st.rerun()
        if delete.button("Delete the set", icon=":material/delete:"):
            lab.delete_set(runs_dir(), name)
            st.rerun()
    if current is not None and not current.missing_digits():
        if st.button(f"Train on these {len(current)} labels", type="primary",
                     icon=":material/play_arrow:", **access.locked()):
            cfg = teach.given_config(fast_config(len(current)), current, "drawn", name)
            start(cfg, teach.run_files(cfg, current), f"a run on your {len(current)} drawings")


def pick_tab() -> None:
    c1, c2 = st.columns(2)
    n = int(c1.number_input("How many images to label", 10, 200, 10))
    seed = int(c2.number_input("Seed", 0, 10**6, 0))
    if not st.toggle("Let it pick typical images", key="teach_pick_on"):
        st.caption("It chooses the most typical image of each of the most distinct clusters of "
                   "the training images, from the images alone: no label is read. You then "
                   "say which digit each one is.")
        return
    indices = typical_pick(n, seed)
    key = f"pick-{n}-{seed}"
    done = label_grid(indices, key)
    x = training_images()
    if not done:
        return
    chosen = lab.from_training_set(x, list(done.values()), list(done))
    missing = chosen.missing_digits()
    extra = None
    if missing:
        st.warning(f"No {', '.join(map(str, missing))} among them: draw one of each in "
                   "**Draw your labels** and add that set here.")
        sets = lab.list_sets(runs_dir())
        add = st.selectbox("Add a drawn set", [None] + sets, format_func=lambda s: s or "none")
        if add:
            try:
                extra = lab.read(lab.set_path(runs_dir(), add), complete=False)
            except lab.LabelsError as e:
                st.error(plain(str(e)))
        if extra is None or extra.plus(chosen).missing_digits():
            return
    labeled = chosen.plus(extra) if extra is not None else chosen
    if st.button(f"Train on these {len(labeled)} labels", type="primary",
                 icon=":material/play_arrow:", **access.locked()):
        cfg = teach.given_config(fast_config(len(labeled), seed=seed), labeled, "typical",
                                 add if extra is not None else None)
        start(cfg, teach.run_files(cfg, labeled), f"a run on {len(labeled)} picked labels")


def ask_tab() -> None:
    listed = runs()
    unreadable_note(listed)  # a damaged run is named, never the page's end
    ready = [r for r in listed if r.usable and r.has_classifier]
    if not ready:
        st.info("Train a run first: a run that has saved its classifier can ask.")
        return
    r = st.selectbox("Run", ready, format_func=run_label)
    count = int(st.number_input("How many questions", 1, 50, 10))
    parent = RunDir(runs_dir() / r.id)
    try:
        old = lab.read(parent.labeled_path, complete=False) if parent.labeled_path.is_file() \
            else None
    except lab.LabelsError as e:
        st.error(plain(str(e)))
        return
    if old is None:
        st.info("This run records no labeled.npz (it was trained before runs kept them): "
                "pick a newer run.")
        return
    if not st.toggle("Ask which images to label next", key="teach_ask_on"):
        st.caption("The run reads 20,000 of the images it has no label for and asks about the "
                   "ones it is least sure of, one of each kind.")
        return
    indices = asked(str(parent.path), model_version(parent), count,
                    tuple(old.index.tolist()))
    key = f"ask-{r.id}-{count}"
    done = label_grid(indices, key)
    if done and st.button(f"Teach: {r.labels} labels + {len(done)} new", type="primary",
                          icon=":material/school:", **access.locked()):
        try:
            labeled = teach.taught_set(parent, done, training_images())
            cfg = teach.child_config(parent, labeled)
        except ConfigError as e:
            st.error(plain(str(e)))
            return
        start(cfg, teach.run_files(cfg, labeled, parent), f"{r.id} taught {len(done)} more")
        answers_path(runs_dir(), key).unlink(missing_ok=True)


draw, pick, ask_ = st.tabs(["Draw your labels", "Label what it picks", "Answer what it asks"])
with draw:
    draw_tab()
with pick:
    pick_tab()
with ask_:
    ask_tab()
