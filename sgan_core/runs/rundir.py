"""The run directory: the contract between the trainer (writer) and every reader (UI, CLI).

`<runs>/<id>/` holds config.json, status.json, metrics.jsonl, samples/step_XXXXXX.png,
insight/ (points.npz and step_XXXXXX.npz: how the model learns, see insight.py),
classifier.keras, discriminator.keras, generator.keras, ckpt/ (resume state) and TensorBoard
event files (events.out.tfevents.*).
Every file is replaced atomically, so a reader or a killed writer never sees half a file.

status.json says why a run is in its state as a fact, `why`: {"code": ..., numbers}, e.g.
{"code": "killed", "signal": 9}; the views word it (sgan_ui/words.py's status_text). `message`
holds an error's own text, and the words of runs written before `why`.
"""
from __future__ import annotations

import json
import os
import platform
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sgan_core.config import ConfigError, RunConfig
from sgan_core.files import atomic_write_bytes, atomic_write_json, read_json
from sgan_core.values import count_or_none, finite_or_none

ACTIVE_STATES = ("queued", "running")
STATES = ACTIVE_STATES + ("finished", "stopped", "failed", "interrupted")
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # always with fullmatch
HEARTBEAT_STALE_S = 30.0
MAX_PID = 2**22  # Linux's largest pid_max


def new_run_id(cfg) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{cfg.variant}-{cfg.labels}l-{cfg.preset}-s{cfg.seed}"


class RunDir:
    """Paths and readers/writers of one run directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / "config.json")
    status_path = property(lambda self: self.path / "status.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    samples_dir = property(lambda self: self.path / "samples")
    insight_dir = property(lambda self: self.path / "insight")
    insight_points_path = property(lambda self: self.path / "insight" / "points.npz")
    ckpt_dir = property(lambda self: self.path / "ckpt")
    labeled_path = property(lambda self: self.path / "labeled.npz")  # its labeled images
    init_path = property(lambda self: self.path / "init.npz")  # the parent's weights (`parent`)
    classifier_path = property(lambda self: self.path / "classifier.keras")
    discriminator_path = property(lambda self: self.path / "discriminator.keras")
    generator_path = property(lambda self: self.path / "generator.keras")
    stop_path = property(lambda self: self.path / "STOP")
    log_path = property(lambda self: self.path / "train.log")

    def exists(self) -> bool:
        return self.config_path.is_file()

    # --- config and status ---
    def read_config(self) -> dict:
        """config.json as written, unchecked (use load_config to train or predict with it)."""
        config = read_json(self.config_path, {})
        return config if isinstance(config, dict) else {}

    def load_config(self) -> RunConfig:
        """The run's config, checked; UnreadableRun saying what is wrong otherwise."""
        try:
            with open(self.config_path, "rb") as f:
                data = json.loads(f.read(1_000_000))
            return RunConfig.from_dict(data)
        except OSError as e:
            raise UnreadableRun(self, f"config.json: {e.strerror or e}") from None
        except (ValueError, RecursionError) as e:  # bad JSON, or ConfigError
            what = str(e) if isinstance(e, ConfigError) else "not valid JSON"
            raise UnreadableRun(self, f"config.json: {what}") from None

    def write_config(self, cfg_dict: dict) -> None:
        atomic_write_json(self.config_path, cfg_dict)

    def read_status(self) -> dict:
        status = read_json(self.status_path, {})
        return status if isinstance(status, dict) else {}

    def write_status(self, **fields) -> dict:
        status = self.read_status()
        status.update(fields)
        status["heartbeat"] = time.time()
        atomic_write_json(self.status_path, status)
        return status

    def effective_status(self) -> dict:
        """status.json, with a 'running' run whose process is gone reported as 'interrupted'."""
        return _effective(self.read_status())

    # --- metrics (append-only JSON lines; rows past the checkpoint are dropped on resume) ---
    def read_metrics(self) -> tuple[dict, ...]:
        """Every complete, parseable row, oldest first. Shared and cached: only the bytes
        appended since the last read are parsed, so a live page polling a long run stays cheap.
        Do not change the rows."""
        return _METRICS.read(self.metrics_path)

    def append_metrics(self, rows: list[dict]) -> None:
        if not rows:
            return
        with open(self.metrics_path, "a") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())

    def truncate_metrics(self, up_to_step: int) -> list[dict]:
        """Keep only complete rows with step <= up_to_step (used when resuming)."""
        rows = [r for r in self.read_metrics() if r.get("step", 0) <= up_to_step]
        atomic_write_bytes(self.metrics_path, "".join(json.dumps(r) + "\n" for r in rows).encode())
        return rows

    # --- samples and insight snapshots: (step, path), oldest first ---
    def sample_files(self) -> list[tuple[int, Path]]:
        return _step_files(self.samples_dir, "png")

    def insight_files(self) -> list[tuple[int, Path]]:
        return _step_files(self.insight_dir, "npz")

    # --- stop requests ---
    def request_stop(self) -> None:
        atomic_write_bytes(self.stop_path, b"stop\n")

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def clear_stop(self) -> None:
        try:
            self.stop_path.unlink()
        except FileNotFoundError:
            pass

    def summary(self, status: dict | None = None) -> "RunSummary":
        """What a runs table shows; a run whose files cannot be read gets a `problem` instead
        of crashing the page that lists it. status: status.json as read (default: read now)."""
        status = _effective(self.read_status() if status is None else status)
        problem = ""
        try:
            cfg = self.load_config()
            labels, variant, preset, seed = cfg.labels, cfg.variant, cfg.preset, cfg.seed
            steps, max_seconds, sweep, threads = cfg.steps, cfg.max_seconds, cfg.sweep, cfg.threads
            dataset, pick, labels_name, parent = cfg.dataset, cfg.pick, cfg.labels_name, cfg.parent
        except UnreadableRun as e:
            labels = variant = preset = seed = steps = max_seconds = sweep = threads = None
            dataset = pick = labels_name = parent = None
            problem = e.reason
        test_acc = status.get("test_acc")
        if test_acc is not None and not _fraction(test_acc):
            problem = problem or f"status.json: test_acc is not a fraction (found {test_acc!r:.40})"
            test_acc = None
        state = status.get("state")
        return RunSummary(
            id=self.id, labels=labels, variant=variant, preset=preset, seed=seed,
            state=state if state in STATES else "unknown",
            step=_count(status.get("step")), total_steps=_count(status.get("total_steps")) or steps,
            max_seconds=max_seconds, test_acc=test_acc, elapsed_s=_seconds(status.get("elapsed_s")),
            message=str(status.get("message", ""))[:500], why=_why(status.get("why")),
            created=_seconds(status.get("created")),
            has_classifier=self.classifier_path.is_file(), problem=problem, sweep=sweep,
            threads=threads, host=_text(status.get("host")),
            finished_at=_seconds(status.get("finished_at")), dataset=dataset, pick=pick,
            labels_name=labels_name, parent=parent)


def _step_files(folder: Path, suffix: str) -> list[tuple[int, Path]]:
    out = []
    for p in folder.glob(f"step_*.{suffix}"):
        try:
            out.append((int(p.stem.split("_")[1]), p))
        except (IndexError, ValueError):
            continue
    return sorted(out)


class UnreadableRun(ValueError):
    """A run directory whose files cannot be used; str() names the run and the reason."""

    def __init__(self, run: RunDir, reason: str):
        super().__init__(f"run {run.id}: {reason}")
        self.run, self.reason = run, reason


def _why(value) -> dict:
    """status.json's `why`, kept only if it is a code with plain facts: {} otherwise."""
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return {}
    facts = {k: v for k, v in list(value.items())[:12] if isinstance(k, str) and (
        isinstance(v, str) and len(v) <= 200 or finite_or_none(v) is not None)}
    return facts if len(facts["code"]) <= 40 else {}


def _text(value) -> str | None:
    return value[:200] if isinstance(value, str) else None


def _count(value) -> int:
    return count_or_none(value) or 0


def _seconds(value) -> float:
    return finite_or_none(value) or 0.0


def _fraction(value) -> bool:
    value = finite_or_none(value)
    return value is not None and 0 <= value <= 1


@dataclass(frozen=True)
class RunSummary:
    """What a runs table shows of one run, read from its config and status."""
    id: str
    labels: int | None
    variant: str | None
    preset: str | None
    seed: int | None
    state: str
    step: int
    total_steps: int | None
    max_seconds: float | None
    test_acc: float | None
    elapsed_s: float
    message: str
    why: dict           # the code of why it is in its state, with its facts (see above)
    created: float
    has_classifier: bool
    problem: str = ""   # why this run's files cannot be used ("config.json: labels is ...")
    sweep: str | None = None
    threads: int | None = None   # TensorFlow threads it trains with
    host: str | None = None      # the machine it last trained on
    finished_at: float = 0.0     # when it last ended (0: never)
    dataset: str | None = "mnist"  # what it learned from (config.json's dataset)
    pick: str | None = "random"    # how its labeled images were chosen (or given)
    labels_name: str | None = None  # the drawn set's or file's name
    parent: str | None = None       # the run it was taught from

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def usable(self) -> bool:
        """Readable: its config passed every check and its status values were usable (those
        that were not are already replaced by safe defaults in this summary)."""
        return not self.problem


def create_run(cfg, runs_dir, run_id: str | None = None, files: dict | None = None) -> RunDir:
    """A new run directory for cfg (a config.RunConfig) with config.json, `files` ({name:
    bytes}, e.g. its labeled.npz) and a queued status, written last."""
    run = RunDir(os.path.join(str(runs_dir), run_id or new_run_id(cfg)))
    n = 1
    while run.exists():  # two runs started within the same second
        n += 1
        run = RunDir(os.path.join(str(runs_dir), f"{run_id or new_run_id(cfg)}-{n}"))
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_config(cfg.to_dict())
    for name, data in (files or {}).items():
        atomic_write_bytes(run.path / name, data)
    run.write_status(state="queued", step=0, total_steps=cfg.steps, why={"code": "queued"},
                     created=time.time())
    return run


class _MetricsCache:
    """Rows of each metrics file read so far, by path. The trainer only appends to the file or
    replaces it whole (a resume truncates through atomic_write_bytes: a new inode), so rows
    read once stay valid while the inode is the same and the file has not shrunk."""

    MAX_FILES = 64

    def __init__(self):
        self.files: OrderedDict[str, tuple[int, int, tuple]] = OrderedDict()
        self.lock = threading.Lock()

    def read(self, path: Path) -> tuple[dict, ...]:
        try:
            st = os.stat(path)
        except OSError:
            return ()
        key = str(path)
        with self.lock:
            inode, offset, rows = self.files.pop(key, (None, 0, ()))
            if inode != st.st_ino or st.st_size < offset:
                inode, offset, rows = st.st_ino, 0, ()
            if st.st_size > offset:
                try:
                    with open(path, "rb") as f:
                        f.seek(offset)
                        data = f.read(st.st_size - offset)
                except OSError:
                    data = b""
                complete = data.rfind(b"\n") + 1  # a torn last line waits for its end
                rows += tuple(_parse_rows(data[:complete]))
                offset += complete
            self.files[key] = (inode, offset, rows)
            while len(self.files) > self.MAX_FILES:
                self.files.popitem(last=False)
            return rows


def _parse_rows(data: bytes):
    for line in data.splitlines():
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a damaged line: skip it, keep the rest
        if isinstance(row, dict) and count_or_none(row.get("step")) is not None:
            # only numbers reach the charts: a damaged value is dropped, not plotted
            yield {k: v for k, v in row.items() if finite_or_none(v) is not None}


_METRICS = _MetricsCache()


def _effective(status: dict) -> dict:
    if status.get("state") == "running" and not _trainer_alive(status):
        status = dict(status, state="interrupted", why={"code": "vanished"})
    return status


def _trainer_alive(status: dict) -> bool:
    return _process_alive(status.get("pid"), status.get("heartbeat"), status.get("host"))


def _process_alive(pid, heartbeat, host=None) -> bool:
    """Is the trainer that wrote this status still alive? Its pid decides on this machine; the
    heartbeat guards against a reused pid, and decides alone for a trainer on another machine
    (a Ray node) or one that wrote no pid."""
    beat = _seconds(heartbeat)
    age = time.time() - beat if beat else float("inf")
    if not pid or (isinstance(host, str) and host != platform.node()):
        return age < HEARTBEAT_STALE_S
    if not count_or_none(pid, MAX_PID) or pid <= 0:  # never a process group (0, negative): damaged
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except (OSError, ValueError):
        return False
    return age < 10 * HEARTBEAT_STALE_S


class NoSuchRun(LookupError):
    pass


def resolve_run(runs_dir: str | os.PathLike, run_id: str) -> RunDir:
    """The RunDir for run_id, only if it names an existing run directly under runs_dir.

    Ids from URLs and forms come through here: '../x', absolute paths, and unknown ids are
    refused before any path is built from them.
    """
    run_id = str(run_id or "")
    if not RUN_ID_RE.fullmatch(run_id) or run_id in (".", ".."):
        raise NoSuchRun(f"no such run: {run_id!r}")
    root = Path(runs_dir).resolve()
    try:  # named exactly (a case-insensitive disk would find "RUN" for "run" too)
        listed = run_id in os.listdir(root)
    except OSError:
        listed = False
    run = RunDir(root / run_id)
    if not listed or not _is_run_dir(run):  # what list_run_dirs lists, for this one alone
        raise NoSuchRun(f"no such run: {run_id!r}")
    return run


def list_run_dirs(runs_dir: str | os.PathLike) -> list[RunDir]:
    root = Path(runs_dir)
    try:
        with os.scandir(root) as entries:  # is_dir without following links: no link is a run
            runs = [RunDir(root / e.name) for e in entries
                    if RUN_ID_RE.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:  # missing, or not a folder
        return []
    return sorted((r for r in runs if r.exists()), key=lambda r: r.id)


def _is_run_dir(run: RunDir) -> bool:
    """A folder (not a link) with a config.json, named as a run: one list_run_dirs lists."""
    return bool(RUN_ID_RE.fullmatch(run.id)) and run.path.is_dir() \
        and not run.path.is_symlink() and run.exists()


def list_runs(runs_dir) -> list[RunSummary]:
    """Every run's summary, each read again only when its files changed (cached_summary)."""
    return [cached_summary(r) for r in list_run_dirs(runs_dir)]


class _SummaryCache:
    """Each run's summary by path, for every caller in this process (a page run per viewer
    listed every run: a room opening the Train page read every config and status each).

    A summary is read again when config.json, status.json or classifier.keras changed (inode,
    mtime, size: the writers replace files, a new inode each), or when one of them was modified
    within RACY_S of the last read: a second change in the same timestamp tick would otherwise
    go unseen (as git's "racily clean" entries). A running run's liveness is checked on every
    call, from the status as read: a killed trainer changes no file."""

    MAX_RUNS = 4096
    RACY_S = 1.0

    def __init__(self):
        self.runs: OrderedDict[str, tuple] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, run: RunDir) -> RunSummary:
        key = str(run.path)
        version = _version(run)
        with self.lock:
            entry = self.runs.get(key)
        if entry is None or entry[0] != version:
            now = time.time_ns()
            status = run.read_status()
            summary = run.summary(status)
            fresh = all(v is None or v[1] < now - self.RACY_S * 1e9 for v in version)
            entry = ((version if fresh else None), summary, status)
        elif entry[1].state == "running" and not _trainer_alive(entry[2]):
            entry = (entry[0], run.summary(entry[2]), entry[2])  # vanished since: no file says
        with self.lock:
            self.runs[key] = entry
            self.runs.move_to_end(key)
            while len(self.runs) > self.MAX_RUNS:
                self.runs.popitem(last=False)
        return entry[1]


def _version(run: RunDir) -> tuple:
    out = []
    for path in (run.config_path, run.status_path, run.classifier_path):
        try:
            st = os.stat(path)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


_SUMMARIES = _SummaryCache()


def cached_summary(run: RunDir) -> RunSummary:
    """run.summary(), read again only when the run's files changed (_SummaryCache): shared by
    every caller in this process."""
    return _SUMMARIES.get(run)
