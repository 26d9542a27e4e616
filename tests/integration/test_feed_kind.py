"""The account feed's import kind, called as the import framework calls it: every row
checked and named (line, column, reason), a dry run that writes nothing, all or nothing
on applying, the same file or row again changing nothing, new contacts, the JSON form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.accounts.models import Contact, CustomerAccount
from portal.imports.kinds import FileProblem
from tests.factories import NOW, create_user
from tests.integration.feed_world import (
    HEADER,
    csv_file,
    feed_account,
    feed_contact,
    listen,
    run_feed,
)

LOGIN = datetime(2026, 5, 30, 8, 15, tzinfo=UTC)


@pytest.fixture
def heard(monkeypatch):
    return listen(monkeypatch)


@pytest.fixture
def accounts(session, frozen_now):
    """CNF-1 (3 days, contact C-1 last in on 30 May) and CNF-2 (unknown, contact C-2)."""
    frozen_now(NOW)
    one = feed_account(session, "CNF-1", days=3)
    two = feed_account(session, "CNF-2")
    feed_contact(session, one, "C-1", login=LOGIN)
    feed_contact(session, two, "C-2")
    session.commit()
    return one, two


def errors(result) -> list[tuple[int, str, str]]:
    return [(r.line, r.column, r.message) for r in result.rows if r.outcome == "error"]


def account(session, number: str) -> CustomerAccount:
    session.expire_all()
    return session.scalars(
        sa.select(CustomerAccount).where(CustomerAccount.external_number == number)
    ).one()


# --- applying -----------------------------------------------------------------------------------


def test_applying_sets_the_days_the_flag_and_the_log_ins(session, tmp_path, accounts, heard):
    content = csv_file(
        "CNF-1,5,C-1,,,2026-05-31T09:00:00Z",
        "CNF-2,2,C-2,,,2026-05-31T10:00:00+01:00",
    )

    result = run_feed(session, tmp_path, content, apply=True)

    assert (result.error_count, result.changed_count) == (0, 2)
    one = account(session, "CNF-1")
    assert (one.oldest_aging_days, one.has_aging_confirmations) == (5, True)
    assert one.aging_updated_at == NOW
    logins = dict(
        session.execute(sa.select(Contact.external_id, Contact.last_external_login_at)).all()
    )
    assert logins == {
        "C-1": datetime(2026, 5, 31, 9, 0, tzinfo=UTC),
        "C-2": datetime(2026, 5, 31, 9, 0, tzinfo=UTC),
    }


def test_applying_tells_the_watchers_once_with_the_import_as_the_cause(
    session, tmp_path, accounts, heard
):
    by = create_user(session, role="manager", full_name="Ann Manager")

    run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,,", "CNF-2,,C-2,,,"), apply=True, by=by)

    [(changes, cause)] = heard.calls
    assert [(c.record_type, c.after) for c in changes] == [
        ("contact", {"last_external_login_at": None}),
        ("account", {"oldest_aging_days": 5, "has_aging_confirmations": True}),
    ]
    assert cause.kind == "import"
    assert cause.label.startswith("Feed import IMP-")
    assert cause.import_id is not None
    assert cause.actor_id == by.id


def test_a_dry_run_writes_nothing_and_tells_nobody(session, tmp_path, accounts, heard):
    result = run_feed(session, tmp_path, csv_file("CNF-1,9,C-1,,,"))

    assert result.changed_count == 1
    assert account(session, "CNF-1").oldest_aging_days == 3
    assert heard.calls == []


def test_a_changed_row_says_what_changes(session, tmp_path, accounts):
    result = run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,,2026-05-31T09:00:00Z"))

    [row] = result.rows
    assert (row.line, row.key, row.outcome) == (2, "CNF-1/C-1", "changed")
    assert row.message == (
        "oldest aging days 3 → 5; last log-in 2026-05-30 08:15 UTC → 2026-05-31 09:00 UTC"
    )


def test_the_accounts_change_is_shown_on_its_first_row_only(session, tmp_path, accounts):
    feed_contact(session, accounts[0], "C-9", login=LOGIN)
    content = csv_file("CNF-1,6,C-1,,,2026-05-30T08:15:00Z", "CNF-1,6,C-9,,,2026-05-30T08:15:00Z")

    result = run_feed(session, tmp_path, content)

    assert [(r.line, r.message) for r in result.rows] == [(2, "oldest aging days 3 → 6")]
    assert (result.changed_count, result.unchanged_count) == (1, 1)


def test_the_same_file_twice_changes_nothing_the_second_time(session, tmp_path, accounts, heard):
    content = csv_file("CNF-1,5,C-1,,,2026-05-31T09:00:00Z", "CNF-2,,C-2,,,")
    run_feed(session, tmp_path, content, apply=True)
    heard.calls.clear()

    again = run_feed(session, tmp_path, content, apply=True, name="again.csv")

    assert (again.unchanged_count, again.changed_count, again.rows) == (2, 0, [])
    assert heard.calls == []


def test_the_same_row_in_another_file_is_unchanged(session, tmp_path, accounts, heard):
    run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,,2026-05-31T09:00:00Z"), apply=True)
    heard.calls.clear()
    # The same values, other bytes: columns reordered, CRLF, the same instant in +02:00.
    other = "last_login_at,contact_id,account_number,oldest_aging_days\r\n"
    other += "2026-05-31T11:00:00+02:00,C-1,CNF-1,5\r\n"

    result = run_feed(
        session,
        tmp_path,
        other.replace("oldest_aging_days", "oldest_aging_days,contact_name,contact_email").replace(
            ",5\r\n", ",5,,\r\n"
        ),
        apply=True,
    )

    assert (result.unchanged_count, result.error_count) == (1, 0)
    assert heard.calls == []


def test_a_new_contact_is_created_with_its_external_id(session, tmp_path, accounts, heard):
    content = csv_file("CNF-2,,C-7,Ada Byron,Ada@Example.com,2026-05-29T07:00:00Z")

    result = run_feed(session, tmp_path, content, apply=True)

    [row] = result.rows
    assert (row.outcome, row.key) == ("new", "CNF-2/C-7")
    assert "new contact Ada Byron <ada@example.com>" in row.message
    contact = session.scalars(sa.select(Contact).where(Contact.external_id == "C-7")).one()
    assert (contact.account_id, contact.full_name, contact.email) == (
        accounts[1].id,
        "Ada Byron",
        "ada@example.com",
    )
    assert contact.last_external_login_at == datetime(2026, 5, 29, 7, 0, tzinfo=UTC)
    [created] = heard.changes()
    assert (created.record_id, created.created) == (contact.id, True)


def test_a_new_contact_is_not_created_by_a_dry_run(session, tmp_path, accounts):
    run_feed(session, tmp_path, csv_file("CNF-2,,C-7,Ada Byron,ada@example.com,"))

    assert session.scalar(sa.select(Contact.id).where(Contact.external_id == "C-7")) is None


def test_an_account_without_contacts_has_one_row_with_empty_contact_columns(
    session, tmp_path, accounts
):
    result = run_feed(session, tmp_path, csv_file("CNF-2,8,,,,"), apply=True)

    assert (result.changed_count, result.error_count) == (1, 0)
    assert account(session, "CNF-2").oldest_aging_days == 8


def test_empty_days_make_the_days_unknown_and_the_flag_false(session, tmp_path, accounts):
    run_feed(session, tmp_path, csv_file("CNF-1,7,C-1,,,"), apply=True)

    run_feed(session, tmp_path, csv_file("CNF-1,,C-1,,,"), apply=True, name="2.csv")

    one = account(session, "CNF-1")
    assert (one.oldest_aging_days, one.has_aging_confirmations) == (None, False)


def test_a_bom_extra_columns_and_blank_lines_are_accepted(session, tmp_path, accounts):
    content = "\ufeff" + csv_file(
        "CNF-1,5,C-1,,,,ignored", "", "CNF-2,1,C-2,,,,", header=HEADER + ",note"
    )

    result = run_feed(session, tmp_path, content)

    assert (result.error_count, result.changed_count) == (0, 2)


# --- a row with an error ------------------------------------------------------------------------

BAD_ROWS = [
    ("CNF-404,5,C-1,,,", "account_number", "unknown account number: CNF-404"),
    (",5,C-1,,,", "account_number", "missing"),
    ("CNF-1,five,C-1,,,", "oldest_aging_days", "not a whole number: 'five'"),
    ("CNF-1,2.5,C-1,,,", "oldest_aging_days", "not a whole number: '2.5'"),
    ("CNF-1,-3,C-1,,,", "oldest_aging_days", "negative days: -3"),
    ("CNF-1,99999999999,C-1,,,", "oldest_aging_days", "more than 36,500 days: 99999999999"),
    ("CNF-2,1,C-1,,,", "contact_id", "belongs to another account: C-1"),
    ("CNF-1,5,C-8,,c8@example.com,", "contact_name", "a new contact needs a name"),
    ("CNF-1,5,C-8,Bo,,", "contact_email", "a new contact needs an e-mail address"),
    ("CNF-1,5,C-8,Bo,not-an-address,", "contact_email", "not an e-mail address: not-an-address"),
    ("CNF-1,5,C-1,,,yesterday", "last_login_at", "not a date and time with an offset"),
    ("CNF-1,5,C-1,,,2026-05-31T09:00:00", "last_login_at", "no offset"),
    ("CNF-1,5,C-1,,,2026-06-01T06:06:00Z", "last_login_at", "in the future: 2026-06-01T06:06:00Z"),
    ("CNF-1,5,,Bo,,", "contact_id", "missing (the row has a contact)"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_a_bad_row_is_named_with_its_line_column_and_reason(
    session, tmp_path, accounts, row, column, reason
):
    result = run_feed(session, tmp_path, csv_file("CNF-2,1,C-2,,,", row))

    [(line, named, message)] = errors(result)
    assert (line, named) == (3, column)
    assert message.startswith(reason)


def test_a_log_in_a_few_minutes_ahead_is_accepted(session, tmp_path, accounts):
    result = run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,,2026-06-01T06:04:00Z"))

    assert result.error_count == 0


def test_the_same_account_with_other_days_names_the_earlier_line(session, tmp_path, accounts):
    feed_contact(session, accounts[0], "C-9")
    content = csv_file("CNF-2,1,C-2,,,", "CNF-1,5,C-1,,,", "CNF-1,6,C-9,,,")

    result = run_feed(session, tmp_path, content)

    assert errors(result) == [(4, "oldest_aging_days", "differs from line 3 (5)")]


def test_a_contact_twice_in_the_file_is_a_duplicate_key(session, tmp_path, accounts):
    content = csv_file("CNF-1,5,C-1,,,", "CNF-2,1,C-2,,,", "CNF-1,5,C-1,,,")

    result = run_feed(session, tmp_path, content)

    assert errors(result) == [(4, "contact_id", "duplicate key: also on line 2")]


def test_a_file_with_one_bad_row_applies_nothing(session, tmp_path, accounts, heard):
    content = csv_file(
        "CNF-1,9,C-1,,,2026-05-31T09:00:00Z", "CNF-2,x,C-2,,,", "CNF-2,x,C-6,Cy,cy@example.com,"
    )

    result = run_feed(session, tmp_path, content, apply=True)

    assert [line for line, _c, _m in errors(result)] == [3, 4]
    assert account(session, "CNF-1").oldest_aging_days == 3
    assert session.scalar(sa.select(Contact.id).where(Contact.external_id == "C-6")) is None
    assert (
        session.scalar(
            sa.select(Contact.last_external_login_at).where(Contact.external_id == "C-1")
        )
        == LOGIN
    )
    assert heard.calls == []


# --- a file that cannot be read -----------------------------------------------------------------


def test_a_missing_column_is_named_on_line_1(session, tmp_path, accounts):
    header = HEADER.replace(",last_login_at", "")

    with pytest.raises(FileProblem) as problem:
        run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,", header=header))

    assert (problem.value.line, problem.value.column) == (1, "last_login_at")
    assert "no column last_login_at" in problem.value.message


def test_bytes_that_are_not_utf8_are_named_with_their_line(session, tmp_path, accounts):
    content = csv_file(
        "CNF-1,5,C-1,,,", "CNF-2,1,C-2,,,"
    ).encode() + "CNF-3,1,C-3,Zo\xeb,,\n".encode("latin-1")

    with pytest.raises(FileProblem) as problem:
        run_feed(session, tmp_path, content)

    assert problem.value.line == 4
    assert "Line 4 is not UTF-8" in problem.value.message


def test_an_empty_file_needs_a_header(session, tmp_path, accounts):
    with pytest.raises(FileProblem, match="needs a header row"):
        run_feed(session, tmp_path, "")


def test_broken_quoting_is_named_with_its_line(session, tmp_path, accounts):
    with pytest.raises(FileProblem) as problem:
        run_feed(session, tmp_path, csv_file("CNF-1,5,C-1,,,", 'CNF-2,1,"C-2"x,,,'))

    assert problem.value.line == 3


# --- the JSON form ------------------------------------------------------------------------------


def test_the_json_form_applies_like_the_csv_one(session, tmp_path, accounts):
    content = """
      {"accounts": [
        {"account_number": "CNF-1", "oldest_aging_days": 5,
         "contacts": [{"contact_id": "C-1", "last_login_at": "2026-05-31T09:00:00Z"},
                      {"contact_id": "C-5", "name": "Di", "email": "di@example.com",
                       "last_login_at": null}]},
        {"account_number": "CNF-2", "oldest_aging_days": null, "contacts": []}
      ]}"""

    result = run_feed(session, tmp_path, content, apply=True, name="feed.json")

    assert [(r.line, r.outcome) for r in result.rows] == [(1, "changed"), (1, "new")]
    assert result.meta == {"format": "json"}
    assert result.unchanged_count == 1
    assert account(session, "CNF-1").oldest_aging_days == 5


def test_a_json_error_names_the_item_and_the_contacts_field(session, tmp_path, accounts):
    content = """{"accounts": [
        {"account_number": "CNF-2", "oldest_aging_days": 1, "contacts": []},
        {"account_number": "CNF-1", "oldest_aging_days": 5,
         "contacts": [{"contact_id": "C-1"}, {"contact_id": "C-5", "name": "Di", "email": "x"}]},
        {"account_number": "CNF-1", "oldest_aging_days": "6"}
    ]}"""

    result = run_feed(session, tmp_path, content, name="feed.json")

    assert errors(result) == [
        (2, "contacts[2].email", "not an e-mail address: x"),
        (3, "oldest_aging_days", "differs from item 2 (5)"),
    ]


def test_json_that_is_not_a_feed_is_a_file_problem(session, tmp_path, accounts):
    with pytest.raises(FileProblem, match='no "accounts" list'):
        run_feed(session, tmp_path, '{"rows": []}', name="feed.json")


def test_broken_json_names_the_item(session, tmp_path, accounts):
    content = '{"accounts": [{"account_number": "CNF-1", "oldest_aging_days": 1}, {"acc'

    with pytest.raises(FileProblem) as problem:
        run_feed(session, tmp_path, content, name="feed.json")

    assert problem.value.line == 2


def test_a_long_json_feed_is_read_item_by_item(session, tmp_path, accounts):
    items = ",\n".join(
        f'{{"account_number": "X-{n}", "oldest_aging_days": {n % 9}, "contacts": []}}'
        for n in range(1, 4001)
    )

    result = run_feed(session, tmp_path, f'{{"accounts": [{items}]}}', name="feed.json")

    assert result.error_count == 4000
    assert errors(result)[-1] == (4000, "account_number", "unknown account number: X-4000")
