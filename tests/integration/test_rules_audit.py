"""Configuration changes of the rules and the feed are in the audit log: who changed a
rule's parameters, switched it on or off, edited an e-mail template, or gave an account
its number at the confirmation service and its owner."""

from __future__ import annotations

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.feed.accounts import set_feed_details
from portal.rules.builtin import AGING_OPEN_RULE, AGING_TEMPLATE
from portal.rules.engine import disable_rule, enable_rule
from portal.rules.models import Rule
from portal.rules.services import template_by_slug, update_rule, update_template
from tests.factories import create_user
from tests.rules_world import build_aging_world


def _entries(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _open_rule(session) -> Rule:
    return session.scalar(sa.select(Rule).where(Rule.slug == AGING_OPEN_RULE))


def test_a_rules_new_parameters_are_audited_with_old_and_new(session):
    build_aging_world(session)
    manager = create_user(session, role="manager")
    rule = _open_rule(session)

    update_rule(session, rule, {"due_days": 5}, manager)

    (entry,) = _entries(session, "rule.updated")
    assert entry.actor_id == manager.id and entry.entity_id == rule.id
    assert "actions" in entry.changes


def test_switching_a_rule_off_and_on_is_audited(session):
    build_aging_world(session)
    manager = create_user(session, role="manager")
    rule = _open_rule(session)

    disable_rule(session, rule, manager)
    enable_rule(session, rule, manager)

    assert len(_entries(session, "rule.disabled")) == 1
    assert len(_entries(session, "rule.enabled")) == 1


def test_an_email_templates_edit_is_audited(session):
    build_aging_world(session)
    manager = create_user(session, role="manager")
    template = template_by_slug(session, AGING_TEMPLATE)

    update_template(
        session, template, subject="Confirmations waiting", body="Hello {contact_name}", by=manager
    )

    (entry,) = _entries(session, "email_template.updated")
    assert entry.actor_id == manager.id


def test_an_accounts_feed_number_and_owner_are_audited(session):
    world = build_aging_world(session)
    manager = create_user(session, role="manager")

    set_feed_details(
        session, world.account, external_number="CNF-777", owner_id=world.rep.id, by=manager
    )

    (entry,) = _entries(session, "account.feed_details")
    assert entry.entity_label == f"Account #{world.account.id}"
    assert "external_number" in entry.changes and "owner_user_id" in entry.changes
