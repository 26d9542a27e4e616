"""The managers' rule pages: list, a rule's parameters, enable and disable, simulate,
firings, e-mail templates."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.rules.builtin import AGING_CLOSE_RULE, AGING_OPEN_RULE, AGING_TEMPLATE
from portal.rules.models import EmailTemplate, Rule
from tests.factories import NOW, create_user
from tests.rules_world import build_aging_world, feed


@pytest.fixture
def aging(session, frozen_now):
    frozen_now(NOW)
    return build_aging_world(session)


def rule_of(session, slug: str) -> Rule:
    return session.scalar(sa.select(Rule).where(Rule.slug == slug))


@pytest.fixture
def manager(session, auth, aging):
    user = create_user(session, role="manager")
    auth.login(user.email)
    return user


def test_the_list_shows_each_rule_with_its_trigger_and_recent_firings(
    session, client, aging, manager
):
    feed(session, aging.account, 6)
    page = client.get("/settings/rules").get_data(as_text=True)
    assert "Aging confirmations: open" in page
    assert "When an account&#39;s has aging confirmation(s) turns true" in page
    assert "Aging confirmations: close" in page


def test_a_manager_edits_the_due_days_and_the_assignee(session, client, aging, manager):
    rule = rule_of(session, AGING_OPEN_RULE)
    response = client.post_form(
        f"/settings/rules/{rule.id}",
        {
            "owner_queue": "aging",
            "due_days": "5",
            "assignee": "account_owner",
            "template": AGING_TEMPLATE,
        },
    )
    assert response.status_code == 302
    session.refresh(rule)
    task = next(a for a in rule.actions if a["kind"] == "create_task")
    assert task["due_days"] == 5 and task["assignee"] == "account_owner"


def test_a_bad_due_days_is_refused_with_a_message(session, client, aging, manager):
    rule = rule_of(session, AGING_OPEN_RULE)
    response = client.post_form(
        f"/settings/rules/{rule.id}",
        {
            "owner_queue": "aging",
            "due_days": "soon",
            "assignee": "queue:aging",
            "template": AGING_TEMPLATE,
        },
    )
    assert response.status_code == 422
    assert "Write the due days as a whole number." in response.get_data(as_text=True)
    session.refresh(rule)
    assert next(a for a in rule.actions if a["kind"] == "create_task")["due_days"] == 3


def test_a_threshold_is_edited_on_a_rule_that_has_one(session, client, aging, manager):
    rule = Rule(
        slug="aging-over",
        name="Aging over",
        record_type="account",
        trigger="turns_true",
        field="oldest_aging_days",
        params={"op": ">", "threshold": 10},
        actions=[],
        enabled=False,
    )
    session.add(rule)
    session.flush()
    response = client.post_form(f"/settings/rules/{rule.id}", {"threshold": "12"})
    assert response.status_code == 302
    session.refresh(rule)
    assert rule.params["threshold"] == 12
    bad = client.post_form(f"/settings/rules/{rule.id}", {"threshold": "-3"})
    assert bad.status_code == 422 and "The threshold is 0 to 100,000." in bad.get_data(as_text=True)


def test_disable_then_enable_through_the_buttons(session, client, aging, manager):
    rule = rule_of(session, AGING_CLOSE_RULE)
    assert (
        client.post_form(
            f"/settings/rules/{rule.id}/disable", form_url=f"/settings/rules/{rule.id}"
        ).status_code
        == 302
    )
    session.refresh(rule)
    assert rule.enabled is False
    page = client.get(f"/settings/rules/{rule.id}").get_data(as_text=True)
    assert "Enable, and apply what the simulation shows" in page
    assert (
        client.post_form(
            f"/settings/rules/{rule.id}/enable", form_url=f"/settings/rules/{rule.id}"
        ).status_code
        == 302
    )
    session.refresh(rule)
    assert rule.enabled is True


def test_the_simulation_page_lists_what_would_fire(session, client, aging, manager):
    rule = rule_of(session, AGING_OPEN_RULE)
    rule.enabled = False
    session.flush()
    feed(session, aging.account, 8)  # the rule is off: nothing opens
    page = client.get(f"/settings/rules/{rule.id}/simulate").get_data(as_text=True)
    assert "Acme Audit" in page
    assert "Enable, and apply these 1 firing" in page


def test_the_firings_log_shows_inputs_and_cause(session, client, aging, manager):
    feed(session, aging.account, 6)
    rule = rule_of(session, AGING_OPEN_RULE)
    page = client.get(f"/settings/rules/{rule.id}/firings").get_data(as_text=True)
    assert "Acme Audit" in page
    assert "oldest aging days none → 6" in page
    assert "Feed import IMP-000012" in page


def test_a_template_with_an_unknown_placeholder_is_refused(session, client, aging, manager):
    url = f"/settings/rules/templates/{AGING_TEMPLATE}"
    response = client.post_form(url, {"subject": "Hello {acount_name}", "body": "Body"})
    assert response.status_code == 422
    assert "Unknown placeholder {acount_name}" in response.get_data(as_text=True)
    ok = client.post_form(
        url, {"subject": "Waiting: {account_name}", "body": "Dear {contact_name}"}
    )
    assert ok.status_code == 302
    template = session.scalar(sa.select(EmailTemplate).where(EmailTemplate.slug == AGING_TEMPLATE))
    assert template.subject == "Waiting: {account_name}"


def test_a_scheduler_is_refused_the_rules(session, client, auth, aging):
    user = create_user(session, role="scheduler")
    auth.login(user.email)
    assert client.get("/settings/rules").status_code == 403
    rule = rule_of(session, AGING_OPEN_RULE)
    response = client.post_form(f"/settings/rules/{rule.id}/disable", form_url="/notifications")
    assert response.status_code == 403
    session.refresh(rule)
    assert rule.enabled is True


def test_the_case_page_says_why_the_case_opened(session, client, auth, aging):
    feed(session, aging.account, 6)
    from tests.rules_world import cases_of

    [case] = cases_of(session, aging.account)
    user = create_user(session, role="manager")
    auth.login(user.email)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Why this case opened" in page
    assert "Opened by the rule" in page and "Aging confirmations: open" in page
