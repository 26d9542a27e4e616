"""The customer page's "Confirmation feed" panel: what it shows, the manager's hand edit
of oldest aging days (the same path, so the same watchers, as the feed), the external
number and owner with their checks, and who may not edit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.accounts.models import CustomerAccount
from portal.feed import watchers
from portal.rules.models import Rule, RuleFiring
from tests.factories import NOW, create_user
from tests.integration.feed_world import feed_account, feed_contact, listen


@pytest.fixture
def heard(monkeypatch):
    return listen(monkeypatch)


@pytest.fixture
def panel(session, frozen_now):
    frozen_now(NOW)
    manager = create_user(
        session, role="manager", email="boss@example.com", full_name="Ann Manager"
    )
    create_user(session, role="scheduler", email="sched@example.com")
    sales = create_user(session, role="backoffice", email="sales@example.com", full_name="Sal Es")
    account = feed_account(session, "CNF-1", days=3)
    account.owner_user_id = sales.id
    feed_account(session, "CNF-2")
    feed_contact(
        session, account, "C-1", name="Early Bird", login=datetime(2026, 5, 30, 8, 0, tzinfo=UTC)
    )
    feed_contact(
        session, account, "C-2", name="Late Owl", login=datetime(2026, 5, 31, 20, 0, tzinfo=UTC)
    )
    session.commit()
    return {"account": account, "manager": manager, "sales": sales}


def url(account, what=""):
    return f"/staff/customers/{account.id}" + (f"/feed/{what}" if what else "")


def stored(session, panel) -> CustomerAccount:
    session.expire_all()
    return session.get(CustomerAccount, panel["account"].id)


def test_the_panel_shows_the_feed_values_and_the_log_ins_latest_first(client, auth, panel):
    auth.login("sched@example.com")

    html = client.get(url(panel["account"])).get_data(as_text=True)

    assert "Confirmation feed" in html
    assert "CNF-1" in html and "Sal Es" in html
    assert re.search(r"Has aging confirmation\(s\)</dt><dd>No", html)
    # London is on BST in May: 20:00 UTC shows as 21:00.
    shown = html[html.index("Confirmation feed") :]
    assert shown.index("Late Owl") < shown.index("Early Bird")
    assert "Sun 31 May 2026, 21:00 BST" in html


def test_a_scheduler_sees_the_panel_without_its_forms(client, auth, panel):
    auth.login("sched@example.com")

    html = client.get(url(panel["account"])).get_data(as_text=True)

    assert "Save oldest aging" not in html


def test_a_scheduler_cannot_edit_oldest_aging_days(client, auth, session, panel):
    auth.login("sched@example.com")

    response = client.post_form(url(panel["account"], "aging"), {"days": "9"})

    assert response.status_code == 403
    assert stored(session, panel).oldest_aging_days == 3


def test_a_manager_edits_oldest_aging_days_and_the_watchers_hear_it(
    client, auth, session, panel, heard
):
    auth.login("boss@example.com")

    response = client.post_form(url(panel["account"], "aging"), {"days": "5"})

    assert response.status_code == 302
    account = stored(session, panel)
    assert (account.oldest_aging_days, account.has_aging_confirmations) == (5, True)
    [(changes, cause)] = heard.calls
    assert changes[0].after == {"oldest_aging_days": 5, "has_aging_confirmations": True}
    assert (cause.kind, cause.label, cause.actor_id) == (
        "hand_edit",
        "Edited by Ann Manager",
        panel["manager"].id,
    )
    assert "Oldest aging days saved." in client.get(url(panel["account"])).get_data(as_text=True)


def test_an_empty_value_makes_the_days_unknown(client, auth, session, panel):
    auth.login("boss@example.com")

    client.post_form(url(panel["account"], "aging"), {"days": ""})

    assert stored(session, panel).oldest_aging_days is None


def test_the_same_value_again_tells_nobody(client, auth, session, panel, heard):
    auth.login("boss@example.com")

    client.post_form(url(panel["account"], "aging"), {"days": "3"})

    assert heard.calls == []


@pytest.mark.parametrize("typed", ["-2", "five", "1.5", "99999999"])
def test_a_bad_number_of_days_is_refused_with_a_message(client, auth, session, panel, typed):
    auth.login("boss@example.com")

    response = client.post_form(url(panel["account"], "aging"), {"days": typed})

    assert response.status_code == 422
    assert "Enter a whole number of days, 0 or more" in response.get_data(as_text=True)
    assert stored(session, panel).oldest_aging_days == 3


def test_a_manager_sets_the_external_number_and_owner(client, auth, session, panel, heard):
    auth.login("boss@example.com")

    response = client.post_form(
        url(panel["account"], "details"),
        {"external_number": " CNF-77 ", "owner": str(panel["manager"].id)},
    )

    assert response.status_code == 302
    account = stored(session, panel)
    assert (account.external_number, account.owner_user_id) == ("CNF-77", panel["manager"].id)
    [(changes, _cause)] = heard.calls
    assert changes[0].after == {"owner_user_id": panel["manager"].id}


def test_an_external_number_another_account_has_is_refused(client, auth, session, panel):
    auth.login("boss@example.com")

    response = client.post_form(
        url(panel["account"], "details"), {"external_number": "CNF-2", "owner": ""}
    )

    assert response.status_code == 409
    assert "CNF-2 is already the number of Account CNF-2." in response.get_data(as_text=True)
    assert stored(session, panel).external_number == "CNF-1"


def test_the_owner_must_be_a_team_user(client, auth, session, panel):
    customer = create_user(session, role="customer")
    session.commit()
    auth.login("boss@example.com")

    response = client.post_form(
        url(panel["account"], "details"), {"external_number": "CNF-1", "owner": str(customer.id)}
    )

    assert response.status_code == 422
    assert stored(session, panel).owner_user_id == panel["sales"].id


def test_a_scheduler_cannot_set_the_owner(client, auth, session, panel):
    auth.login("sched@example.com")

    response = client.post_form(
        url(panel["account"], "details"), {"external_number": "X", "owner": ""}
    )

    assert response.status_code == 403
    assert stored(session, panel).external_number == "CNF-1"


def test_another_accounts_id_that_does_not_exist_is_404(client, auth, session, panel):
    auth.login("boss@example.com")

    response = client.post_form("/staff/customers/999999/feed/aging", {"days": "1"})

    assert response.status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(CustomerAccount)) == 2


def test_the_message_says_what_the_rules_did(client, auth, session, panel, monkeypatch):
    """A stand-in for the rule engine logs a firing, as the rules do, in the edit's
    transaction; the page's message repeats what it did."""

    def rule_engine(db, changes, cause):
        rule = Rule(slug="aging", name="Aging cases", record_type="account", trigger="turns_true")
        db.add(rule)
        db.flush()
        db.add(
            RuleFiring(
                rule_id=rule.id,
                record_type="account",
                record_id=changes[0].record_id,
                outcome=[{"kind": "open_case", "text": "opened case CS-000001"}],
            )
        )
        db.flush()

    monkeypatch.setattr(watchers, "_watchers", [rule_engine])
    auth.login("boss@example.com")

    client.post_form(url(panel["account"], "aging"), {"days": "6"})

    html = client.get(url(panel["account"])).get_data(as_text=True)
    assert "Oldest aging days saved. The rules: Aging cases: opened case CS-000001." in html
