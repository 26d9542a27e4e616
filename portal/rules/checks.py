"""Checks of a rule's action parameters when the rule is saved: each kind's `clean_*`
returns the parameters as stored, or raises Invalid naming the field (the page shows it
beside that field)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.models import PRIORITIES, CaseType
from portal.cases.types import AGING_QUEUE, BUILT_IN, origins_of
from portal.cases.types import case_type as case_type_row
from portal.errors import Invalid
from portal.queues.models import Queue
from portal.rules.choosers import CHOOSERS
from portal.rules.models import EmailTemplate
from portal.rules.texts import SUBJECT_PLACEHOLDERS, check_text

MAX_DUE_DAYS = 365


def case_type_slug(session: so.Session, slug: object) -> str:
    slug = str(slug or "")
    if (
        slug not in BUILT_IN
        and session.scalar(sa.select(CaseType.id).where(CaseType.slug == slug)) is None
    ):
        raise Invalid(f"There is no case type {slug!r}.", field="case_type")
    return slug


def _queue_slug(session: so.Session, slug: object, field: str) -> str:
    slug = str(slug or "")
    if (
        slug != AGING_QUEUE
        and session.scalar(sa.select(Queue.id).where(Queue.slug == slug)) is None
    ):
        raise Invalid(f"There is no queue {slug!r}.", field=field)
    return slug


def clean_open_case(session: so.Session, p: dict) -> dict:
    case_type = case_type_slug(session, p.get("case_type"))
    origin = str(p.get("origin") or "")
    origins = origins_of(session, case_type)
    if origin not in origins:
        raise Invalid(f"Choose where the case came from ({', '.join(origins)}).", field="origin")
    chooser_name = str(p.get("contact_chooser") or "")
    if chooser_name and chooser_name not in CHOOSERS:
        raise Invalid(f"There is no contact chooser {chooser_name!r}.", field="contact_chooser")
    subject = " ".join(str(p.get("subject") or "").split())
    if not subject or len(subject) > 200:
        raise Invalid("Write the case's subject (200 characters at most).", field="subject")
    check_text(subject, "subject", SUBJECT_PLACEHOLDERS)
    priority = str(p.get("priority") or "medium")
    if priority not in PRIORITIES:
        raise Invalid(f"Choose a priority ({', '.join(PRIORITIES)}).", field="priority")
    return {
        "kind": "open_case",
        "case_type": case_type,
        "origin": origin,
        "owner_queue": _queue_slug(session, p.get("owner_queue"), "owner_queue"),
        "contact_chooser": chooser_name,
        "subject": subject,
        "priority": priority,
    }


def clean_assignee(session: so.Session, spec: object) -> str:
    spec = str(spec or "")
    kind, _, value = spec.partition(":")
    if kind in ("queue_lead", "queue") and value:
        _queue_slug(session, value, "assignee")
        return spec
    if kind == "user" and value:
        user = session.scalar(sa.select(User).where(User.email == value.lower()))
        if user is None or not user.is_team or not user.active:
            raise Invalid(f"{value} is not an active member of staff.", field="assignee")
        return f"user:{value.lower()}"
    if spec == "account_owner":
        return spec
    raise Invalid(
        "Choose who gets the task: a queue's lead, a queue, a person or the account's owner.",
        field="assignee",
    )


def clean_due_days(value: object) -> int:
    try:
        days = int(str(value))
    except ValueError:
        raise Invalid("Write the due days as a whole number.", field="due_days") from None
    if not 0 <= days <= MAX_DUE_DAYS:
        raise Invalid(f"Due days are 0 to {MAX_DUE_DAYS}.", field="due_days")
    return days


def clean_create_task(session: so.Session, p: dict) -> dict:
    title = " ".join(str(p.get("title") or "").split())
    if not title or len(title) > 200:
        raise Invalid("Write the task's title (200 characters at most).", field="title")
    return {
        "kind": "create_task",
        "title": title,
        "due_days": clean_due_days(p.get("due_days")),
        "assignee": clean_assignee(session, p.get("assignee")),
    }


def clean_close_cases(session: so.Session, p: dict) -> dict:
    slug = case_type_slug(session, p.get("case_type"))
    kind = (
        case_type_row(session, slug)
        if slug in BUILT_IN
        else session.scalar(sa.select(CaseType).where(CaseType.slug == slug))
    )
    closed = [s.name for s in kind.statuses if s.meaning == "closed"]
    status = str(p.get("status") or "")
    if status not in closed:
        raise Invalid(f"Choose a closed status ({', '.join(closed)}).", field="status")
    return {"kind": "close_cases", "case_type": slug, "status": status}


def clean_complete_tasks(session: so.Session, p: dict) -> dict:
    return {"kind": "complete_tasks"}


def clean_send_email(session: so.Session, p: dict) -> dict:
    slug = str(p.get("template") or "")
    if session.scalar(sa.select(EmailTemplate.id).where(EmailTemplate.slug == slug)) is None:
        raise Invalid(f"There is no e-mail template {slug!r}.", field="template")
    return {"kind": "send_email", "template": slug}
