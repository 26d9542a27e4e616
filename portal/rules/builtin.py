"""The rules and the e-mail template the product ships with, made on first use.

Tests empty the tables and a database may be built without migration data, so nothing
here trusts that a row exists: each is found by its slug or made (as portal/cases/types.py
does), enabled on creation. A manager's later edits (parameters, enabled) are kept: an
existing row is never touched again.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.cases.types import AGING, AGING_ORIGIN, AGING_QUEUE, AUTO_CLOSURE
from portal.rules.models import EmailTemplate, Rule

AGING_TEMPLATE = "aging-confirmations"
AGING_OPEN_RULE = "aging-confirmations-open"
AGING_CLOSE_RULE = "aging-confirmations-close"

TEMPLATES = {
    AGING_TEMPLATE: {
        "name": "Aging confirmations",
        "subject": "Confirmations waiting for {account_name} ({oldest_aging_days} days)",
        "body": (
            "Dear {contact_name},\n\n"
            "Some confirmation requests for {account_name} are still waiting for an answer "
            "on the confirmation service: the oldest has been pending for "
            "{oldest_aging_days} days.\n\n"
            "Please log in to the confirmation service and answer the requests that are "
            "waiting, or reply to this e-mail if something stops you from answering them "
            "(a request you do not recognise, a person who has left, a question about the "
            "amounts). Your reply reaches our aging team directly and is kept with case "
            "{case_number}.\n\n"
            "Thank you,\n"
            "The aging team"
        ),
    }
}

RULES = {
    AGING_OPEN_RULE: {
        "name": "Aging confirmations: open",
        "description": (
            "When an account's oldest aging passes 4 days, open an aging case for the "
            "contact who logged in to the confirmation service most recently, give the "
            "aging rep a task due in 3 days, and e-mail the contact."
        ),
        "record_type": "account",
        "trigger": "turns_true",
        "field": "has_aging_confirmations",
        "position": 10,
        "actions": [
            {
                "kind": "open_case",
                "case_type": AGING,
                "origin": AGING_ORIGIN,
                "owner_queue": AGING_QUEUE,
                "contact_chooser": "most_recent_external_login",
                "subject": "Aging confirmations: {account_name} ({oldest_aging_days} days)",
                "priority": "medium",
            },
            {
                "kind": "create_task",
                "title": "Reach the contact about the aging confirmations",
                "due_days": 3,
                "assignee": f"queue_lead:{AGING_QUEUE}",
            },
            {"kind": "send_email", "template": AGING_TEMPLATE},
        ],
    },
    AGING_CLOSE_RULE: {
        "name": "Aging confirmations: close",
        "description": (
            "When an account's oldest aging falls back to 4 days or less, close its open "
            "aging cases as 'Auto Closure - Aging Days Under 5' and complete their tasks."
        ),
        "record_type": "account",
        "trigger": "turns_false",
        "field": "has_aging_confirmations",
        "position": 20,
        "actions": [
            {"kind": "close_cases", "case_type": AGING, "status": AUTO_CLOSURE},
            {"kind": "complete_tasks"},
        ],
    },
}


def ensure_builtin(session: so.Session) -> None:
    """Make the built-in template and rules that are missing (two queries when none is)."""
    have = set(
        session.scalars(sa.select(EmailTemplate.slug).where(EmailTemplate.slug.in_(TEMPLATES)))
    )
    for slug, spec in TEMPLATES.items():
        if slug not in have:
            _make(session, EmailTemplate(slug=slug, **spec), EmailTemplate, slug)
    have = set(session.scalars(sa.select(Rule.slug).where(Rule.slug.in_(RULES))))
    for slug, spec in RULES.items():
        if slug not in have:
            row = Rule(slug=slug, params={}, enabled=True, built_in=True, **_copy(spec))
            _make(session, row, Rule, slug)


def builtin_missing(session: so.Session) -> list[str]:
    """The names of the built-in rules not made yet (read only, for pages)."""
    have = set(session.scalars(sa.select(Rule.slug).where(Rule.slug.in_(RULES))))
    return [spec["name"] for slug, spec in RULES.items() if slug not in have]


def _copy(spec: dict) -> dict:
    return {**spec, "actions": [dict(action) for action in spec["actions"]]}


def _make(session: so.Session, row, model, slug: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:  # another transaction made it first
        if session.scalar(sa.select(model.id).where(model.slug == slug)) is None:
            raise
