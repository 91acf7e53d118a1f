"""Each live run's feed kept in memory for every viewer: the whole feed once per change, the
change itself as a small patch, both encoded once and sent as they are to every connection
(sgan_ui/feed_routes.py streams them; sgan_ui/live_feed.py's publisher fills them).

No HTTP and no Streamlit here. A `Channel` is written by the publisher's thread and read on
the server's event loop: the writer wakes the loop's waiters with call_soon_threadsafe.

Events are server-sent events (`id: SEQ`, `event: full|patch`, `data: JSON`). Each is also
deflated once, on its own (a fresh compressor, flushed to a byte boundary): the deflated
events of any sequence, after a gzip header, form a valid gzip stream (one that never ends:
a viewer's stream is open until it leaves), so a thousand viewers share the compression of
each event instead of running a compressor each.
"""
from __future__ import annotations

import asyncio
import collections
import gzip
import json
import threading
import zlib

HISTORY = 32          # patches kept: a viewer further behind gets the whole feed again
MAX_CHANNELS = 64     # past this many runs' feeds, those of ended runs nobody watches go
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
ARRAYS = ("x", "y", "x_elapsed_s")  # the parts of a trace that grow as a run trains


def deflated(data: bytes) -> bytes:
    """data as raw deflate blocks ending on a byte boundary, no final block: a segment that
    may follow any other such segment in one stream."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


class Event:
    """One server-sent event, plain and deflated."""

    __slots__ = ("seq", "raw", "gz")

    def __init__(self, seq: int, kind: str, body: dict | None):
        self.seq = seq
        head = f"id: {seq}\nevent: {kind}\n" if body is not None else ""
        data = f"data: {json.dumps(body, separators=(',', ':'))}\n\n" if body is not None \
            else ": keep-alive\n\n"
        self.raw = (head + data).encode()
        self.gz = deflated(self.raw)


KEEP_ALIVE = Event(0, "", None)  # a comment line: keeps proxies and the browser connected


def _prefix(old: list, new: list) -> int:
    n = min(len(old), len(new))
    i = 0
    while i < n and old[i] == new[i]:
        i += 1
    return i


def _same_shape(old: dict, new: dict) -> bool:
    """Same layout and the same traces but for their growing arrays?"""
    if old.get("layout") != new.get("layout") or len(old["data"]) != len(new["data"]):
        return False
    return all({k: v for k, v in a.items() if k not in ARRAYS} ==
               {k: v for k, v in b.items() if k not in ARRAYS}
               for a, b in zip(old["data"], new["data"]))


def diff(old: dict, new: dict) -> dict:
    """What changed from feed old to feed new: the top-level values that differ, a chart that
    changed shape whole (`charts`: {index: spec}), and for each other trace that changed, the
    points kept and those that follow (`traces`: [chart, trace, kept, {array: new tail}])."""
    out = {k: v for k, v in new.items() if k != "charts" and old.get(k) != v}
    charts, traces = {}, []
    for c, (a, b) in enumerate(zip(old.get("charts", []), new["charts"])):
        if not _same_shape(a, b):
            charts[str(c)] = b
            continue
        for t, (ta, tb) in enumerate(zip(a["data"], b["data"])):
            keep = min(_prefix(ta.get(k, []), tb.get(k, [])) for k in ARRAYS if k in tb)
            if any(len(tb[k]) != keep or len(ta.get(k, [])) != keep for k in ARRAYS if k in tb):
                traces.append([c, t, keep, {k: tb[k][keep:] for k in ARRAYS if k in tb}])
    for c in range(len(old.get("charts", [])), len(new["charts"])):
        charts[str(c)] = new["charts"][c]
    if charts:
        out["charts"] = charts
    if traces:
        out["traces"] = traces
    return out


class Channel:
    """One run's feed: the latest whole feed and the patches that led to it, each an Event,
    and the latest grid's PNG. Written by one thread, read by the event loop."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seq, self.feed, self.full = 0, None, None
        self.patches: collections.deque[Event] = collections.deque(maxlen=HISTORY)
        self.grid: tuple[int, bytes] | None = None
        self.ended = False          # the run stopped: the last feed is final
        self.closed = False         # the server is stopping: every stream ends
        self.viewers = 0            # connections streaming now (their state is theirs alone)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future | None = None
        self._snapshot: tuple[int, tuple[bytes, bytes]] | None = None

    def update(self, feed: dict, ended: bool = False) -> bool:
        """Publish a new feed (from any thread); False if it is the one already published."""
        with self.lock:
            if feed == self.feed and ended == self.ended:
                return False
            seq = self.seq + 1
            if self.feed is not None:
                patch = diff(self.feed, feed)
                patch["seq"] = seq
                self.patches.append(Event(seq, "patch", patch))
            self.full = Event(seq, "full", dict(feed, seq=seq))
            self.seq, self.feed, self.ended = seq, feed, ended
            loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # that loop is closed (a server stopped): nobody waits
                pass
        return True

    def events_after(self, seen: int) -> list[Event]:
        """What a viewer who has seen seq `seen` needs next: the patches since, or the whole
        feed when it has none or they are no longer kept."""
        with self.lock:
            if seen == self.seq:
                return []
            since = [e for e in self.patches if e.seq > seen]
            if seen and since and since[0].seq == seen + 1 and since[-1].seq == self.seq:
                return since
            return [self.full] if self.full else []

    def changed(self, seen: int) -> asyncio.Future:
        """A future of the running loop, done at the next update (at once if seq `seen` is
        no longer the latest): shared by every waiter."""
        loop = asyncio.get_running_loop()
        with self.lock:
            if self._loop is not loop:
                self._loop, self._next = loop, None
            if self.seq != seen:
                done = loop.create_future()
                done.set_result(None)
                return done
            if self._next is None or self._next.done():
                self._next = loop.create_future()
            return self._next

    def snapshot(self) -> tuple[int, tuple[bytes, bytes] | None]:
        """(seq, (the whole feed as JSON, gzipped)) of the latest feed, built once a seq."""
        with self.lock:
            seq, feed, cached = self.seq, self.feed, self._snapshot
        if feed is None:
            return seq, None
        if cached is None or cached[0] != seq:
            raw = json.dumps(dict(feed, seq=seq), separators=(",", ":")).encode()
            cached = (seq, (raw, gzip.compress(raw, 6)))
            self._snapshot = cached
        return cached

    def _wake(self) -> None:
        if self._next is not None and not self._next.done():
            self._next.set_result(None)


class Hub:
    """Channels by feed id."""

    def __init__(self):
        self.lock, self.channels = threading.Lock(), {}
        self.closed = False

    def channel(self, feed_id: str) -> Channel:
        with self.lock:
            if feed_id not in self.channels and len(self.channels) >= MAX_CHANNELS:
                idle = [k for k, c in self.channels.items() if c.ended and not c.viewers]
                for k in idle[:len(idle) // 2 + 1]:  # the oldest first (dicts keep order)
                    del self.channels[k]
            channel = self.channels.setdefault(feed_id, Channel())
            channel.closed = self.closed
            return channel

    def get(self, feed_id: str) -> Channel | None:
        with self.lock:
            return self.channels.get(feed_id)

    def viewers(self) -> int:
        with self.lock:
            return sum(c.viewers for c in self.channels.values())

    def close(self) -> None:
        """End every stream (on the event loop): the server is stopping, and it waits for
        open responses to end before it exits."""
        self.closed = True
        with self.lock:
            channels = list(self.channels.values())
        for channel in channels:
            channel.closed = True
            channel._wake()


HUB = Hub()
