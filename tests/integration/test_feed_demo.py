"""The feed's demo data: numbers, owner, contacts with log-ins at the service and a first
feed on both sides of the threshold; the sample feed in static/samples dry-runs against
it without an error, moving one account up across the threshold and one down."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.accounts.models import Contact, CustomerAccount, User
from portal.demo import load_demo
from portal.feed.demo import SAMPLE_MOVES, load_feed_demo, sample_feed_rows
from tests.factories import NOW, create_user
from tests.integration.feed_world import listen, run_feed

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "samples" / "account-feed.csv"


@pytest.fixture
def heard(monkeypatch):
    return listen(monkeypatch)


@pytest.fixture
def demo(session, frozen_now, heard):
    frozen_now(NOW)
    load_demo(session, bookings=False, back_office=False)
    # The sales owner: made here unless the demo makes it already.
    if session.scalar(sa.select(User.id).where(User.email == "sales@demo.test")) is None:
        create_user(session, role="backoffice", email="sales@demo.test", full_name="Sam Sales")
    load_feed_demo(session)
    session.commit()


def days_by_number(session) -> dict:
    return dict(
        session.execute(
            sa.select(CustomerAccount.external_number, CustomerAccount.oldest_aging_days).where(
                CustomerAccount.external_number.is_not(None)
            )
        ).all()
    )


def test_the_demo_accounts_are_fed_on_both_sides_of_the_threshold(session, demo):
    days = days_by_number(session)

    assert days == {
        "CNF-10001": 7,
        "CNF-10002": 3,
        "CNF-10003": 12,
        "CNF-10004": None,
        "CNF-10005": 0,
    }
    flagged = session.scalars(
        sa.select(CustomerAccount.external_number).where(CustomerAccount.has_aging_confirmations)
    ).all()
    assert sorted(flagged) == ["CNF-10001", "CNF-10003"]


def test_the_demo_feed_goes_through_the_watchers(session, demo, heard):
    [changes] = [c for c, cause in heard.calls if cause.label == "Demo data: the first feed"]

    turned = [c.record_id for c in changes if c.changed("has_aging_confirmations")]
    assert len(turned) == 2


def test_the_demo_accounts_belong_to_the_sales_owner(session, demo):
    owners = session.scalars(
        sa.select(CustomerAccount.owner_user_id).where(CustomerAccount.external_number.is_not(None))
    ).all()

    assert len(set(owners)) == 1 and owners[0] is not None


def test_two_demo_accounts_have_a_second_contact_with_another_log_in(session, demo):
    counts = session.execute(
        sa.select(CustomerAccount.external_number, sa.func.count(Contact.id))
        .join(Contact, Contact.account_id == CustomerAccount.id)
        .where(Contact.external_id.is_not(None))
        .group_by(CustomerAccount.external_number)
    ).all()

    assert sorted(n for n, c in counts if c == 2) == ["CNF-10001", "CNF-10002"]


def test_loading_the_feed_demo_again_changes_nothing(session, demo, heard):
    """(load_demo may call it too: it does its accounts once.)"""
    heard.calls.clear()

    assert load_feed_demo(session) == 0
    assert heard.calls == []


def test_the_sample_file_is_the_demo_feed_with_two_moves():
    with SAMPLE.open(encoding="utf-8", newline="") as sample:
        assert list(csv.reader(sample)) == sample_feed_rows(SAMPLE_MOVES)


def test_the_sample_feed_dry_runs_without_error_and_crosses_both_ways(session, demo, tmp_path):
    result = run_feed(session, tmp_path, SAMPLE.read_bytes(), name="account-feed.csv")

    assert result.error_count == 0
    assert [(r.key, r.outcome, r.message) for r in result.rows] == [
        ("CNF-10001/C-20001", "changed", "oldest aging days 7 → 2"),
        ("CNF-10002/C-20003", "changed", "oldest aging days 3 → 6"),
    ]
    assert result.unchanged_count == 5


def test_the_sample_feed_applied_moves_the_flags(session, demo, tmp_path):
    run_feed(session, tmp_path, SAMPLE.read_bytes(), apply=True)

    flagged = session.scalars(
        sa.select(CustomerAccount.external_number).where(CustomerAccount.has_aging_confirmations)
    ).all()
    assert sorted(flagged) == ["CNF-10002", "CNF-10003"]
