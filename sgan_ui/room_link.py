"""'Show this run to the room': on the Train page of a live run, the short link of its
watch-only page (/watch/<id>, watch_page.py) and a QR code of it, drawn here (segno, pure
Python): phones in the room open it without typing, and nothing is fetched from elsewhere.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import segno
import streamlit as st

from sgan_core.runs.rundir import RunDir

from .access import LOCAL_HOSTS, host_name
from .feed_publisher import watch_url


def origin() -> str:
    """scheme://host[:port] of the address this page was opened at (what the room's phones
    will reach when the host opened it by its network name)."""
    url = getattr(st.context, "url", None) or ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    host = st.context.headers.get("Host") or "localhost:8501"
    return f"http://{host}"


def room_url(run: RunDir) -> str:
    return origin() + watch_url(run)


@st.cache_resource(max_entries=64, show_spinner=False)
def qr_png(text: str, scale: int = 8) -> bytes:
    """text as a QR code (error correction M: still read when a projector blurs it), PNG;
    drawn once per link for every viewer."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def show_to_room(run: RunDir) -> None:
    """The link and its QR code, folded away until the host opens them (the code is sent only
    then: a room opening the page does not each get the picture)."""
    url = room_url(run)
    box = st.expander("Show this run to the room", icon=":material/qr_code_2:",
                      key="show_to_room", on_change="rerun")
    with box:
        st.markdown(f"A light page that anyone who opens it follows live, on a phone too: "
                    f"the progress, both charts and the latest digits, no controls. "
                    f"[{url}]({url})")
        if box.open is not False:
            st.image(qr_png(url), width=260, caption="A phone's camera opens it.")
        if host_name(urlsplit(url).netloc) in LOCAL_HOSTS:
            st.caption("This address works on this machine only. For a room, serve the "
                       "dashboard on the network (README: demo host mode) and open this page "
                       "by the address the room will use.")
