"""The handlers of the routes beside the Streamlit app (feed_routes.py lists them): each live
run's feed streamed from memory, its latest grid, and the watch-only page for a room.

  /feed/<id>                 server-sent events: the whole feed, then each change (feed_hub)
  /feed/<id>.json            the whole feed once (gzip), for a client that cannot stream
  /feed/<id>/grid-<step>.png the latest generated grid
  /feed/assets/plotly.js     plotly.js (the vendored copy live_chart.py serves to the pages)
  /watch/<id>                the watch-only page (watch_page.py)

<id> is a run's short id (feed_publisher.feed_id), resolved only among the run directories the
pages list; anything else is a 404. Every request whose Host header names anything but this
server's allowed names (access.py: the same check as the pages') is refused with a 403. Each
viewer is one coroutine on the server's event loop: no thread, no Streamlit script run, and
nothing of it is left once it disconnects.
"""
from __future__ import annotations

import asyncio
import gzip
import re
import threading
import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from sgan_core.runs.rundir import RunDir, list_run_dirs

from .access import allowed_hosts, host_allowed
from .common import runs_dir
from .feed_hub import GZIP_HEADER, HUB, KEEP_ALIVE, Channel
from .feed_publisher import feed_id, publisher
from .feed_routes import base_path
from .feed_view import PLOTLY_DIR, PLOTLY_FILE
from .watch_page import watch_html

KEEP_ALIVE_S = 15.0
LIST_EVERY_S = 1.0     # the run directories are listed at most this often, for every viewer
FEED_ID = re.compile(r"[a-z2-7]{6}")
NO_STORE = {"Cache-Control": "no-cache, no-store"}

_known: dict[str, str] = {}       # feed id -> run id, of the runs listed last
_listed_at = 0.0
_list_lock = threading.Lock()
_assets: dict[str, bytes] = {}    # plotly.js, plain and gzip, read once


def _refused(request: Request) -> Response | None:
    """A 403 for a Host header this server does not answer to (a page that points its own
    name at this machine: DNS rebinding), as access.guard_request refuses the pages."""
    header = request.headers.get("host")
    if header is not None and host_allowed(header, allowed_hosts()):
        return None
    return PlainTextResponse("This SGAN Lab server does not answer to that name.\n", 403)


def _list_runs() -> dict[str, str]:
    global _listed_at, _known
    with _list_lock:
        if time.monotonic() - _listed_at >= LIST_EVERY_S:
            _known = {feed_id(r.id): r.id for r in list_run_dirs(runs_dir())}
            _listed_at = time.monotonic()
        return _known


async def _channel(fid: str, watch: bool = True) -> Channel | None:
    """The channel of a listed run's feed id (its run watched by the publisher), or None."""
    if not FEED_ID.fullmatch(fid):
        return None
    run_id = _known.get(fid) if time.monotonic() - _listed_at < LIST_EVERY_S else None
    if run_id is None:
        run_id = (await asyncio.to_thread(_list_runs)).get(fid)
    if run_id is None:
        return None
    if watch:
        publisher().watch(RunDir(runs_dir() / run_id))
    return HUB.channel(fid)


def _not_found() -> Response:
    return PlainTextResponse("No such run.\n", 404)


def _gzip_ok(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


async def _events(channel: Channel, seen: int, gz: bool):
    """One viewer's stream: what it has not seen, then each change as it comes; a comment
    every KEEP_ALIVE_S when nothing changes. Its state (seen, gz) lives here alone."""
    channel.viewers += 1
    try:
        if gz:
            yield GZIP_HEADER
        while not channel.closed:
            events = channel.events_after(seen)
            if not events:
                done, _ = await asyncio.wait({channel.changed(seen)}, timeout=KEEP_ALIVE_S)
                if done:
                    continue
                events = [KEEP_ALIVE]
            seen = events[-1].seq or seen
            yield b"".join(e.gz if gz else e.raw for e in events)
    finally:
        channel.viewers -= 1


async def stream(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    channel = await _channel(request.path_params["fid"])
    if channel is None:
        return _not_found()
    last = request.headers.get("last-event-id", "")
    seen = int(last) if last.isdigit() else 0  # a reconnecting EventSource: from there on
    gz = _gzip_ok(request)
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no",
               "Vary": "Accept-Encoding"} | ({"Content-Encoding": "gzip"} if gz else {})
    return StreamingResponse(_events(channel, seen, gz), media_type="text/event-stream",
                             headers=headers)


async def snapshot(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    channel = await _channel(request.path_params["fid"])
    if channel is None:
        return _not_found()
    for _ in range(50):  # a run just watched: its first feed is on its way
        if channel.feed is not None:
            break
        await asyncio.sleep(0.1)
    seq, body = channel.snapshot()
    if body is None:
        return PlainTextResponse("No feed yet.\n", 503, headers={"Retry-After": "2"})
    etag = f'"{seq}"'
    headers = NO_STORE | {"ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if _gzip_ok(request) and len(body[0]) > 1024:
        return Response(body[1], media_type="application/json",
                        headers=headers | {"Content-Encoding": "gzip"})
    return Response(body[0], media_type="application/json", headers=headers)


async def grid(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    channel = await _channel(request.path_params["fid"], watch=False)
    shown = channel.grid if channel else None
    if shown is None or shown[0] != request.path_params["step"]:
        return _not_found()
    return Response(shown[1], media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400, immutable"})


async def plotly_js(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    if not _assets:
        plain = await asyncio.to_thread((PLOTLY_DIR / PLOTLY_FILE).read_bytes)
        _assets.update(plain=plain, gz=await asyncio.to_thread(gzip.compress, plain, 6))
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if _gzip_ok(request):
        return Response(_assets["gz"], media_type="text/javascript",
                        headers=headers | {"Content-Encoding": "gzip"})
    return Response(_assets["plain"], media_type="text/javascript", headers=headers)


async def watch(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    fid = request.path_params["fid"]
    if await _channel(fid) is None:
        return PlainTextResponse("No such run on this server.\n", 404)
    html, csp = watch_html(fid, base_path())
    return Response(html, media_type="text/html",
                    headers=NO_STORE | {"Content-Security-Policy": csp,
                                        "X-Content-Type-Options": "nosniff",
                                        "Referrer-Policy": "no-referrer"})
