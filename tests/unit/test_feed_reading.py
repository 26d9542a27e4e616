"""Reading a feed file without the database: CSV line numbers, strict UTF-8, the JSON
form read item by item across the reader's buffer, and the values' parsing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from portal.feed import reading
from portal.feed.reading import FeedRow, read_rows
from portal.feed.values import parse_days, parse_login
from portal.imports.kinds import FileProblem

HEADER = "account_number,oldest_aging_days,contact_id,contact_name,contact_email,last_login_at"
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def rows(data: str | bytes) -> list[FeedRow]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(read_rows(io.BytesIO(raw)))


def test_a_csv_row_keeps_its_line_across_a_quoted_line_break():
    data = f'{HEADER}\nA,1,C1,"Ann\nLee",a@example.com,\nB,2,,,,\n'

    found = rows(data)

    assert [(r.line, r.account_number, r.name) for r in found] == [
        (2, "A", "Ann\nLee"),
        (4, "B", ""),
    ]


def test_csv_columns_may_come_in_any_order_and_case():
    data = (
        "Last_Login_At, contact_id ,ACCOUNT_NUMBER,oldest_aging_days,contact_email,contact_name\n"
    )
    data += "2026-05-01T00:00:00Z,C1,A,3,a@example.com,Ann\n"

    [row] = rows(data)

    assert (row.account_number, row.days, row.contact_id, row.login) == (
        "A",
        "3",
        "C1",
        "2026-05-01T00:00:00Z",
    )


def test_a_column_named_twice_is_a_file_problem():
    with pytest.raises(FileProblem, match="appears twice"):
        rows(HEADER + ",contact_id\n")


def test_a_short_csv_row_reads_its_missing_fields_as_empty():
    [row] = rows(f"{HEADER}\nA,1\n")

    assert (row.contact_id, row.login) == ("", "")


def test_a_bad_byte_names_its_line_even_far_into_the_file():
    data = (HEADER + "\n" + "A,1,,,,\n" * 5000).encode() + b"B,\xff,,,,\n"

    with pytest.raises(FileProblem) as problem:
        rows(data)

    assert problem.value.line == 5002


def test_a_json_feed_gives_one_row_per_contact_and_one_for_an_account_without():
    data = json.dumps(
        {
            "source": "confirmation service",
            "accounts": [
                {"account_number": "A", "oldest_aging_days": 3, "contacts": []},
                {
                    "account_number": "B",
                    "oldest_aging_days": None,
                    "contacts": [
                        {"contact_id": "C1", "name": "Ann", "email": "a@example.com"},
                        {"contact_id": 7, "last_login_at": "2026-05-01T00:00:00Z"},
                    ],
                },
            ],
        }
    )

    found = rows(data)

    assert [(r.line, r.account_number, r.days, r.contact_id) for r in found] == [
        (1, "A", 3, ""),
        (2, "B", None, "C1"),
        (2, "B", None, "7"),
    ]
    assert found[2].column("last_login_at") == "contacts[2].last_login_at"


def test_a_json_item_of_the_wrong_shape_is_a_row_problem():
    found = rows('{"accounts": [3, {"account_number": "A", "contacts": {"x": 1}}]}')

    assert [(r.line, r.problem) for r in found] == [
        (1, ("accounts", "not an object")),
        (2, ("contacts", "not a list")),
    ]


def test_json_items_that_straddle_the_read_buffer_are_read_whole(monkeypatch):
    monkeypatch.setattr(reading, "_READ", 7)
    items = [{"account_number": f"A{n}", "oldest_aging_days": n * 1000} for n in range(50)]

    found = rows("\ufeff" + json.dumps({"accounts": items}))

    assert [r.days for r in found] == [n * 1000 for n in range(50)]


def test_json_with_more_after_the_end_is_a_file_problem():
    with pytest.raises(FileProblem, match="more after the end"):
        rows('{"accounts": []} []')


def test_a_json_value_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_JSON_ITEM_CHARS", 100)
    monkeypatch.setattr(reading, "_READ", 10)

    with pytest.raises(FileProblem, match="larger than"):
        rows('{"accounts": [{"account_number": "' + "x" * 500 + '"}]}')


def test_json_that_is_not_utf8_is_a_file_problem():
    with pytest.raises(FileProblem, match="not UTF-8"):
        rows(b'{"accounts": [{"account_number": "\xe9"}]}')


@pytest.mark.parametrize(
    ("raw", "days"), [("", None), (None, None), ("0", 0), (" 12 ", 12), (7, 7)]
)
def test_days_parse(raw, days):
    assert parse_days(raw) == days


@pytest.mark.parametrize("raw", ["x", "1.5", True, 2.0, "-1", -1])
def test_days_refused(raw):
    with pytest.raises(ValueError):
        parse_days(raw)


def test_a_log_in_with_an_offset_is_kept_in_utc():
    assert parse_login("2026-05-31T10:00:00+01:00", NOW) == datetime(2026, 5, 31, 9, tzinfo=UTC)
    assert parse_login("", NOW) is None
