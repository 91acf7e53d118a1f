"""The routes beside the pages (sgan_ui/feed_routes.py): a run's feed streamed whole and then
by its changes, from memory; the Host allowlist on every route; nothing left of a viewer who
leaves; the watch page and its QR code. Driven through ASGI directly: no server, no browser
(tests/test_watch_browser.py has both)."""
from __future__ import annotations

import asyncio
import copy
import gc
import json
import os
import tracemalloc
import zlib

import pytest
from starlette.applications import Starlette

from sgan_ui import feed_hub, feed_routes, feed_server
from sgan_ui.feed_hub import HUB
from sgan_ui.feed_publisher import feed_id

RUN_ID = "20261205-120000-stacked-100l-fast-s0"
FID = feed_id(RUN_ID)
HOST = "127.0.0.1:8501"


def _feed(points: int, state: str = "running", step: int | None = None) -> dict:
    xs = [5.0 * (i + 1) for i in range(points)]
    trace = {"type": "scatter", "x": xs, "y": [1.0 / (i + 1) for i in range(points)],
             "x_elapsed_s": [0.5 * x for x in xs], "name": "generator", "meta": "smooth"}
    acc = copy.deepcopy(trace) | {"name": "test subset", "meta": None}
    return {"state": state, "fraction": points / 100, "text": f"{state} · step {5 * points}",
            "metrics": [["Test accuracy", "–"], ["Steps / s", "9.0"], ["Elapsed", "1s"],
                        ["ETA", "9s"]],
            "charts": [{"data": [trace], "layout": {"title": "Losses"}},
                       {"data": [acc], "layout": {"title": "Accuracy"}}],
            "grid": None if step is None else {"step": step, "src": f"/feed/{FID}/grid-{step}.png"},
            "title": "stacked · 100 labels · fast", "version": f"{state}:{points}"}


class _Watched:
    def __init__(self):
        self.runs = []

    def watch(self, run):
        self.runs.append(run.id)
        return feed_id(run.id)


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The routes over a runs directory with one run in it (the publisher replaced: the
    tests hand the feeds over themselves), and its fresh channel."""
    runs = tmp_path / "runs"
    (runs / RUN_ID).mkdir(parents=True)
    (runs / RUN_ID / "config.json").write_text(json.dumps({"variant": "stacked"}))
    monkeypatch.setenv("SGAN_RUNS_DIR", str(runs))
    monkeypatch.delenv("SGAN_ALLOWED_HOSTS", raising=False)
    monkeypatch.setattr(feed_server, "_listed_at", 0.0)
    watched = _Watched()
    monkeypatch.setattr(feed_server, "publisher", lambda: watched)
    HUB.channels.pop(FID, None)
    app = Starlette(routes=feed_routes.routes())
    app.watched = watched
    return app


async def _get(app, path: str, headers: dict | None = None, until=None, timeout=5.0,
               method: str = "GET"):
    """A GET through ASGI: (status, headers, body). A stream is read until until(body) is
    true, then the client leaves; the app must then be done."""
    headers = {"host": HOST} if headers is None else headers
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
             "http_version": "1.1", "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8501)}
    leave = asyncio.Event()
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await leave.wait()
        return {"type": "http.disconnect"}

    out = {"status": None, "headers": {}, "body": b""}
    got = asyncio.Event()

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] += message.get("body", b"")
        got.set()

    task = asyncio.create_task(app(scope, receive, send))
    deadline = asyncio.get_running_loop().time() + timeout
    while not task.done() and not (until and out["status"] and until(out)):
        got.clear()
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"timed out: {out['status']} {out['body'][:300]!r}"
        waiter = asyncio.ensure_future(got.wait())
        await asyncio.wait({task, waiter}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    leave.set()
    await asyncio.wait_for(task, 5)  # the client left: its stream ends
    return out["status"], out["headers"], out["body"]


def _events(body: bytes, gz: bool = False) -> list[tuple[str, dict]]:
    if gz:
        body = zlib.decompressobj(31).decompress(body)  # a stream that is never finished
    out = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def _count(kind: str, n: int, gz: bool = False):
    return lambda out: sum(k == kind for k, _ in _events(out["body"], gz)) >= n


def apply(feed: dict, patch: dict) -> dict:
    """feed_view.js's applyPatch, in Python."""
    out = copy.deepcopy(feed)
    out.update({k: v for k, v in patch.items() if k not in ("charts", "traces")})
    for c, spec in patch.get("charts", {}).items():
        out["charts"][int(c)] = spec
    for c, t, keep, tail in patch.get("traces", []):
        trace = out["charts"][c]["data"][t]
        for k, values in tail.items():
            trace[k] = trace.get(k, [])[:keep] + values
    return out


def test_a_patch_holds_only_the_new_points_and_rebuilds_the_feed():
    old, new = _feed(40), _feed(43)
    patch = feed_hub.diff(old, new)
    assert "charts" not in patch and "state" not in patch
    assert [(c, t, keep, len(tail["x"])) for c, t, keep, tail in patch["traces"]] == [
        (0, 0, 40, 3), (1, 0, 40, 3)]
    assert apply(old, patch) == new
    grown = _feed(43)  # a new curve in a chart: that chart whole
    grown["charts"][1]["data"].append(dict(grown["charts"][1]["data"][0], name="test set"))
    patch = feed_hub.diff(new, grown)
    assert list(patch["charts"]) == ["1"] and "traces" not in patch
    assert apply(new, patch) == grown
    thinned = _feed(43)  # points thinned again: kept up to where they differ
    thinned["charts"][0]["data"][0]["y"][20] = 9.0
    patch = feed_hub.diff(new, thinned)
    assert patch["traces"] == [[0, 0, 20, {k: thinned["charts"][0]["data"][0][k][20:]
                                           for k in feed_hub.ARRAYS}]]
    assert apply(new, patch) == thinned


@pytest.mark.parametrize("gz", [False, True])
def test_the_stream_sends_the_whole_feed_then_only_changes(app, gz):
    channel = HUB.channel(FID)
    channel.update(_feed(40))
    headers = {"host": HOST} | ({"accept-encoding": "gzip, deflate"} if gz else {})

    async def scenario():
        viewer = asyncio.create_task(_get(app, f"/feed/{FID}", headers,
                                          until=_count("patch", 2, gz)))
        await asyncio.sleep(0.2)
        channel.update(_feed(42))                     # two new points a curve
        await asyncio.sleep(0.1)
        channel.update(_feed(45, step=400))           # and a new grid
        return await viewer

    status, head, body = asyncio.run(scenario())
    assert status == 200 and head["content-type"].startswith("text/event-stream")
    assert head.get("content-encoding") == ("gzip" if gz else None)
    events = _events(body, gz)
    assert [k for k, _ in events] == ["full", "patch", "patch"]
    feed = events[0][1]
    assert feed["seq"] == 1 and len(feed["charts"][0]["data"][0]["x"]) == 40
    first, second = events[1][1], events[2][1]
    assert {k for k in first} == {"fraction", "text", "version", "traces", "seq"}
    assert all(len(tail["y"]) == 2 for *_, tail in first["traces"])
    assert second["grid"] == {"step": 400, "src": f"/feed/{FID}/grid-400.png"}
    feed = apply(apply(feed, first), second)
    assert feed == dict(_feed(45, step=400), seq=3)
    if not gz:  # the changes are small beside the whole feed
        sizes = [len(b) for b in body.split(b"\n\n") if b]
        assert max(sizes[1:]) * 4 < sizes[0]
    assert channel.viewers == 0 and app.watched.runs == [RUN_ID]


def test_a_reconnecting_viewer_gets_what_it_missed(app):
    channel = HUB.channel(FID)
    for n in (40, 41, 42):
        channel.update(_feed(n))
    headers = {"host": HOST, "last-event-id": "1"}
    _, _, body = asyncio.run(_get(app, f"/feed/{FID}", headers, until=_count("patch", 2)))
    assert [(k, e["seq"]) for k, e in _events(body)] == [("patch", 2), ("patch", 3)]
    headers["last-event-id"] = "-7"  # nonsense: the whole feed
    _, _, body = asyncio.run(_get(app, f"/feed/{FID}", headers, until=_count("full", 1)))
    assert [(k, e["seq"]) for k, e in _events(body)] == [("full", 3)]


def test_the_snapshot_the_grid_and_plotly(app):
    channel = HUB.channel(FID)
    channel.update(_feed(60, step=300))
    channel.grid = (300, b"\x89PNG fake")
    status, head, body = asyncio.run(_get(app, f"/feed/{FID}.json",
                                          {"host": HOST, "accept-encoding": "gzip"}))
    assert status == 200 and head["content-encoding"] == "gzip"
    assert json.loads(zlib.decompress(body, 31)) == dict(_feed(60, step=300), seq=1)
    status, _, _ = asyncio.run(_get(app, f"/feed/{FID}.json",
                                    {"host": HOST, "if-none-match": head["etag"]}))
    assert status == 304
    assert asyncio.run(_get(app, f"/feed/{FID}/grid-300.png"))[::2] == (200, b"\x89PNG fake")
    assert asyncio.run(_get(app, f"/feed/{FID}/grid-200.png"))[0] == 404
    status, head, body = asyncio.run(_get(app, "/feed/assets/plotly.js"))
    assert status == 200 and body.startswith(b"/**") and b"plotly" in body[:2000]


@pytest.mark.parametrize("path", ["/watch/{fid}", "/feed/{fid}", "/feed/{fid}.json",
                                  "/feed/{fid}/grid-300.png", "/feed/assets/plotly.js"])
def test_every_route_refuses_a_host_it_does_not_answer_to(app, monkeypatch, path):
    HUB.channel(FID).update(_feed(10))
    HUB.channel(FID).grid = (300, b"\x89PNG")
    path = path.format(fid=FID)
    for host in ("evil.example", "evil.example:8501", "lab.example.org"):
        assert asyncio.run(_get(app, path, {"host": host}))[0] == 403, host
    assert asyncio.run(_get(app, path, {}))[0] == 403  # no Host header at all
    answered = _count("full", 1) if path == f"/feed/{FID}" else None
    assert asyncio.run(_get(app, path, until=answered))[0] == 200
    # host mode: a name the host allowed is answered, the others still refused
    monkeypatch.setenv("SGAN_ALLOWED_HOSTS", "lab.example.org")
    assert asyncio.run(_get(app, path, {"host": "lab.example.org:8501"}, until=answered))[0] \
        == 200
    assert asyncio.run(_get(app, path, {"host": "evil.example"}))[0] == 403
    assert HUB.channel(FID).viewers == 0
    # watching only: nothing on these routes changes anything, for anyone
    for method in ("POST", "PUT", "DELETE"):
        assert asyncio.run(_get(app, path, method=method))[0] == 405


@pytest.mark.parametrize("fid", ["abcdef", "ABCDEF", "..", "%2e%2e%2fetc", "a" * 7,
                                 RUN_ID, "abc"])
def test_only_the_runs_the_pages_list_are_served(app, fid):
    for path in (f"/watch/{fid}", f"/feed/{fid}", f"/feed/{fid}.json"):
        assert asyncio.run(_get(app, path))[0] == 404, path
    assert app.watched.runs == []
    assert asyncio.run(_get(app, f"/watch/{FID}"))[0] == 200


def test_a_viewer_who_leaves_costs_nothing(app):
    """Hundreds of viewers come and go: every connection ends with its client, and what the
    server's code holds after is what it held before."""
    channel = HUB.channel(FID)
    channel.update(_feed(100))

    async def crowd(n: int, points: int):
        viewers = [asyncio.create_task(_get(app, f"/feed/{FID}", until=_count("patch", 1)))
                   for _ in range(n)]
        while channel.viewers < n:
            await asyncio.sleep(0.01)
        channel.update(_feed(points))
        await asyncio.gather(*viewers)

    asyncio.run(crowd(300, 101))  # warm: imports, first allocations, the channel's history
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    asyncio.run(crowd(300, 102))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert channel.viewers == 0
    assert channel._next is None or not channel._next._callbacks
    # what the server's code holds: the routes' and the hub's, and Starlette's under them
    server = [tracemalloc.Filter(True, f"*{os.sep}{name}{os.sep}*")
              for name in ("sgan_ui", "starlette")]
    grown = sum(s.size_diff for s in after.filter_traces(server).compare_to(
        before.filter_traces(server), "filename"))
    assert grown < 30_000, grown  # 300 viewers' worth of anything would be far more


def test_the_watch_page_loads_nothing_from_another_host(app):
    status, head, body = asyncio.run(_get(app, f"/watch/{FID}"))
    html = body.decode()
    assert status == 200 and head["content-type"].startswith("text/html")
    csp = head["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert f'"url": "/feed/{FID}"' in html and '"src": "/feed/assets/plotly.js"' in html
    assert 'name="viewport"' in html


def test_the_qr_code_reads_back_as_the_link():
    """Decoded by an independent reader (zxing-cpp) from the PNG the Train page shows."""
    import io

    import zxingcpp
    from PIL import Image

    from sgan_ui.room_link import qr_png
    for url in (f"http://127.0.0.1:8501/watch/{FID}",
                f"https://lab.example.org/sgan/watch/{FID}"):
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(url))))
        assert [(r.format.name, r.text) for r in found] == [("QRCode", url)]
    assert zxingcpp.read_barcodes(Image.new("L", (200, 200), 255)) == []


def test_streams_end_when_the_server_stops(app, monkeypatch):
    """uvicorn waits for open responses before it exits: Hub.close (on SIGINT or SIGTERM)
    ends every stream, open or opened after."""
    hub = feed_hub.Hub()
    monkeypatch.setattr(feed_server, "HUB", hub)
    hub.channel(FID).update(_feed(10))

    async def scenario():
        viewer = asyncio.create_task(_get(app, f"/feed/{FID}", until=lambda out: False,
                                          timeout=10))
        while hub.channel(FID).viewers < 1:
            await asyncio.sleep(0.01)
        hub.close()
        return await viewer  # ended by the server, not by the client

    status, _, body = asyncio.run(scenario())
    assert status == 200 and [k for k, _ in _events(body)] == ["full"]
    assert hub.channel(FID).viewers == 0
    assert asyncio.run(_get(app, f"/feed/{FID}", until=lambda out: False))[2] == b""


@pytest.mark.slow
def test_the_server_stops_at_once_with_viewers_watching(tmp_path):
    """`streamlit run app.py` with a stream open: SIGTERM ends it within seconds."""
    import socket
    import time

    from tests.pages_harness import start_streamlit
    runs = tmp_path / "runs"
    (runs / RUN_ID).mkdir(parents=True)
    (runs / RUN_ID / "config.json").write_text("{}")
    proc, url = start_streamlit(runs)
    try:
        port = int(url.rsplit(":", 1)[1])
        viewer = socket.create_connection(("127.0.0.1", port))
        viewer.sendall(f"GET /feed/{FID} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        viewer.settimeout(30)
        assert viewer.recv(4096).startswith(b"HTTP/1.1 200")
        t0 = time.time()
        proc.terminate()
        proc.wait(timeout=15)
        assert time.time() - t0 < 10
        viewer.close()
    finally:
        if proc.poll() is None:
            proc.kill()
