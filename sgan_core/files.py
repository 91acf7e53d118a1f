"""Files written whole or not at all: a reader, or a writer killed mid-write, never sees half
a file. Every file of a run directory and of a person's labeled sets is written this way.
And lock files, which one process at a time holds."""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True).encode())


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return default


def try_lock(path, wait_s: float):
    """The open lock file at path, held exclusively (flock) by this process; None if another
    holds it for wait_s. Unlock by closing it (or fcntl.flock(f, LOCK_UN))."""
    f = open(path, "a")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() >= deadline:
                f.close()
                return None
            time.sleep(0.2)
