"""parse_id: what a typed id may be (ASCII digits, 1..MAX_ID), checked against the
obvious rule for every kind of input, and page numbers beside it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.ids import MAX_ID, coerce_id, coerce_optional_id, parse_id, parse_page


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("007", 7),
        (str(MAX_ID), MAX_ID),
        ("0" * 5000 + "5", 5),
        (17, 17),
    ],
)
def test_ids_in_range_are_read(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x10",
        "1_000",
        str(MAX_ID + 1),
        "9" * 20,
        "9" * 5000,
        "\u00b2",  # superscript two: str.isdigit() says yes, int() refuses it
        "\u0661",  # Arabic-Indic one: int() reads it, but it is not how ids are written
        "\uff11",  # fullwidth one
        0,
        -3,
        MAX_ID + 1,
        True,
        1.0,
        b"1",
    ],
)
def test_anything_else_is_none(raw):
    assert parse_id(raw) is None


@given(st.text(max_size=12) | st.integers())
def test_parse_id_agrees_with_the_obvious_rule(raw):
    if isinstance(raw, int):
        expected = raw if 1 <= raw <= MAX_ID else None
    elif raw and all(c in "0123456789" for c in raw) and 1 <= int(raw) <= MAX_ID:
        expected = int(raw)
    else:
        expected = None
    assert parse_id(raw) == expected


def test_coerce_id_raises_value_error_for_what_is_not_an_id():
    assert coerce_id("12") == 12
    with pytest.raises(ValueError):
        coerce_id("9" * 20)
    assert coerce_optional_id("") is None
    assert coerce_optional_id("None") is None
    with pytest.raises(ValueError):
        coerce_optional_id("x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("0", 1),
        ("-2", 1),
        ("two", 1),
        ("\u00b2", 1),
        ("3", 3),
        ("9" * 20, MAX_ID),  # past every page: paginate shows the last one
        ("9" * 5000, MAX_ID),
    ],
)
def test_page_numbers(raw, expected):
    assert parse_page(raw) == expected
