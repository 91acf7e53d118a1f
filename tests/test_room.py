"""A room labels together (issue 44): one vote per viewer per image, a few votes a minute, the
tally that flags splits and disagreements with the model, damaged room files, and the Room page
in host mode (a viewer votes; only an unlocked session turns it on or teaches)."""
import json
import shutil
import threading

import numpy as np
import pytest

from sgan_core.data import labeled as lab
from sgan_core.data.mnist import SHIPPED_MNIST
from sgan_core.reading.predict import SHIPPED_MODEL_DIR
from sgan_core.runs import launcher, room
from sgan_core.runs.rundir import list_runs

from conftest import page_text, run_page

PAGE = "pages/6_Room.py"
HOST = {"SGAN_ADMIN_PASSWORD": "s3cret"}
ASKED = [1000, 1001, 1002, 1003, 1004, 1005, 1006]


# ---------- the rate limit ----------
def test_a_viewer_gets_a_few_votes_a_minute():
    limit = room.RateLimit(per_minute=6)
    assert all(limit.allow("a", 100 + i) for i in range(6))
    assert not limit.allow("a", 110) and limit.wait_s("a", 110) == pytest.approx(50)
    assert limit.allow("b", 110)  # each viewer has their own
    assert not limit.allow("a", 159.9) and limit.allow("a", 160.5)


# ---------- votes ----------
def test_one_vote_per_viewer_per_image_and_refused_when_closed_or_too_fast(runs_dir):
    assert room.load_room(runs_dir) == room.CLOSED_ROOM  # off by default
    assert room.vote(runs_dir, "v", ASKED[0], 3) == room.CLOSED
    room.open_room(runs_dir, "parent", ASKED, {})
    limit = room.RateLimit(per_minute=6)
    assert room.vote(runs_dir, "v", ASKED[0], 3, now=0, limit=limit) == room.RECORDED
    assert room.vote(runs_dir, "v", ASKED[0], 5, now=1, limit=limit) == room.ALREADY
    assert room.vote(runs_dir, "v", 7, 5, now=1, limit=limit) == room.NOT_ASKED
    said = [room.vote(runs_dir, "v", i, 1, now=2, limit=limit) for i in ASKED[1:]]
    assert said == [room.RECORDED] * 5 + [room.TOO_FAST]  # 6 a minute, the refused one too
    assert room.voted(runs_dir, "parent", "v") == set(ASKED[:6])
    assert room.load_votes(runs_dir, "parent").votes[ASKED[0]] == {"v": 3}
    room.close_room(runs_dir)
    assert not room.load_room(runs_dir).open and room.load_room(runs_dir).run == "parent"
    assert room.vote(runs_dir, "w", ASKED[0], 3) == room.CLOSED


def test_votes_from_many_sessions_at_once_are_all_kept(runs_dir):
    room.open_room(runs_dir, "parent", ASKED, {})
    limit = room.RateLimit()
    threads = [threading.Thread(target=room.vote, args=(runs_dir, f"v{n}", ASKED[0], n % 10),
                                kwargs={"limit": limit}) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(room.load_votes(runs_dir, "parent").votes[ASKED[0]]) == 40


# ---------- the tally ----------
@pytest.mark.parametrize("votes, model, status, label", [
    ({"a": 7, "b": 7, "c": 7}, 7, room.AGREED, 7),
    ({"a": 7, "b": 7, "c": 1}, 7, room.AGREED, 7),           # two thirds agree
    ({"a": 7, "b": 1}, 7, room.SPLIT, None),                 # a tie
    ({"a": 7, "b": 7, "c": 1, "d": 2}, 7, room.SPLIT, None),  # half is not enough
    ({"a": 4, "b": 4}, 9, room.MODEL_DIFFERS, None),
    ({"a": 4}, None, room.AGREED, 4),                        # no reading: the room alone
    ({}, 3, room.NO_VOTES, None),
])
def test_the_tally_flags_splits_and_disagreement_with_the_model(votes, model, status, label):
    t = room.tally_one(5, votes, model)
    assert (t.status, t.label, t.votes) == (status, label, len(votes))
    assert t.flagged == (status in (room.SPLIT, room.MODEL_DIFFERS))


def test_a_flagged_image_is_used_only_as_the_host_accepts_it(runs_dir):
    room.open_room(runs_dir, "parent", ASKED[:3], {ASKED[0]: 1, ASKED[1]: 2, ASKED[2]: 3})
    for viewer, (i, d) in enumerate([(0, 1), (0, 1), (1, 5), (1, 6)]):
        room.vote(runs_dir, str(viewer), ASKED[i], d)
    tallies = room.tally(room.load_room(runs_dir), room.load_votes(runs_dir, "parent"))
    assert [t.status for t in tallies] == [room.AGREED, room.SPLIT, room.NO_VOTES]
    assert tallies[0].share == 1.0 and tallies[1].majority is None
    assert room.labels_to_use(tallies) == {ASKED[0]: 1}
    room.accept(runs_dir, "parent", ASKED[1], 6)
    tallies = room.tally(room.load_room(runs_dir), room.load_votes(runs_dir, "parent"))
    assert room.labels_to_use(tallies) == {ASKED[0]: 1, ASKED[1]: 6}


# ---------- damaged files ----------
@pytest.mark.parametrize("text, reason", [
    ("{not json", "not readable JSON"),
    ("[1, 2]", "is not a mapping"),
    ('{"votes": {"1000": {"v": 12}}}', "12 is not a digit"),
    ('{"votes": {"../x": {"v": 1}}}', "is not a training-set index"),
    ('{"votes": {"1000": [1]}}', "is not a mapping"),
])
def test_a_damaged_votes_file_is_named_and_left_alone(runs_dir, text, reason):
    room.open_room(runs_dir, "parent", ASKED, {})
    path = room.votes_path(runs_dir, "parent")
    path.write_text(text)
    with pytest.raises(room.RoomDamaged, match=reason) as e:
        room.load_votes(runs_dir, "parent")
    assert "parent.json is damaged" in str(e.value)
    with pytest.raises(room.RoomDamaged):
        room.vote(runs_dir, "v", ASKED[0], 1)
    assert path.read_text() == text  # nothing written over it
    room.clear_votes(runs_dir, "parent")
    assert room.vote(runs_dir, "v", ASKED[0], 1) == room.RECORDED


def test_a_damaged_room_file_is_named_and_closing_removes_it(runs_dir):
    room.state_path(runs_dir).parent.mkdir(parents=True)
    for text in ("", '{"open": true, "run": "../x", "indices": [1]}',
                 '{"open": true, "run": "r", "indices": []}'):
        room.state_path(runs_dir).write_text(text)
        with pytest.raises(room.RoomDamaged, match="room.json is damaged"):
            room.load_room(runs_dir)
    room.close_room(runs_dir)
    assert room.load_room(runs_dir) == room.CLOSED_ROOM
    with pytest.raises(room.RoomDamaged, match="not a run id"):
        room.votes_path(runs_dir, "../../etc")


# ---------- the Room page ----------
@pytest.fixture(scope="module")
def parent_template(tmp_path_factory):
    """A runs directory holding 'parent': the shipped model with 20 labeled training images
    and a checkpoint to start a child from (its bytes are never trained on here)."""
    runs = tmp_path_factory.mktemp("room_runs")
    parent = runs / "parent"
    shutil.copytree(SHIPPED_MODEL_DIR, parent)
    with np.load(SHIPPED_MNIST) as f:
        x, y = f["x_train"], f["y_train"]
    index = np.array([int(np.flatnonzero(y[:900] == d)[k]) for d in range(10) for k in (0, 1)])
    (parent / "labeled.npz").write_bytes(lab.from_training_set(x, y[index], index).to_bytes())
    (parent / "ckpt").mkdir()
    np.savez(parent / "ckpt" / "state.npz", w=np.zeros(3))
    config = json.loads((parent / "config.json").read_text())
    (parent / "config.json").write_text(json.dumps({**config, "labels": 20}))
    return runs, {i: int(y[i]) for i in ASKED}


@pytest.fixture
def room_runs(parent_template, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(parent_template[0], runs)
    return runs, parent_template[1]


def buttons(at, label):
    return [b for b in at.button if b.label == label]


def as_host(at, unlocked=True):
    at.session_state["_host_unlocked"] = unlocked
    return at.run()


def test_the_room_is_off_until_the_host_turns_it_on(room_runs, monkeypatch):
    runs, truth = room_runs
    at = run_page(PAGE, runs, monkeypatch, **HOST)
    assert not at.exception, at.exception
    assert "Room labeling is off" in page_text(at)
    assert not at.toggle and not buttons(at, "7")  # a viewer sees no switch and no keypad
    from sgan_ui import labeling
    monkeypatch.setattr(labeling, "asked", lambda *a: ASKED[:3])
    at = as_host(at)  # the host's session: the switch, then locked again before it is used
    switch = at.toggle[0]
    assert not switch.disabled and not switch.value
    at.session_state["_host_unlocked"] = False
    at = switch.set_value(True).run()
    assert not at.exception, at.exception
    assert "Room labeling is locked on this server." in page_text(at)
    assert not room.state_path(runs).exists()
    at = as_host(at)  # unlocked: it opens, asking about the run's images with its readings
    at = at.toggle[0].set_value(True).run()
    assert not at.exception, at.exception
    state = room.load_room(runs)
    assert state.open and state.run == "parent" and state.indices == tuple(ASKED[:3])
    assert sorted(state.model) == ASKED[:3]
    assert sum(state.model[i] == truth[i] for i in ASKED[:3]) >= 2  # a 99% model reads them


def test_a_viewer_labels_one_image_at_a_time(room_runs, monkeypatch):
    runs, truth = room_runs
    room.open_room(runs, "parent", ASKED[:2], truth)
    monkeypatch.setattr(room, "LIMIT", room.RateLimit())
    at = run_page(PAGE, runs, monkeypatch, **HOST)
    assert not at.exception, at.exception
    assert "Image 1 of 2: which digit is it?" in page_text(at)
    at = buttons(at, str(truth[ASKED[0]]))[0].click().run()
    assert not at.exception, at.exception
    assert f"Thanks: recorded as {truth[ASKED[0]]}." in page_text(at)
    assert "Image 2 of 2" in page_text(at)
    viewer = at.session_state["room_viewer"]
    assert room.load_votes(runs, "parent").votes == {ASKED[0]: {viewer: truth[ASKED[0]]}}
    at = buttons(at, "skip")[0].click().run()
    assert "You have answered all 2 images" in page_text(at)
    assert room.voted(runs, "parent", viewer) == {ASKED[0]}


def test_a_viewer_past_the_limit_is_told_to_slow_down(room_runs, monkeypatch):
    runs, truth = room_runs
    room.open_room(runs, "parent", ASKED, truth)
    monkeypatch.setattr(room, "LIMIT", room.RateLimit())
    at = run_page(PAGE, runs, monkeypatch, **HOST)
    for _ in range(7):
        at = buttons(at, "1")[0].click().run()
    assert "Too fast: at most 6 labels a minute each. Try again in" in page_text(at)
    assert "Image 7 of 7" in page_text(at)
    assert sum(len(v) for v in room.load_votes(runs, "parent").votes.values()) == 6


def test_only_an_unlocked_host_teaches_with_the_room(room_runs, monkeypatch):
    runs, truth = room_runs
    room.open_room(runs, "parent", ASKED[:3], truth)
    first, second, third = ASKED[:3]
    for viewer, (i, d) in enumerate([(first, truth[first]), (first, truth[first]),
                                     (second, truth[second]), (second, (truth[second] + 1) % 10),
                                     (third, (truth[third] + 1) % 10)]):
        room.vote(runs, f"v{viewer}", i, d)
    monkeypatch.setattr(launcher, "ensure_worker", lambda *a, **k: None)  # nothing trains
    at = as_host(run_page(PAGE, runs, monkeypatch, **HOST))
    assert not at.exception, at.exception
    text = page_text(at)
    assert "5 votes** on 3 of 3 images: 1 agreed, 2 flagged (0 accepted)" in text
    assert "split" in text and "model differs" in text
    teach = buttons(at, "Teach: 20 labels + 1 from the room")[0]
    assert not teach.disabled
    at.session_state["_host_unlocked"] = False  # a viewer's session cannot start it
    at = teach.click().run()
    assert "Starting runs is locked on this server." in page_text(at)
    assert [r.id for r in list_runs(runs)] == ["parent"]
    at = as_host(at)
    at = at.pills(key=f"room_accept_{second}").set_value(str(truth[second])).run()
    at = buttons(at, "Teach: 20 labels + 2 from the room")[0].click().run()
    assert not at.exception, at.exception
    child = next(r for r in list_runs(runs) if r.id != "parent")
    assert child.state == "queued" and child.parent == "parent" and child.labels == 22
    taught = lab.read(runs / child.id / "labeled.npz", complete=False)
    added = dict(zip(taught.index.tolist()[20:], taught.labels.tolist()[20:]))
    assert added == {first: truth[first], second: truth[second]}  # not the disputed third
    assert not room.load_room(runs).open and not room.votes_path(runs, "parent").exists()
