"""A room labels together: the images a run asked about, one vote per viewer per image, a few
votes a minute per viewer, and a tally that flags what the host must look at before teaching.

Two files beside the runs, both written whole (files.atomic_write_json) and both read as
untrusted (RoomDamaged names what is wrong):

    .labelsets/room/room.json       {"open": bool, "run": id, "indices": [training-set index],
                                     "model": {"index": digit the run's classifier reads}}
    .labelsets/room/<run id>.json   {"votes": {"index": {"viewer": digit}},
                                     "accepted": {"index": digit the host chose}}

Off until the host opens the room (no room.json: off). Votes come from many browser sessions
of one server process: every read-modify-write holds LOCK. An image is used for teaching when
at least AGREE of its votes name one digit and that digit is the model's reading too; any other
image with votes is flagged and used only as the host accepts it.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sgan_core.data.labeled import sets_dir
from sgan_core.files import atomic_write_json
from sgan_core.runs.rundir import RUN_ID_RE

LOCK = threading.Lock()          # one read-modify-write of the room's files at a time
PER_MINUTE = 6                   # votes one viewer may give in any 60 seconds
MAX_VOTERS = 200                 # per image: keeps a file bounded however many sessions vote
MAX_IMAGES = 50
AGREE = 2 / 3                    # the share of votes a majority needs not to be a split
MAX_FILE_BYTES = 2_000_000

# what vote() returns
RECORDED, CLOSED, NOT_ASKED, ALREADY, TOO_FAST, FULL = (
    "recorded", "closed", "not asked", "already", "too fast", "full")


class RoomDamaged(ValueError):
    """A room file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Room:
    open: bool
    run: str | None
    indices: tuple[int, ...]
    model: dict[int, int]  # the run's own reading of each asked image


CLOSED_ROOM = Room(False, None, (), {})


def room_dir(runs_dir) -> Path:
    return sets_dir(runs_dir) / "room"


def state_path(runs_dir) -> Path:
    return room_dir(runs_dir) / "room.json"


def votes_path(runs_dir, run_id: str) -> Path:
    if not RUN_ID_RE.fullmatch(str(run_id)):
        raise RoomDamaged(f"{run_id!r} is not a run id")
    return room_dir(runs_dir) / f"{run_id}.json"


def _read(path: Path):
    """The JSON in path, None when there is no file; RoomDamaged when it cannot be read."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RoomDamaged(f"{path.name} is damaged: larger than {MAX_FILE_BYTES} bytes")
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as e:
        raise RoomDamaged(f"{path.name} is damaged: not readable JSON "
                          f"({type(e).__name__})") from None


def _digit(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        raise RoomDamaged(f"{where}: {value!r} is not a digit from 0 to 9")
    return value


def _index(key, where: str) -> int:
    if isinstance(key, bool) or not str(key).isdigit() or len(str(key)) > 6:
        raise RoomDamaged(f"{where}: {key!r} is not a training-set index")
    return int(key)


def _mapping(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise RoomDamaged(f"{where} is not a mapping")
    return value


# ---------- the room: open or closed, and what it asks about ----------
def load_room(runs_dir) -> Room:
    path = state_path(runs_dir)
    raw = _read(path)
    if raw is None:
        return CLOSED_ROOM
    where = f"{path.name} is damaged"
    raw = _mapping(raw, where)
    run = raw.get("run")
    if not isinstance(run, str) or not RUN_ID_RE.fullmatch(run):
        raise RoomDamaged(f"{where}: its run is {run!r}")
    indices = raw.get("indices")
    if not isinstance(indices, list) or not 0 < len(indices) <= MAX_IMAGES:
        raise RoomDamaged(f"{where}: indices is not a list of 1 to {MAX_IMAGES} images")
    indices = tuple(_index(i, where) for i in indices)
    model = {_index(k, where): _digit(v, where)
             for k, v in _mapping(raw.get("model", {}), where).items()}
    return Room(raw.get("open") is True, run, indices, model)


def open_room(runs_dir, run_id: str, indices, model: dict[int, int]) -> Room:
    """Ask the room about these images of run_id (the votes already given to it are kept)."""
    votes_path(runs_dir, run_id)  # checks the id
    indices = [int(i) for i in indices][:MAX_IMAGES]
    if not indices:
        raise ValueError("the room needs at least one image to ask about")
    with LOCK:
        atomic_write_json(state_path(runs_dir), {
            "open": True, "run": run_id, "indices": indices,
            "model": {str(int(k)): int(v) for k, v in model.items()}})
    return load_room(runs_dir)


def close_room(runs_dir) -> None:
    """Viewers may no longer vote; the host still sees the tally and may teach with it."""
    with LOCK:
        try:
            room = load_room(runs_dir)
        except RoomDamaged:
            state_path(runs_dir).unlink(missing_ok=True)  # a damaged room is a closed one
            return
        if room.open:
            atomic_write_json(state_path(runs_dir), {
                "open": False, "run": room.run, "indices": list(room.indices),
                "model": {str(k): v for k, v in room.model.items()}})


# ---------- votes ----------
@dataclass
class Votes:
    votes: dict[int, dict[str, int]]  # image -> viewer -> digit
    accepted: dict[int, int]          # flagged image -> the digit the host accepted


def load_votes(runs_dir, run_id: str) -> Votes:
    path = votes_path(runs_dir, run_id)
    raw = _read(path)
    if raw is None:
        return Votes({}, {})
    where = f"{path.name} is damaged"
    raw = _mapping(raw, where)
    votes = {}
    for key, by_viewer in _mapping(raw.get("votes", {}), where).items():
        votes[_index(key, where)] = {str(v): _digit(d, where)
                                     for v, d in _mapping(by_viewer, where).items()}
    accepted = {_index(k, where): _digit(v, where)
                for k, v in _mapping(raw.get("accepted", {}), where).items()}
    return Votes(votes, accepted)


def _save_votes(runs_dir, run_id: str, votes: Votes) -> None:
    atomic_write_json(votes_path(runs_dir, run_id), {
        "votes": {str(i): dict(v) for i, v in votes.votes.items()},
        "accepted": {str(i): d for i, d in votes.accepted.items()}})


class RateLimit:
    """At most `per_minute` events per viewer in any 60 seconds (kept in memory: the limit is
    per browser session, and a server restart forgets it)."""

    def __init__(self, per_minute: int = PER_MINUTE):
        self.per_minute = per_minute
        self._times: dict[str, deque] = {}

    def allow(self, viewer: str, now: float) -> bool:
        """Count one event for viewer now, unless that would pass the limit (then False)."""
        for who in list(self._times):  # forget everyone's events older than a minute
            times = self._times[who]
            while times and times[0] <= now - 60:
                times.popleft()
            if not times:
                del self._times[who]
        times = self._times.setdefault(viewer, deque())
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def wait_s(self, viewer: str, now: float) -> float:
        """Seconds until viewer may vote again (0 when it may now)."""
        times = self._times.get(viewer)
        if not times or len(times) < self.per_minute:
            return 0.0
        return max(0.0, times[0] + 60 - now)


LIMIT = RateLimit()  # every browser session of this server process


def vote(runs_dir, viewer: str, index: int, digit: int, now: float | None = None,
         limit: RateLimit = LIMIT) -> str:
    """Record viewer's digit for an asked image of the open room; a code (RECORDED, or why
    not). RoomDamaged when a file cannot be read (nothing is written then)."""
    digit, now = _digit(digit, "a vote"), time.time() if now is None else now
    with LOCK:
        room = load_room(runs_dir)
        if not room.open:
            return CLOSED
        if index not in room.indices:
            return NOT_ASKED
        votes = load_votes(runs_dir, room.run)
        given = votes.votes.setdefault(index, {})
        if viewer in given:
            return ALREADY
        if len(given) >= MAX_VOTERS:
            return FULL
        if not limit.allow(viewer, now):
            return TOO_FAST
        given[viewer] = digit
        _save_votes(runs_dir, room.run, votes)
    return RECORDED


def voted(runs_dir, run_id: str, viewer: str) -> set[int]:
    """The images viewer has voted on."""
    return {i for i, v in load_votes(runs_dir, run_id).votes.items() if viewer in v}


def accept(runs_dir, run_id: str, index: int, digit: int | None) -> None:
    """The host uses a flagged image as `digit` (None: not at all)."""
    with LOCK:
        votes = load_votes(runs_dir, run_id)
        if digit is None:
            votes.accepted.pop(index, None)
        else:
            votes.accepted[index] = _digit(digit, "an accepted label")
        _save_votes(runs_dir, run_id, votes)


def clear_votes(runs_dir, run_id: str) -> None:
    """Forget every vote on run_id's images (after teaching, or a damaged file)."""
    with LOCK:
        votes_path(runs_dir, run_id).unlink(missing_ok=True)


# ---------- the tally ----------
AGREED, SPLIT, MODEL_DIFFERS, NO_VOTES = "agreed", "split", "model differs", "no votes"


@dataclass(frozen=True)
class Tally:
    index: int
    counts: dict[int, int]   # digit -> votes, most voted first
    majority: int | None     # None: no votes, or a tie at the top
    model: int | None        # the run's own reading
    status: str              # AGREED, SPLIT, MODEL_DIFFERS or NO_VOTES
    accepted: int | None     # what the host accepted a flagged image as

    @property
    def votes(self) -> int:
        return sum(self.counts.values())

    @property
    def share(self) -> float:
        """The share of the votes that name the majority (0 without one)."""
        return self.counts[self.majority] / self.votes if self.majority is not None else 0.0

    @property
    def flagged(self) -> bool:
        return self.status in (SPLIT, MODEL_DIFFERS)

    @property
    def label(self) -> int | None:
        """The digit teaching uses: the agreed majority, or what the host accepted."""
        if self.status == AGREED:
            return self.majority
        return self.accepted if self.flagged else None


def tally_one(index: int, by_viewer: dict[str, int], model: int | None,
              accepted: int | None = None) -> Tally:
    counts: dict[int, int] = {}
    for d in by_viewer.values():
        counts[d] = counts.get(d, 0) + 1
    counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    top = list(counts.items())[:2]
    majority = top[0][0] if top and (len(top) == 1 or top[0][1] > top[1][1]) else None
    if not counts:
        status = NO_VOTES
    elif majority is None or counts[majority] < AGREE * sum(counts.values()):
        status = SPLIT
    elif model is not None and majority != model:
        status = MODEL_DIFFERS
    else:
        status = AGREED
    return Tally(index, counts, majority, model, status, accepted)


def tally(room: Room, votes: Votes) -> list[Tally]:
    """One Tally per asked image, in the room's order."""
    return [tally_one(i, votes.votes.get(i, {}), room.model.get(i), votes.accepted.get(i))
            for i in room.indices]


def labels_to_use(tallies: list[Tally]) -> dict[int, int]:
    """{training-set index: digit} for teaching: agreed images and accepted flagged ones."""
    return {t.index: t.label for t in tallies if t.label is not None}
