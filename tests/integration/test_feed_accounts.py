"""The account's feed details as services, without HTTP: the external number (unique,
empty takes the account out of the feed), the owner (an active team user), and the hand
edit of oldest aging days (the feed's path, with the editor as the cause)."""

from __future__ import annotations

import pytest

from portal.errors import Conflict, Invalid
from portal.feed.accounts import edit_oldest_aging_days, owner_candidates, set_feed_details
from tests.factories import create_user
from tests.integration.feed_world import feed_account, listen


@pytest.fixture
def heard(monkeypatch):
    return listen(monkeypatch)


@pytest.fixture
def people(session):
    return {
        "manager": create_user(session, role="manager", full_name="Ann Manager"),
        "sales": create_user(session, role="backoffice", full_name="Sal Es"),
        "gone": create_user(session, role="backoffice", full_name="Old Rep", active=False),
        "customer": create_user(session, role="customer", full_name="A Customer"),
    }


def test_an_empty_number_takes_the_account_out_of_the_feed(session, people):
    account = feed_account(session, "CNF-1")

    set_feed_details(session, account, external_number="  ", owner_id=None, by=people["manager"])

    assert account.external_number is None


def test_two_accounts_may_both_be_out_of_the_feed(session, people):
    one, two = feed_account(session, "CNF-1"), feed_account(session, "CNF-2")

    for account in (one, two):
        set_feed_details(session, account, external_number="", owner_id=None, by=people["manager"])

    assert (one.external_number, two.external_number) == (None, None)


def test_a_number_in_use_is_a_conflict_on_its_field(session, people):
    feed_account(session, "CNF-1")
    account = feed_account(session, "CNF-2")

    with pytest.raises(Conflict) as refused:
        set_feed_details(
            session, account, external_number="CNF-1", owner_id=None, by=people["manager"]
        )

    assert refused.value.field == "external_number"


@pytest.mark.parametrize("who", ["gone", "customer"])
def test_the_owner_must_be_an_active_team_user(session, people, who):
    account = feed_account(session, "CNF-1")

    with pytest.raises(Invalid):
        set_feed_details(
            session, account, external_number="CNF-1", owner_id=people[who].id, by=people["manager"]
        )


def test_owner_candidates_are_the_active_team_users(session, people):
    names = [u.full_name for u in owner_candidates(session)]

    assert names == ["Ann Manager", "Sal Es"]


def test_the_same_owner_again_tells_nobody(session, people, heard):
    account = feed_account(session, "CNF-1")
    account.owner_user_id = people["sales"].id

    set_feed_details(
        session, account, external_number="CNF-1", owner_id=people["sales"].id, by=people["manager"]
    )

    assert heard.calls == []


def test_a_hand_edit_names_the_editor_as_the_cause(session, people, heard):
    account = feed_account(session, "CNF-1", days=4)

    change = edit_oldest_aging_days(session, account, " 5 ", by=people["manager"])

    assert change.after == {"oldest_aging_days": 5, "has_aging_confirmations": True}
    [(_changes, cause)] = heard.calls
    assert (cause.kind, cause.label) == ("hand_edit", "Edited by Ann Manager")


@pytest.mark.parametrize("typed", ["-1", "x", "4.5", "100000"])
def test_a_hand_edit_refuses_what_is_not_a_number_of_days(session, people, typed):
    account = feed_account(session, "CNF-1", days=4)

    with pytest.raises(Invalid) as refused:
        edit_oldest_aging_days(session, account, typed, by=people["manager"])

    assert refused.value.field == "days"
