"""The page list, and a guard that puts every visit through it.

After a server start, Streamlit runs a first direct link (/Train, /Draw) through its older
`pages/` folder mode until some session has run app.py's `st.navigation`: the page then ran
without app.py, and the sidebar listed the raw files ("app, Train, Compare, Draw, home").
`through_app()` at the top of each page notices that and reruns the visit through app.py.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

import streamlit as st

from sgan_ui import access
from sgan_ui.admission import page_slot

_inside = threading.local()  # set while app.py runs the page (the same thread)


class PageEntry(NamedTuple):
    path: str      # the page's file, from the project root
    title: str     # its name in the sidebar
    icon: str
    url_path: str  # "" for Home, the default page at the root URL


# The dashboard's pages, in the sidebar's order; the tests read this list too. Material icons:
# the sidebar draws them with the Material Symbols font that ships inside Streamlit's front end
# (emoji showed as empty boxes where no emoji font is installed). A page's icon would also
# become the browser tab's icon, which Streamlit fetches from fonts.gstatic.com for a material
# one: ICON, a file shipped here, is set as the tab's icon on every page instead.
PAGES = (
    PageEntry("pages/home.py", "Home", ":material/home:", ""),
    PageEntry("pages/1_Train.py", "Train", ":material/model_training:", "Train"),
    PageEntry("pages/2_Compare.py", "Compare", ":material/compare_arrows:", "Compare"),
    PageEntry("pages/3_Draw.py", "Draw", ":material/draw:", "Draw"),
    PageEntry("pages/4_Sweep.py", "Sweep", ":material/ssid_chart:", "Sweep"),
    PageEntry("pages/5_Teach.py", "Teach", ":material/school:", "Teach"),
    PageEntry("pages/6_Room.py", "Room", ":material/groups:", "Room"),
)
ICON = str(Path(__file__).resolve().parent / "icon.png")


def pages() -> list:
    return [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path or None,
                    default=not p.url_path) for p in PAGES]


def run_app() -> None:
    """app.py: the host check, the navigation, the host-mode controls, then the chosen page."""
    access.guard_request()
    page = st.navigation(pages())
    access.control_panel()
    _inside.active = True
    try:
        with page_slot():
            page.run()
    finally:
        _inside.active = False


def _folder_mode() -> bool:
    try:  # Streamlit's own flag (not public API): absent in a later version, nothing is done
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return False
    return bool(getattr(PagesManager, "uses_pages_directory", False))


def through_app() -> None:
    """Call first in every page: a page run by Streamlit's folder mode, not by app.py, is run
    again through app.py. (A page run on its own, as AppTest does, is left alone.)"""
    st.set_page_config(layout="wide", page_icon=ICON)
    access.guard_request()
    if not getattr(_inside, "active", False) and _folder_mode():
        st.navigation(pages())  # leaves folder mode for good, for every session
        st.rerun()
