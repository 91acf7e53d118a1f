"""Room page: everyone in the room labels the images a run asked about, one at a time on a
phone; the host sees the votes arrive, looks at the ones the room or the model disagree on,
and teaches the run with the labels they accept (sgan_core/runs/room.py keeps the votes)."""
from __future__ import annotations

import time
import uuid

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from sgan_core.config import ConfigError
from sgan_core.data import labeled as lab
from sgan_core.data.mnist import scale_images
from sgan_core.reading.predict import ModelLoadError, model_version
from sgan_core.runs import launcher, room, teach
from sgan_core.runs.rundir import RunDir, UnreadableRun
from sgan_ui import access
from sgan_ui.common import phone_layout, plain, run_label, runs, runs_dir, unreadable_note
from sgan_ui.live_feed import room_interval
from sgan_ui.navigation import through_app

through_app()
phone_layout()
# the keypad stays three keys wide on a phone (Streamlit stacks columns below 640 px), and a
# row of digits wraps instead of hiding 9
st.html("""<style>
.st-key-room_keys { max-width: 420px; }
.st-key-room_keys [data-testid="stHorizontalBlock"] { flex-wrap: nowrap; gap: 0.5rem; }
.st-key-room_keys [data-testid="stColumn"] { min-width: 0 !important; flex: 1 1 0 !important; }
.st-key-room_keys button { min-height: 3.6rem; }
.st-key-room_keys button p { font-size: 1.6rem; }
[data-testid="stButtonGroup"] > div { flex-wrap: wrap; overflow-x: visible; }
</style>""")
st.title("Label with the room")
st.caption("The run asked which images it is least sure of. Say which digit each one is: the "
           "host sees every answer and teaches the run with the ones the room agrees on.")

KEYPAD = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
BIG = 10  # each pixel shown as BIG x BIG: 280 px, sharp
SAID = {room.ALREADY: "You have labeled this image already.",
        room.CLOSED: "Room labeling is off now.",
        room.NOT_ASKED: "The room asks about other images now.",
        room.FULL: "This image has all the votes it can take."}


def viewer_id() -> str:
    """This browser session, as the votes know it (a reload is a new session)."""
    return st.session_state.setdefault("room_viewer", uuid.uuid4().hex)


def training_images():
    from sgan_ui.labeling import training_images as images  # MNIST, loaded once per server
    return images()


def load_room() -> room.Room | None:
    try:
        return room.load_room(runs_dir())
    except room.RoomDamaged as e:
        st.error(f"Room labeling cannot be read: {plain(str(e))}. The host can turn it off "
                 "and on again.", icon=":material/error:")
        return None


def show_said(key: str) -> None:
    """What the last button's handler said (handlers run before the page is drawn)."""
    kind, text = st.session_state.pop(key, (None, None))
    if kind:
        getattr(st, kind)(text)


# ---------- a viewer: one image at a time ----------
def cast(index: int, digit: int) -> None:
    try:
        said = room.vote(runs_dir(), viewer_id(), index, digit)
    except room.RoomDamaged as e:
        st.session_state["room_said"] = ("error", f"Not recorded: {plain(str(e))}.")
        return
    if said == room.TOO_FAST:
        wait = max(1, round(room.LIMIT.wait_s(viewer_id(), time.time())))
        st.session_state["room_said"] = ("warning", f"Too fast: at most {room.LIMIT.per_minute} "
                                         f"labels a minute each. Try again in {wait} s.")
        return
    st.session_state["room_said"] = (("success", f"Thanks: recorded as {digit}.")
                                     if said == room.RECORDED else ("warning", SAID[said]))


def skip(index: int) -> None:
    st.session_state.setdefault("room_skipped", set()).add(index)


def wait_for_the_room() -> None:
    """Polled while the room is off: the page comes back by itself when the host opens it."""
    try:
        if room.load_room(runs_dir()).open:
            st.rerun()
    except room.RoomDamaged:
        pass


def viewer_view(state: room.Room) -> None:
    if not state.open:
        show_said("room_said")
        st.info("Room labeling is off. When the host turns it on, the images to label appear "
                "here.", icon=":material/pause_circle:")
        st.fragment(run_every=room_interval(5.0))(wait_for_the_room)()
        return
    try:
        done = room.voted(runs_dir(), state.run, viewer_id())
    except room.RoomDamaged as e:
        st.error(f"The votes cannot be read: {plain(str(e))}.")
        return
    skipped = st.session_state.get("room_skipped", set())
    left = [i for i in state.indices if i not in done and i not in skipped]
    if not left:
        show_said("room_said")
        st.success(f"You have answered all {len(state.indices)} images. Thank you!")
        if skipped - done and st.button("Show the skipped ones again", icon=":material/undo:"):
            st.session_state["room_skipped"] = set()
            st.rerun()
        return
    index = left[0]
    st.caption(f"Image {len(state.indices) - len(left) + 1} of {len(state.indices)}: which "
               "digit is it?")
    image = training_images()[index]
    st.image(np.kron(image, np.ones((BIG, BIG), np.uint8)), width=28 * BIG)
    with st.container(key="room_keys"):
        for row in KEYPAD + [[None, 0, "skip"]]:
            for column, key in zip(st.columns(3), row):
                if key == "skip":
                    column.button("skip", key="room_skip", on_click=skip, args=(index,),
                                  width="stretch")
                elif key is not None:
                    column.button(str(key), key=f"room_digit_{key}", on_click=cast,
                                  args=(index, key), width="stretch")
    show_said("room_said")  # under the keys, where the thumb is


# ---------- the host: turn it on and off, the tally, teach ----------
def readings(run: RunDir, indices: list[int]) -> dict[int, int]:
    """The run's own reading of each image (its classifier, in NumPy)."""
    from sgan_core.reading.predict import load_classifier, numpy_function
    forward = numpy_function(load_classifier(run.classifier_path))
    x = scale_images(training_images()[indices], run.load_config().input_range)
    return dict(zip(indices, np.asarray(forward(x)).argmax(axis=1).tolist()))


def switch(key: str) -> None:
    """The toggle: open the room on the chosen run's questions, or close it."""
    if not access.can_control():  # a disabled toggle is only a hint to the browser
        st.session_state["room_host_said"] = ("error", "Room labeling is locked on this server.")
        return
    if not st.session_state.get(key):
        room.close_room(runs_dir())
        return
    try:
        run = RunDir(runs_dir() / st.session_state["room_run"])
        old = lab.read(run.labeled_path, complete=False)
        from sgan_ui.labeling import asked
        indices = asked(str(run.path), model_version(run), int(st.session_state["room_count"]),
                        tuple(old.index.tolist()))
        room.open_room(runs_dir(), run.id, indices, readings(run, indices))
    except (KeyError, lab.LabelsError, ModelLoadError, UnreadableRun, room.RoomDamaged,
            ValueError) as e:
        st.session_state[key] = False
        st.session_state["room_host_said"] = ("error", f"Cannot open the room: {plain(str(e))}")


def accept(run_id: str, index: int) -> None:
    if not access.can_control():
        st.session_state["room_host_said"] = ("error", "Accepting labels is locked.")
        return
    value = st.session_state.get(f"room_accept_{index}")
    room.accept(runs_dir(), run_id, index, None if value is None else int(value))


def start_over(run_id: str) -> None:
    if access.can_control():
        room.clear_votes(runs_dir(), run_id)


def teach_with_room(run_id: str) -> None:
    """Queue the child run: the parent's labels plus the room's labels the host accepts, read
    again from disk here (never from what a page showed)."""
    if not access.can_control():
        st.session_state["room_host_said"] = ("error", "Starting runs is locked on this server.")
        return
    try:
        state = room.load_room(runs_dir())
        used = room.labels_to_use(room.tally(state, room.load_votes(runs_dir(), run_id)))
        if state.run != run_id or not used:
            raise ConfigError("the room has no labels to teach with")
        parent = RunDir(runs_dir() / run_id)
        labeled = teach.taught_set(parent, used, training_images())
        cfg = teach.child_config(parent, labeled)
        child = launcher.start_run(cfg, runs_dir(), max_queued=access.max_queued(),
                                   files=teach.run_files(cfg, labeled, parent))
    except (room.RoomDamaged, ConfigError, launcher.QueueFull, lab.LabelsError, OSError) as e:
        st.session_state["room_host_said"] = ("error", f"Not started: {plain(str(e))}")
        return
    room.close_room(runs_dir())
    room.clear_votes(runs_dir(), run_id)
    st.session_state["room_taught"] = child.id
    st.session_state["room_host_said"] = ("success", f"Queued {child.id}: {run_id} taught "
                                          f"{len(used)} labels from the room.")


def describe(t: room.Tally) -> str:
    if not t.votes:
        return "no vote yet"
    counts = ", ".join(f"{d}: {n}" for d, n in t.counts.items())
    model = "" if t.model is None else f" · the model reads {t.model}"
    agree = f"**{t.majority}**, {t.share:.0%} agree" if t.majority is not None else \
        "**no majority**"
    return f"{agree} · {t.votes} vote{'s' if t.votes > 1 else ''} ({counts}){model}"


def tally_view(state: room.Room, parent_labels: int | None) -> None:
    try:  # turned off by Teach, or by another host session: the whole page follows
        if room.load_room(runs_dir()) != state:
            st.rerun()
    except room.RoomDamaged:
        st.rerun()
    show_said("room_host_said")
    st.markdown(f"Answers about the images **{plain(state.run)}** asked for"
                + (", arriving live:" if state.open else ":"))
    if st.session_state.get("room_taught"):
        try:
            st.page_link("pages/1_Train.py", label="Watch it train",
                         icon=":material/monitoring:",
                         query_params={"run": st.session_state["room_taught"]})
        except StreamlitPageNotFoundError:  # the page run alone (AppTest), without app.py
            pass
    try:
        tallies = room.tally(state, room.load_votes(runs_dir(), state.run))
    except room.RoomDamaged as e:
        st.error(f"The votes cannot be read: {plain(str(e))}.")
        st.button("Start the votes over", on_click=start_over, args=(state.run,),
                  icon=":material/delete:")
        return
    voted = [t for t in tallies if t.votes]
    flagged = [t for t in voted if t.flagged]
    st.markdown(f"**{sum(t.votes for t in voted)} votes** on {len(voted)} of "
                f"{len(tallies)} images: {len(voted) - len(flagged)} agreed, "
                f"{len(flagged)} flagged ({sum(t.accepted is not None for t in flagged)} "
                "accepted).")
    x = training_images()
    for t in sorted(voted, key=lambda t: not t.flagged):  # the ones to look at first
        image, words = st.columns([1, 6], vertical_alignment="center")
        image.image(x[t.index], width=56, caption=f"#{t.index}")
        words.markdown(describe(t) + (f" · :orange[{t.status}]" if t.flagged else
                                      " · :green[used]"))
        if t.flagged:
            words.pills("Use it as", [str(d) for d in range(10)], key=f"room_accept_{t.index}",
                        default=None if t.accepted is None else str(t.accepted),
                        on_change=accept, args=(state.run, t.index),
                        help="A flagged image is used only as you say: pick its digit.")
    if len(voted) < len(tallies):
        st.caption(f"{len(tallies) - len(voted)} images have no vote yet.")
    used = room.labels_to_use(tallies)
    st.button(f"Teach: {parent_labels} labels + {len(used)} from the room", type="primary",
              icon=":material/school:", on_click=teach_with_room, args=(state.run,),
              **(access.locked() if used else {"disabled": True}))


def host_view(state: room.Room | None) -> None:
    st.divider()
    st.subheader("For the host")
    if not access.can_control():
        show_said("room_host_said")
        st.caption("The host (with the password, in the sidebar) turns room labeling on, sees "
                   "the answers arrive and teaches the run with the ones they accept.")
        return
    listed = runs()
    unreadable_note(listed)
    ready = [r for r in listed if r.usable and r.has_classifier]
    if not ready:
        st.info("Train a run first: a run that has saved its classifier can ask the room.")
        return
    ids = [r.id for r in ready]
    current = state.run if state is not None and state.run in ids else ids[0]
    is_open = state is not None and state.open
    picked = st.selectbox("Run that asks", ready, index=ids.index(current),
                          format_func=run_label, disabled=is_open)
    st.session_state["room_run"] = picked.id
    st.number_input("How many images", 1, room.MAX_IMAGES, 10, key="room_count",
                    disabled=is_open)
    key = f"room_on_{is_open}"
    st.toggle("Room labeling on: viewers label these images", value=is_open, key=key,
              on_change=switch, args=(key,), **access.locked())
    if state is None or state.run is None:
        show_said("room_host_said")
        return
    parent = next((r.labels for r in listed if r.id == state.run), None)
    st.fragment(run_every=room_interval(3.0) if is_open else None)(tally_view)(state, parent)


state = load_room()
if state is not None:
    viewer_view(state)
host_view(state)
