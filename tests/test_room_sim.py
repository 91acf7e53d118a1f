"""benchmarks/room.py's simulated phones read the feed's stream as a browser does: each chunk
the server sends is whole events, unpacked once for the whole simulated room."""
import zlib

import pytest

from benchmarks.room import _shared_events
from sgan_ui.feed_hub import KEEP_ALIVE, Event


def test_a_chunk_of_deflated_events_reads_as_those_events_in_order():
    full = Event(1, "full", {"version": 1, "grid": {"src": "/feed/a/grid-1.png"}})
    patch = Event(2, "patch", {"version": 2})
    events = _shared_events(full.gz + patch.gz)
    assert events == [(b"full", {"version": 1, "grid": {"src": "/feed/a/grid-1.png"}}),
                      (b"patch", {"version": 2})]
    assert _shared_events(full.gz + patch.gz) is events  # the second phone's read is shared


def test_a_keep_alive_is_no_event_and_a_cut_event_is_an_error():
    assert _shared_events(KEEP_ALIVE.gz) == []
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    cut = c.compress(b"id: 3\nevent: patch\ndata: {\"version\"") + c.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(ValueError):
        _shared_events(cut)
