"""The Draw page's canvas loader: the send delay it lowers is found in the pinned canvas."""
from __future__ import annotations

from sgan_ui import fast_canvas


def test_send_delay_is_found_in_the_pinned_canvas_script():
    js = fast_canvas.canvas_script().read_text(encoding="utf-8")
    patch = fast_canvas.send_delay_patch(js, delay_ms=0)
    assert patch is not None
    find, replace = patch
    assert js.count(find) == 1
    assert find.endswith(" = 200,")          # the package's 200 ms wait after a stroke
    assert replace == find.replace("200", "0")


def test_send_delay_patch_finds_the_debounce_of_the_sender_only():
    js = "var a = 5, Zz = 350, q = 1; x.sender = Nh((c) => Ic(x, c), Zz);"
    assert fast_canvas.send_delay_patch(js, delay_ms=10) == ("Zz = 350,", "Zz = 10,")


def test_an_unrecognised_script_is_left_alone():
    assert fast_canvas.send_delay_patch("export default () => {}") is None
    # two declarations of the delay: ambiguous, so no patch
    js = "var Zz = 350, y = Zz = 200, q; x.sender = Nh((c) => Ic(x, c), Zz);"
    assert fast_canvas.send_delay_patch(js) is None
