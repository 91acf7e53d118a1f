"""Who may change what: the demo host mode, and the check of the Host header.

On localhost (the default) the single user can do everything, as before. A server in host mode
- listening on a network address (`--server.address 0.0.0.0`), answering to a name that is not
local (reached through a proxy or a tunnel, which must be allowed by name), or with a password
configured - lets viewers watch and draw; starting, stopping, resuming and deleting runs and the
demo need the host's password ($SGAN_ADMIN_PASSWORD, or `admin_password` in
.streamlit/secrets.toml), and at most `max_queued()` runs wait in the queue. In every mode a
request whose Host header names anything but localhost or a configured name ($SGAN_ALLOWED_HOSTS,
or `allowed_hosts` in the secrets) is refused, so a web page that rebinds its own name to
127.0.0.1 cannot drive the server. (Streamlit's own test runner sends no Host header; browsers
always do.)
"""
from __future__ import annotations

import hmac
import os
import threading
import time

import streamlit as st

from sgan_ui.common import plain

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
LOCAL_ADDRESSES = LOCAL_HOSTS + ("127.0.1.1",)
DEFAULT_MAX_QUEUED = 4   # runs waiting in host mode; each start past it is refused
WRONG_PASSWORD_DELAY_S = 1.0
_GUESSES = threading.Lock()  # one password check at a time, across every browser session


def _setting(env: str, secret: str) -> str:
    value = os.environ.get(env, "")
    if value or not _secrets_file():
        return value
    try:
        return str(st.secrets.get(secret, "") or "")
    except Exception:  # a secrets file that does not parse: no setting
        return ""


def _secrets_file() -> bool:
    """Is there a secrets file at all? Reading st.secrets makes Streamlit poll the files for
    changes even when none exists, which cost a live page's server a third of its CPU."""
    return any(os.path.isfile(p) for p in st.get_option("secrets.files") or ())


def password() -> str:
    return _setting("SGAN_ADMIN_PASSWORD", "admin_password")


def allowed_hosts() -> set[str]:
    names = _setting("SGAN_ALLOWED_HOSTS", "allowed_hosts").replace(",", " ").split()
    return {n.lower() for n in names} | set(LOCAL_HOSTS)


def host_name(header: str) -> str:
    """'Example.org:8501' -> 'example.org'; '[::1]:8501' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(header: str | None, allowed: set[str]) -> bool:
    """A request without a Host header (Streamlit's test runner) is local."""
    return header is None or host_name(header) in allowed


def passwords_match(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected password matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def is_host_mode(address: str, password_set: bool, allowed: set[str]) -> bool:
    """Does a server with this listen address, password and allowed names serve others?"""
    return (password_set or address not in LOCAL_ADDRESSES
            or any(name not in LOCAL_HOSTS for name in allowed))


def host_mode() -> bool:
    """Serving a network (or a password is set): changes need the password."""
    return is_host_mode(str(st.get_option("server.address") or ""), bool(password()),
                        allowed_hosts())


def can_control() -> bool:
    """May this browser session start, stop, resume and delete runs?"""
    return not host_mode() or st.session_state.get("_host_unlocked") is True


def max_queued() -> int | None:
    """How many runs may wait in the queue: no limit outside host mode."""
    if not host_mode():
        return None
    value = os.environ.get("SGAN_MAX_QUEUED", "")
    return int(value) if value.isdigit() else DEFAULT_MAX_QUEUED


def guard_request() -> None:
    """First thing on every page: refuse a request made to a name this server is not."""
    header = st.context.headers.get("Host")
    if not host_allowed(header, allowed_hosts()):
        st.error(f"This SGAN Lab server does not answer to {plain(repr(host_name(header)))}. "
                 "Open it by its own address; its host can allow a name with "
                 "SGAN\\_ALLOWED\\_HOSTS.")
        st.stop()


def control_panel() -> None:
    """Sidebar: in host mode, the password field that unlocks the controls for this session."""
    if not host_mode():
        return
    with st.sidebar:
        if can_control():
            st.success("Host controls unlocked in this browser.", icon=":material/lock_open:")
            if st.button("Lock", icon=":material/lock:"):
                st.session_state["_host_unlocked"] = False
                st.rerun()
            return
        if not password():
            st.info("Demo host mode: watch and draw. Starting and stopping runs is off; the "
                    "host can turn it on with SGAN_ADMIN_PASSWORD.", icon=":material/lock:")
            return
        st.caption("Demo host mode: you can watch and draw. Starting, stopping and deleting "
                   "runs need the host's password.")
        st.text_input("Host password", type="password", key="_host_password")
        st.button("Unlock", icon=":material/key:", on_click=_unlock)
        if st.session_state.pop("_host_wrong", False):
            st.error("Wrong password.")


def _unlock() -> None:
    """The Unlock button: the typed password is checked, then forgotten either way."""
    given = str(st.session_state.pop("_host_password", "") or "")
    with _GUESSES:  # guesses from many sessions at once wait in line: one a second at most
        if passwords_match(given, password()):
            st.session_state["_host_unlocked"] = True
            return
        time.sleep(WRONG_PASSWORD_DELAY_S)
    st.session_state["_host_wrong"] = True


LOCKED_HELP = "Needs the host's password (sidebar): this server is in demo host mode."


def locked(help_text: str | None = None) -> dict:
    """Keyword arguments for a button that changes runs: disabled, with the reason, unless this
    session may change runs. (Handlers check can_control() again: a disabled button is only a
    hint to the browser.)"""
    allowed = can_control()
    return {"disabled": not allowed, "help": help_text if allowed else LOCKED_HELP}
