"""streamlit-drawable-canvas, sending each stroke as soon as it ends.

The canvas (0.13) waits a fixed 200 ms after a stroke before it sends the drawing to the
server, which alone took two thirds of the Draw page's 300 ms budget. Here the page mounts the
same canvas through a small loader component: in the browser it fetches the package's own
script (served by Streamlit), lowers that one delay and runs it. Everything else, the Python
API and the returned `CanvasResult` included, is the package's. If the script ever stops
matching (another version), the package's canvas is used unchanged.

Only the Draw page imports this module, as the canvas must not load anywhere else.
"""
from __future__ import annotations

import importlib.util
import json
import re
import threading
from pathlib import Path

import streamlit as st

from sgan_ui.common import server_path

SEND_DELAY_MS = 0
PACKAGE_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"

# The delay is the second argument of the debounced sender built in the bundle:
# `h.sender = Nh((c) => Ic(h, c), Bc)` with `Bc = 200` declared elsewhere.
_SENDER = re.compile(r"\.sender = [\w$]+\(\([\w$]+\) => [\w$]+\([\w$]+, [\w$]+\), ([\w$]+)\)")

_LOADER_JS = """
const SOURCE = __SOURCE__, FROM = __FROM__, TO = __TO__;
let canvasModule = null;

function load() {
  const source = new URL(SOURCE, window.location.href).href;
  canvasModule ??= fetch(source)
    .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.text(); })
    .then((text) => {
      if (!text.includes(FROM)) throw new Error("send delay not found");
      const blob = new Blob([text.replace(FROM, TO)], { type: "text/javascript" });
      return import(URL.createObjectURL(blob));
    })
    .catch((err) => {
      console.warn("SGAN Lab: canvas send delay not lowered:", err);
      return import(source);
    });
  return canvasModule;
}

export default async function (args) {
  return (await load()).default(args);
}
"""


def canvas_script() -> Path:
    """The package's bundled script, as Streamlit serves it."""
    spec = importlib.util.find_spec("streamlit_drawable_canvas")
    build = Path(next(iter(spec.submodule_search_locations))) / "frontend" / "build"
    return next(build.glob("index-*.js"))


def send_delay_patch(js: str, delay_ms: int = SEND_DELAY_MS) -> tuple[str, str] | None:
    """(text to find, replacement) that sets the canvas's send delay, or None when the script
    does not have exactly one such declaration."""
    senders = _SENDER.findall(js)
    if len(senders) != 1:
        return None
    declarations = re.findall(rf"(?<![\w$.]){re.escape(senders[0])} = \d+,", js)
    if len(declarations) != 1:
        return None
    return declarations[0], f"{senders[0]} = {delay_ms},"


def _loader(script: Path, patch: tuple[str, str]) -> str:
    source = server_path(f"_stcore/bidi-components/{PACKAGE_COMPONENT}/{script.name}")
    return (_LOADER_JS.replace("__SOURCE__", json.dumps(source))
            .replace("__FROM__", json.dumps(patch[0])).replace("__TO__", json.dumps(patch[1])))


_install_lock = threading.Lock()
_installed = False


def _canvas_module():
    """The package, its `st_canvas` routed through the loader (once per server, and only when
    the script matches)."""
    global _installed
    import streamlit_drawable_canvas as drawable_canvas  # also registers the package's own

    with _install_lock:
        if not _installed:
            _installed = True
            script = canvas_script()
            patch = send_delay_patch(script.read_text(encoding="utf-8"))
            if patch is not None:
                css = (script.parent / "index-style.css").read_text(encoding="utf-8")
                # st_canvas mounts whatever its module's `out` names; only the Draw page uses it
                drawable_canvas.out = st.components.v2.component(
                    "sgan_lab.fast_drawable_canvas", js=_loader(script, patch), css=css,
                    html='<div class="canvas-root"></div>', isolate_styles=True)
    return drawable_canvas


def st_canvas(**kwargs):
    """`streamlit_drawable_canvas.st_canvas`, without the 200 ms wait after each stroke."""
    return _canvas_module().st_canvas(**kwargs)
