"""The staff console's appointment list: one account's, or every account's only when a
caller says so explicitly (None must never widen a customer's list to everyone's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.staff.queries import ALL_ACCOUNTS, list_appointments
from tests.factories import create_appointment, create_customer

START = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
def two_accounts(session):
    _, mine, contact = create_customer(session)
    _, _, other_contact = create_customer(session)
    create_appointment(session, start=START, contact=contact)
    create_appointment(session, start=START, contact=other_contact)
    return mine


def test_one_accounts_appointments_are_only_its_own(session, two_accounts):
    found = list_appointments(session, account_id=two_accounts.id)

    assert [a.account_id for a in found.items] == [two_accounts.id]


def test_every_accounts_appointments_need_the_explicit_all_accounts(session, two_accounts):
    found = list_appointments(session, account_id=ALL_ACCOUNTS)

    assert found.total == 2


def test_no_account_id_is_refused_rather_than_meaning_all(session, two_accounts):
    with pytest.raises(TypeError, match="ALL_ACCOUNTS"):
        list_appointments(session, account_id=None)
