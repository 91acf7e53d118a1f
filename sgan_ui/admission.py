"""At most PAGE_SLOTS page runs at once in this server, the others waiting their turn.

Streamlit runs each viewer's script in a thread of its own. When a room opens a page at once,
a hundred threads ran it together: they fought over Python's one interpreter lock and
Streamlit's own config lock, and every viewer waited for all of them (13.7 s for the first
render of a live Train page with 100 viewers, none within 60 s with 300; benchmarks/room.py).
Taking turns does the same work without the fight, so the first viewers are served at once and
the last no later than before; and a drawing on the Draw page (its own fragment, never held
here) competes with two page runs instead of a hundred.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

PAGE_SLOTS = 2

_slots = threading.BoundedSemaphore(PAGE_SLOTS)
_held = threading.local()


@contextmanager
def page_slot():
    """Hold one of the slots for the block; re-entered freely by the thread that holds one (a
    page's first run also runs its fragments)."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    _slots.acquire()
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        _slots.release()
