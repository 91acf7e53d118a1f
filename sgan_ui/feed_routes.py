"""The routes that app.py adds beside the Streamlit pages (st.App): each live run's feed
streamed from memory, its grid, plotly.js and the watch-only page (feed_server.py handles
them).

The handlers are imported at a route's first request, not here: `streamlit run` imports
app.py before Streamlit's runtime starts, and the pages' modules (their caches, their
components) are made for a running runtime.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import signal
import threading

from starlette.routing import Route

from .feed_hub import HUB


def base_path() -> str:
    """The server's base path (server.baseUrlPath): '' or '/name'."""
    from streamlit import config
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _handler(name: str):
    async def endpoint(request):
        server = importlib.import_module("sgan_ui.feed_server")
        return await getattr(server, name)(request)
    endpoint.__name__ = name
    return endpoint


def routes() -> list[Route]:
    """The routes, under the base path, most specific first."""
    base = base_path()
    return [Route(f"{base}/feed/assets/plotly.js", _handler("plotly_js")),
            Route(f"{base}/feed/{{fid}}.json", _handler("snapshot")),
            Route(f"{base}/feed/{{fid}}/grid-{{step:int}}.png", _handler("grid")),
            Route(f"{base}/feed/{{fid}}", _handler("stream")),
            Route(f"{base}/watch/{{fid}}", _handler("watch"))]


@contextlib.asynccontextmanager
async def lifespan(_app):
    """st.App's lifespan: when the server is asked to stop (Ctrl-C, SIGTERM), every feed's
    stream ends first. uvicorn waits for open responses before it exits, and a viewer's stream
    stays open for as long as the viewer watches."""
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)  # uvicorn's, which starts its shutdown

            def stop(signum, frame, previous=previous):
                loop.call_soon_threadsafe(HUB.close)
                if callable(previous):
                    previous(signum, frame)
            signal.signal(sig, stop)
    yield
