"""The derived flag "has aging confirmation(s)": unknown and 0 to 4 days are false, more
than 4 true; derive_account gives it from an account's fed values."""

from __future__ import annotations

import pytest

from portal.feed.derived import derive_account, has_aging_confirmations


@pytest.mark.parametrize("days", [None, 0, 1, 4])
def test_unknown_and_up_to_four_days_have_no_aging_confirmations(days):
    assert has_aging_confirmations(days) is False


@pytest.mark.parametrize("days", [5, 6, 400])
def test_more_than_four_days_have_aging_confirmations(days):
    assert has_aging_confirmations(days) is True


def test_an_account_derives_the_flag_from_its_days():
    assert derive_account({"oldest_aging_days": 5}) == {"has_aging_confirmations": True}
    assert derive_account({"oldest_aging_days": None}) == {"has_aging_confirmations": False}
