"""A room of viewers: N people watching one live run's Train page and M drawing on the Draw
page, or W watch-only viewers on the run's /watch/ page, on one server, with one `fast`
training running. The viewers speak Streamlit's own websocket protocol (the installed
`streamlit.proto`) and the feed's HTTP, as a browser tab does, so they cost the machine almost
nothing and the server's cost can be seen alone.

    python -m benchmarks.room [--viewers 1 10 100 300] [--draw 10] [--seconds 40]
                              [--feed sse|poll] [--watch 1000] [--arrive 10]

Starts `streamlit run app.py` on a free localhost port over a fresh runs directory and a `fast`
training (one hour by the clock) through the dashboard's own queue. Then, for each N: the
training's steps/s and the server's CPU for --seconds with nobody watching; then N Train
viewers open /Train?run=ID (all at once, or spread over --arrive s) and, with the first N, M
Draw viewers, each:
  - one `rerun_script` with the page's name and query string, as a tab's first load;
  - the fragment reruns the server asks for (`auto_rerun`: every `interval` s, with the
    fragment's id and `is_auto_rerun`), as a tab's timers send them, whether or not the last
    one has been answered;
  - Draw viewers: a stroke every --stroke-every s (the canvas's value, a drawing and its PNG,
    in `widget_states`, with the canvas fragment's id), timed until the server's answer (the
    Prediction metric) for that stroke.
  - the live feed (the charts and grid), from the address the page's component is given:
    --feed sse (default) follows its server-sent event stream as the component does (gzip, one
    connection: the whole feed, then each change); --feed poll fetches the whole feed
    (/feed/<id>.json) every 2 s instead. Each new grid's PNG is fetched once, as a browser does.
With --watch W (one room per W, instead of the Train rooms): W watch-only viewers, each a
phone opening /watch/<id>: the page, plotly.js, then the stream (and each new grid).
Reported per room: first render p50/p90 (the live run's progress on screen: the feed's first
version received, after the page's first script run has mounted the component, or after the
watch page and plotly.js); live updates per viewer per second, min and median over viewers, of
the progress line (fragment runs that reached the viewer with the live metrics; none since the
feed) and of the feed (new versions received); Draw stroke-to-prediction p50/p90; errors;
server CPU (the whole window, and its second half, once every viewer is in) and memory (before,
at the end, and 10 s after every viewer left); and the training's steps/s while the room
watched against nobody.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import io
import json
import os
import random
import resource
import statistics
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import websockets
from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from sgan_ui.feed_publisher import feed_id

from .viewers import cpu_seconds, start_all, stop_all

FRAGMENT_DONE = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def training_rate(run, seconds: float) -> float:
    """Steps per second of training over the next `seconds` (from its status file)."""
    s0 = run.read_status()
    time.sleep(seconds)
    s1 = run.read_status()
    dt = s1.get("elapsed_s", 0) - s0.get("elapsed_s", 0)
    return (s1.get("step", 0) - s0.get("step", 0)) / dt if dt > 0 else float("nan")


def stroke_value(i: int) -> str:
    """The canvas's state after a stroke (its component's "drawing": the Fabric.js objects and a
    PNG of the drawing), a "1" and a "0" in turn."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pen = ImageDraw.Draw(img)
    if i % 2:
        pen.ellipse((80, 45, 200, 235), outline=(255, 255, 255, 255), width=20)
    else:
        pen.line((140, 40, 140, 240), fill=(255, 255, 255, 255), width=20)
    png = io.BytesIO()
    img.save(png, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    return json.dumps({"drawing": {"raw": {"version": "5.3.0", "objects": [
        {"type": "path", "stroke": "#FFFFFF", "strokeWidth": 20, "stroke_index": i}]},
        "data": data}})


def dechunked(body: bytes) -> bytes:
    """An HTTP/1.1 chunked body, joined."""
    out = []
    while body:
        size, _, body = body.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out.append(body[:n])
        body = body[n + 2:]
    return b"".join(out)


def _events(text: bytes) -> tuple[list, bytes]:
    """([(event kind, data as a dict)] of the whole server-sent events in text, the rest)."""
    events = []
    while b"\n\n" in text:
        block, text = text.split(b"\n\n", 1)
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n")
                      if b": " in line and not line.startswith(b":"))
        if b"data" in fields:
            events.append((fields.get(b"event"), json.loads(fields[b"data"])))
    return events, text


_decoded: dict[bytes, list] = {}


def _shared_events(chunk: bytes) -> list:
    """The events of one chunk of a gzipped stream. The server deflates each event once, on
    its own, and sends the same bytes to every viewer, so a chunk is unpacked and parsed once
    for the whole room here: a real room's phones do that work on their own CPUs, and a
    simulated room that did it a thousand times would take the training's CPU instead."""
    events = _decoded.get(chunk)
    if events is None:
        if len(_decoded) > 256:
            _decoded.clear()
        events, rest = _events(zlib.decompressobj(-15).decompress(chunk))
        if rest:
            raise ValueError("a chunk of the stream ended inside an event")
        _decoded[chunk] = events
    return events


class Tab:
    """What a browser tab does with the live feed, as far as the server can tell."""

    def __init__(self, origin: str, feed: str = "sse"):
        self.http_base, self.feed = origin, feed
        self.t0 = time.perf_counter()
        self.first_render: float | None = None
        self.errors: list[str] = []
        self.feed_updates: list[float] = []  # new versions of the live feed received
        self.torn_reads = 0
        self.feed_task: asyncio.Task | None = None
        self.fetches: set[asyncio.Task] = set()
        self._grid: str | None = None
        self.until = self.t0

    async def _open(self, path: str, accept: str = "*/*"):
        host, port = self.http_base.split("//")[1].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n"
                     "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).lower()
        return reader, writer, head

    async def get(self, path: str, decode: bool = True) -> tuple[bytes, bytes]:
        """(head, body) of a plain GET, as the browser reads it: dechunked, gunzipped
        (decode=False: received whole and left as it came, for what only a phone would
        unpack, such as plotly.js)."""
        reader, writer, head = await self._open(path)
        try:
            body = await reader.read()
        finally:
            writer.close()
        if not decode:
            return head, body
        if b"transfer-encoding: chunked" in head:
            body = dechunked(body)
        if b"content-encoding: gzip" in head:
            body = gzip.decompress(body)
        return head, body

    def _got(self, feed: dict) -> None:
        """A new version of the feed: on screen; its grid fetched once, as an <img> does."""
        now = time.perf_counter()
        self.feed_updates.append(now)
        if self.first_render is None:
            self.first_render = now - self.t0
        grid = (feed.get("grid") or {}).get("src")
        if grid and grid != self._grid:
            self._grid = grid
            task = asyncio.create_task(self.get(grid))
            self.fetches.add(task)
            task.add_done_callback(self.fetches.discard)

    async def follow(self, url: str):
        """The stream, as EventSource reads it: the whole feed, then patches."""
        writer = None
        try:
            reader, writer, head = await self._open(url, "text/event-stream")
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise OSError(head.split(b"\r\n")[0].decode())
            chunked = b"transfer-encoding: chunked" in head
            gz = b"content-encoding: gzip" in head
            unzip = zlib.decompressobj(31) if gz else None
            text, feed, shared = b"", {}, False
            while True:
                if chunked:
                    n = int((await reader.readline()).split(b";")[0], 16)
                    if n == 0:
                        break
                    data = await reader.readexactly(n + 2)
                    data = data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        break
                if shared:
                    events = _shared_events(data)
                else:  # the gzip header, or a stream not sent as the server sends it now
                    text += unzip.decompress(data) if unzip else data
                    events, text = _events(text)
                    shared = chunked and gz and not text  # from here on, whole events a chunk
                for kind, event in events:
                    feed = event if kind == b"full" else {**feed, **event}
                    self._got(feed)
            self.errors.append("feed: the stream ended")
        except (OSError, ValueError, asyncio.IncompleteReadError) as e:
            self.errors.append(f"feed: {type(e).__name__}: {e}")
        finally:  # the tab closes: so does its connection
            if writer is not None:
                writer.close()

    async def poll(self, url: str, every: float):
        """The whole feed fetched every `every` s (a plain HTTP/1.1 GET on its own
        connection), each new version noted."""
        version = None
        while True:
            try:
                head, body = await self.get(url)
                if b" 200 " in head.split(b"\r\n")[0]:
                    feed = json.loads(body)
                    if feed.get("version") != version:
                        version = feed.get("version")
                        self._got(feed)
            except ValueError:
                self.torn_reads += 1
            except OSError as e:
                self.errors.append(f"feed: {type(e).__name__}: {e}")
            await asyncio.sleep(every)

    def start_feed(self, url: str) -> None:
        self.feed_task = asyncio.create_task(
            self.follow(url) if self.feed == "sse" else self.poll(url + ".json", 2.0))

    def stop(self) -> None:
        for t in [self.feed_task, *self.fetches]:
            if t:
                t.cancel()


class Watcher(Tab):
    """A phone on the watch-only page: the page, plotly.js, then the stream."""

    def __init__(self, origin: str, fid: str):
        super().__init__(origin)
        self.fid = fid

    async def run(self, until: float):
        try:
            head, page = await self.get(f"/watch/{self.fid}")
            status = head.split(b"\r\n")[0].decode()
            if " 200 " not in status or b"/feed/" not in page:
                raise OSError(f"watch page: {status}")
            await self.get("/feed/assets/plotly.js", decode=False)
            self.start_feed(f"/feed/{self.fid}")
            await asyncio.sleep(max(0.0, until - time.perf_counter()))
        except OSError as e:
            self.errors.append(f"{type(e).__name__}: {e}")
        self.stop()


class Viewer(Tab):
    """One browser tab on a page, as far as the server can tell."""

    def __init__(self, ws_url: str, origin: str, page: str, query: str, feed: str = "sse"):
        super().__init__(origin, feed)
        self.ws_url, self.origin, self.page, self.query = ws_url, origin, page, query
        self.updates: list[float] = []      # times the live metrics arrived in a fragment run
        self.draws: list[float] = []        # stroke to prediction, seconds
        self.timers: dict[str, asyncio.Task] = {}
        self.canvas_id = self.canvas_fragment = None
        self._run_has_metrics = False
        self._stroke_sent: float | None = None
        self._prediction_seen = False

    def _rerun(self, fragment_id: str = "", auto: bool = False,
               widgets: list[WidgetState] = ()) -> bytes:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string, rs.page_name = self.query, self.page
        rs.fragment_id, rs.is_auto_rerun = fragment_id, auto
        rs.widget_states.widgets.extend(widgets)
        return msg.SerializeToString()

    async def _auto_rerun(self, ws, fragment_id: str, interval: float):
        while True:  # a browser's setInterval: it does not wait for the answer
            await asyncio.sleep(interval)
            await ws.send(self._rerun(fragment_id, auto=True))

    def _element(self, el, now: float):
        kind = el.WhichOneof("type")
        if kind == "metric":
            if el.metric.label == "Elapsed":
                self._run_has_metrics = True
                if self.first_render is None:
                    self.first_render = now - self.t0
            elif el.metric.label == "Prediction" and self._stroke_sent is not None \
                    and el.metric.body not in ("", "–"):
                self._prediction_seen = True
        elif kind == "bidi_component" and el.bidi_component.component_name == \
                "sgan_lab.live_feed" and self.feed_task is None:
            self.start_feed(json.loads(el.bidi_component.json or "{}")["url"])
        elif kind in ("component_instance", "bidi_component") and self.canvas_id is None:
            inst = getattr(el, kind)
            if "drawable_canvas" in getattr(inst, "component_name", "") or \
                    "canvas" in getattr(inst, "component_name", ""):
                self.canvas_id = inst.id
                return True
        return False

    async def run(self, until: float, stroke_every: float | None = None):
        try:
            async with websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                          origin=self.origin, max_size=None,
                                          compression=None, open_timeout=60,
                                          ping_interval=None) as ws:
                await ws.send(self._rerun())
                strokes = asyncio.create_task(self._strokes(ws, stroke_every)) \
                    if stroke_every else None
                while True:
                    left = until - time.perf_counter()
                    if left <= 0:
                        break
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=left)
                    except asyncio.TimeoutError:
                        break
                    self._handle(ws, raw)
                for t in [*self.timers.values(), strokes]:
                    if t:
                        t.cancel()
                self.stop()
        except Exception as e:  # noqa: BLE001 - every failure is a row of the report
            self.errors.append(f"{type(e).__name__}: {e}")

    def _handle(self, ws, raw: bytes):
        now = time.perf_counter()
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            old = self.timers.get(fid)
            if old is None or old.interval != interval:
                if old:
                    old.cancel()
                task = asyncio.create_task(self._auto_rerun(ws, fid, interval))
                task.interval = interval
                self.timers[fid] = task
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                if fid in self.timers:
                    self.timers.pop(fid).cancel()
        elif kind == "delta":
            d = msg.delta
            if d.WhichOneof("type") == "new_element":
                if self._element(d.new_element, now):
                    self.canvas_fragment = d.fragment_id
        elif kind == "script_finished":
            if self._run_has_metrics:
                self.updates.append(now)
            self._run_has_metrics = False
            if self._prediction_seen and self._stroke_sent is not None:
                self.draws.append(now - self._stroke_sent)
                self._stroke_sent, self._prediction_seen = None, False
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == \
                "script_compilation_exception":
            self.errors.append("script compilation exception")

    async def _strokes(self, ws, every: float):
        i = 0
        while True:
            await asyncio.sleep(every)
            if self.canvas_id is None:
                continue
            state = WidgetState(id=self.canvas_id, json_value=stroke_value(i))
            self._stroke_sent, self._prediction_seen = time.perf_counter(), False
            await ws.send(self._rerun(self.canvas_fragment or "", widgets=[state]))
            i += 1


async def arriving(viewer, delay: float, until: float, *args):
    """A viewer who comes `delay` s after the room opens (its clock starts then)."""
    await asyncio.sleep(delay)
    viewer.t0, viewer.until = time.perf_counter(), until
    await viewer.run(until, *args)


async def room(base_url: str, run_id: str, n: int, m: int, seconds: float,
               stroke_every: float, feed: str = "sse", arrive: float = 0.0,
               watch: int = 0) -> tuple[list, list]:
    ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    until = time.perf_counter() + seconds
    rng = random.Random(0)
    train = [Viewer(ws_url, base_url, "Train", f"run={run_id}", feed) for _ in range(n)]
    train += [Watcher(base_url, feed_id(run_id)) for _ in range(watch)]
    draw = [Viewer(ws_url, base_url, "Draw", "") for _ in range(m)]
    await asyncio.gather(*(arriving(v, rng.uniform(0, arrive), until) for v in train),
                         *(arriving(v, rng.uniform(0, arrive), until, stroke_every)
                           for v in draw))
    return train, draw


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def report(n, m, seconds, train, draw, idle, busy, steady, rate_idle, rate_busy, mem,
           kind="Train"):
    firsts = [v.first_render for v in train if v.first_render is not None]
    # updates counted from 10 s after each viewer came (its page is up) to the room's end
    def rate(v, times):
        return sum(1 for t in times if t - v.t0 >= 10) / max(1e-9, v.until - v.t0 - 10)
    rates = sorted(rate(v, getattr(v, "updates", ())) for v in train)
    feeds = sorted(rate(v, v.feed_updates) for v in train)
    draws = [d * 1000 for v in draw for d in v.draws[1:]]  # the first stroke warms the page
    errors = [e for v in train + draw for e in v.errors]
    torn = sum(v.torn_reads for v in train)
    print(f"{kind} N={n} M={m}: first render {len(firsts)}/{n} p50 {pct(firsts, .5):.1f} s, p90 "
          f"{pct(firsts, .9):.1f} s; live updates per viewer {rates[0] if rates else 0:.2f}/s "
          f"min, {statistics.median(rates) if rates else 0:.2f}/s median (progress line), "
          f"{feeds[0] if feeds else 0:.2f}/s min, "
          f"{statistics.median(feeds) if feeds else 0:.2f}/s median (charts and grid); Draw "
          f"{len(draws)} strokes p50 {pct(draws, .5):.0f} ms, p90 {pct(draws, .9):.0f} ms; "
          f"errors {len(errors)}{' (' + errors[0] + ')' if errors else ''}, feed reads torn "
          f"by a replace {torn}; server {idle:.2f} cores idle, {busy:.2f} watched ({steady:.2f} "
          f"once all are in), memory {mem[0]:.0f} MB before, {mem[1]:.0f} MB at the end, "
          f"{mem[2]:.0f} MB 10 s after all left; training "
          f"{rate_idle:.2f} steps/s alone, {rate_busy:.2f} watched "
          f"({(rate_busy / rate_idle - 1) * 100:+.0f}%)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, nargs="+", default=None,
                    help="Train-page rooms (default 1 10 100, none with --watch)")
    ap.add_argument("--draw", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--stroke-every", type=float, default=3.0)
    ap.add_argument("--feed", choices=("sse", "poll"), default="sse",
                    help="how Train viewers get the live feed: its stream, or a fetch every 2 s")
    ap.add_argument("--watch", type=int, nargs="+", default=[],
                    help="watch-only rooms: this many viewers of /watch/<id> each")
    ap.add_argument("--arrive", type=float, default=0.0,
                    help="viewers arrive spread over this many seconds (0: all at once)")
    ap.add_argument("--nice-viewers", action="store_true",
                    help="the viewers (this process) at nice 19, below the server and the "
                         "training: in a real room their CPU is the phones', not this machine's")
    args = ap.parse_args()
    rooms = [("Train", n) for n in (args.viewers if args.viewers is not None
                                    else [] if args.watch else [1, 10, 100])]
    rooms += [("watch", w) for w in args.watch]
    # a room of 1,000 is 1,000 sockets here and in the server (started from here: it inherits)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as runs_dir:
        run, proc, base_url = start_all(runs_dir)
        if args.nice_viewers:
            os.nice(19)  # after the server and the training started: they keep their own
        try:
            print(f"{os.cpu_count()} cores; one `fast` training running ({run.id}); "
                  f"{args.seconds:.0f} s per room; Train viewers' feed: {args.feed}; arriving "
                  f"over {args.arrive:.0f} s", flush=True)
            asyncio.run(room(base_url, run.id, 1, 1, 20, args.stroke_every, args.feed,
                             watch=1))  # warm caches
            for kind, n in rooms:
                c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                rate_idle = training_rate(run, args.seconds / 2)
                idle = (cpu_seconds(proc.pid) - c0) / (time.perf_counter() - t0)
                c0, t0, s0 = cpu_seconds(proc.pid), time.perf_counter(), run.read_status()
                m = min(args.draw, n) if kind == "Train" else 0
                mem_before = rss_mb(proc.pid)
                marks = []
                sampler = threading.Thread(target=lambda: (time.sleep(args.seconds / 2), marks
                                                           .append((cpu_seconds(proc.pid),
                                                                    time.perf_counter(),
                                                                    run.read_status()))))
                sampler.start()
                me0 = time.process_time()
                train, draw = asyncio.run(room(
                    base_url, run.id, n if kind == "Train" else 0, m, args.seconds,
                    args.stroke_every, args.feed, args.arrive, n if kind == "watch" else 0))
                sampler.join()
                viewers_cores = (time.process_time() - me0) / (time.perf_counter() - t0)
                busy = (cpu_seconds(proc.pid) - c0) / (time.perf_counter() - t0)
                steady = (cpu_seconds(proc.pid) - marks[0][0]) / (time.perf_counter()
                                                                 - marks[0][1])
                s1 = run.read_status()
                rate_busy = (s1["step"] - s0["step"]) / max(1e-9, s1["elapsed_s"]
                                                             - s0["elapsed_s"])
                sh = marks[0][2]
                rate_steady = (s1["step"] - sh["step"]) / max(1e-9, s1["elapsed_s"]
                                                               - sh["elapsed_s"])
                mem_end = rss_mb(proc.pid)
                time.sleep(10)
                report(n, m, args.seconds, train, draw, idle, busy, steady, rate_idle, rate_busy,
                       (mem_before, mem_end, rss_mb(proc.pid)), kind)
                print(f"  the viewers' side (this process{', nice 19' if args.nice_viewers else ''}"
                      f"): {viewers_cores:.2f} cores; training once all are in (the second half) "
                      f"{rate_steady:.2f} steps/s ({(rate_steady / rate_idle - 1) * 100:+.0f}%)",
                      flush=True)
        finally:
            stop_all(run, proc)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
