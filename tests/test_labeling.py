"""The labeling desk's answers (sgan_ui/labeling.py): kept in the order given, so undo takes back
the last one; a damaged file gives no answers, never an exception; and the keys' CSS classes
(sgan_ui/label_keys.py)."""
from __future__ import annotations

import json

import pytest

from sgan_ui.label_keys import key_class
from sgan_ui.labeling import (
    SKIP,
    answered,
    answers_path,
    first_open,
    given,
    load_answers,
    parse_answers,
    save_answers,
)


def test_answers_keep_the_order_they_were_given_in_through_the_file(tmp_path):
    answers = {}
    for i, value in ((300, 3), (12, SKIP), (7, 1), (12, 4)):  # 12 answered again: now last
        answers = answered(answers, i, value)
    assert list(answers.items()) == [(300, 3), (7, 1), (12, 4)]
    save_answers(tmp_path, "pick-10-0", answers)
    loaded = load_answers(tmp_path, "pick-10-0")
    assert list(loaded.items()) == [(300, 3), (7, 1), (12, 4)]  # not sorted, as JSON keys are
    undone = answered(loaded, list(loaded)[-1], None)  # undo: the last answer taken back
    assert list(undone.items()) == [(300, 3), (7, 1)]
    assert given(answered(undone, 5, SKIP)) == {300: 3, 7: 1}


def test_the_first_image_without_an_answer_is_the_next(tmp_path):
    assert first_open([4, 8, 15], {}) == 4
    assert first_open([4, 8, 15], {4: 1, 15: SKIP}) == 8
    assert first_open([4, 8, 15], {4: 1, 8: 2, 15: SKIP}) is None


def test_the_older_flat_files_still_load_in_index_order(tmp_path):
    path = answers_path(tmp_path, "ask-r1-10")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"40": 2, "5": SKIP, "1000": 9}))
    assert list(load_answers(tmp_path, "ask-r1-10").items()) == [(5, SKIP), (40, 2), (1000, 9)]


@pytest.mark.parametrize("text", [
    "", "{", "[]", "null", "7", '"answers"', '{"answers": [1, 2]}', '{"answers": null}',
    "[" * 100_000 + "]" * 100_000,
    '{"answers": {"3": 10, "4": -1, "5": true, "6": "7", "x": 1, "\u00b2": 2, "-3": 1,'
    ' "99999999999": 1, "8": 1.5, "9": [1]}, "order": [9, "8", 3, null, {"a": 1}]}',
])
def test_a_damaged_file_gives_no_answers_never_an_exception(tmp_path, text):
    path = answers_path(tmp_path, "k")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    assert load_answers(tmp_path, "k") == {}


def test_what_is_sound_in_a_damaged_file_is_kept_in_its_order():
    raw = {"answers": {"3": 1, "4": "skip", "5": True, "6": 11, "10": 0},
           "order": [10, 10, "4", 77, None, "x", 3.0]}
    assert list(parse_answers(raw).items()) == [(10, 0), (4, SKIP), (3, 1)]
    assert parse_answers({"answers": {"2": 2}, "order": "2"}) == {2: 2}


def test_a_key_that_could_leave_the_answers_folder_is_refused(tmp_path):
    for key in ("../x", "a/b", "", "x" * 200):
        with pytest.raises(ValueError):
            answers_path(tmp_path, key)


def test_the_css_class_streamlit_gives_a_keyed_widget():
    assert key_class("pick-10-0-345") == "st-key-pick-10-0-345"
    assert key_class("ask-2026.12.05 x-10-7") == "st-key-ask-2026-12-05-x-10-7"
