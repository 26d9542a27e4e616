"""Cases in a customer's download and in its anonymisation (see registry.py).

The download holds the account's cases, as the Support pages show them to any of its
users, with what the customer may see of their timelines (customer-visible comments and
changes), never the team's internal notes.

The anonymisation keeps every case, its status, priority, dates and history, and removes
what the person wrote or told: the subject, description and every note of the cases of
the person (those its contacts opened, or all the account's cases when the person is the
account's only contact, as the addresses are cleared then), the person's own comments on
any case, and the copies of those texts elsewhere: the back-office work orders (and their
tasks) the cases handed out, the case events and e-mails in the outbox, the notices that
quote them, and the webhook deliveries that carry the case. The sweep afterwards replaces
names, e-mail addresses and phone numbers; this part is for the free text a sweep cannot
recognise.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact
from portal.cases.models import Case, CaseWorkOrder
from portal.cases.types import status_of
from portal.notifications.models import Notification, OutboxMessage
from portal.privacy.registry import Subject, register
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask

REMOVED = "Removed when the customer's data was anonymised."
REMOVED_SUBJECT = "Anonymised case"
# Outbox event kind of cases (portal/cases/events.py KIND), and the webhook events whose
# data carries a case (portal/cases/hooks.py; the SLA's milestone events).
CASE_EVENT_KIND = "case"
CASE_WEBHOOKS = ("case.created", "case.closed", "milestone.warning", "milestone.violated")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- the download ---------------------------------------------------------------------------


def export_cases(session: so.Session, subject: Subject) -> dict:
    if subject.account is None:
        return {"cases": []}
    cases = list(
        session.scalars(
            sa.select(Case)
            .where(Case.account_id == subject.account.id)
            .options(so.joinedload(Case.case_type))
            .order_by(Case.id)
        )
    )
    entries: dict[int, list[TimelineEntry]] = {}
    for entry in session.scalars(
        sa.select(TimelineEntry)
        .where(
            TimelineEntry.subject_type == "Case",
            TimelineEntry.subject_id.in_([c.id for c in cases]),
            TimelineEntry.visibility == "customer",
        )
        .options(so.joinedload(TimelineEntry.actor))
        .order_by(TimelineEntry.at, TimelineEntry.id)
    ):
        entries.setdefault(entry.subject_id, []).append(entry)
    contacts = {c.id for c in subject.contacts}
    return {
        "cases": [
            {
                "number": case.number,
                "subject": case.subject,
                "description": case.description,
                "origin": case.origin,
                "priority": case.priority,
                "status": case.status,
                "state": status_of(case.case_type, case.status).meaning,
                "yours": case.contact_id in contacts,
                "created_at": _when(case.created_at),
                "first_response_at": _when(case.first_response_at),
                "closed_at": _when(case.closed_at),
                "comments": [
                    {
                        "at": _when(e.at),
                        "from": _author(e, subject),
                        "text": e.note,
                    }
                    for e in entries.get(case.id, [])
                    if e.action == "comment"
                ],
                "changes": [
                    {
                        "at": _when(e.at),
                        "action": e.action,
                        "field": e.field,
                        "old": e.old_value,
                        "new": e.new_value,
                        "note": e.note,
                    }
                    for e in entries.get(case.id, [])
                    if e.action != "comment"
                ],
            }
            for case in cases
        ]
    }


def _author(entry: TimelineEntry, subject: Subject) -> str:
    """ "you", "the team", or "your colleague" (another user of the account)."""
    if entry.actor_id == subject.user.id:
        return "you"
    if entry.actor is not None and entry.actor.is_team:
        return "the team"
    return "your colleague"


# --- the anonymisation ----------------------------------------------------------------------


def anonymise_cases(session: so.Session, subject: Subject) -> None:
    case_ids = _persons_cases(session, subject)
    work_order_ids = list(
        session.scalars(
            sa.select(CaseWorkOrder.work_order_id).where(CaseWorkOrder.case_id.in_(case_ids))
        )
    )
    _update(
        session,
        sa.update(Case)
        .where(Case.id.in_(case_ids))
        .values(subject=REMOVED_SUBJECT, description=""),
    )
    # Every note on the person's cases and their back-office work; the person's own
    # comments wherever they are. What changed, when and by whom stays.
    _update(
        session,
        sa.update(TimelineEntry)
        .where(
            sa.or_(
                sa.and_(
                    TimelineEntry.subject_type == "Case", TimelineEntry.subject_id.in_(case_ids)
                ),
                TimelineEntry.work_order_id.in_(work_order_ids),
                sa.and_(
                    TimelineEntry.subject_type == "Case",
                    TimelineEntry.actor_id == subject.user.id,
                ),
            ),
            TimelineEntry.note != "",
        )
        .values(note=REMOVED),
    )
    _update(
        session,
        sa.update(WorkOrder)
        .where(WorkOrder.id.in_(work_order_ids))
        .values(summary=REMOVED_SUBJECT, description=""),
    )
    _update(
        session,
        sa.update(WorkOrderTask)
        .where(WorkOrderTask.work_order_id.in_(work_order_ids))
        .values(title=REMOVED_SUBJECT),
    )
    # The e-mails about the cases (to the contact, and anyone else told) quote them.
    _update(
        session,
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.channel == "email",
            OutboxMessage.subject_type == CASE_EVENT_KIND,
            OutboxMessage.subject_id.in_(case_ids),
        )
        .values(subject=REMOVED_SUBJECT, body_text="", body_html=""),
    )
    _scrub_events(session, case_ids, subject.user.id)
    _scrub_notices(session, case_ids, work_order_ids)
    _scrub_webhooks(session, set(case_ids))
    session.flush()


def _persons_cases(session: so.Session, subject: Subject) -> list[int]:
    contact_ids = [c.id for c in subject.contacts]
    mine = sa.or_(Case.contact_id.in_(contact_ids), Case.created_by_id == subject.user.id)
    account = subject.account
    if account is not None and _sole_contact(session, account.id, contact_ids):
        mine = sa.or_(mine, Case.account_id == account.id)
    return list(session.scalars(sa.select(Case.id).where(mine).order_by(Case.id)))


def _sole_contact(session: so.Session, account_id: int, contact_ids: list[int]) -> bool:
    others = session.scalar(
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(Contact.account_id == account_id, Contact.id.not_in(contact_ids))
    )
    return not others


def _update(session: so.Session, statement) -> None:
    session.execute(statement.execution_options(synchronize_session="fetch"))


def _scrub_events(session: so.Session, case_ids: list[int], user_id: int) -> None:
    """The case events of the person's cases, and those of the person's own doing on any
    case: the note they froze (a comment's text) goes."""
    rows = session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.channel == "event", OutboxMessage.subject_type == CASE_EVENT_KIND
        )
    )
    for row in rows:
        data = json.loads(row.body_text or "{}")
        if (row.subject_id in case_ids or data.get("by") == user_id) and data.get("note"):
            data["note"] = ""
            row.body_text = json.dumps(data, separators=(",", ":"))


def _scrub_notices(session: so.Session, case_ids: list[int], work_order_ids: list[int]) -> None:
    """In-portal notices about the cases quote their subject or a comment: they keep their
    link and say the details were removed."""
    links = [f"/cases/{i}" for i in case_ids] + [f"/support/{i}" for i in case_ids]
    links += [f"/back-office/work-orders/{i}" for i in work_order_ids]
    if not links:
        return
    _update(
        session,
        sa.update(Notification)
        .where(Notification.link.in_(links))
        .values(message="A case's details were removed when the customer's data was anonymised."),
    )


def _scrub_webhooks(session: so.Session, case_ids: set[int]) -> None:
    """Webhook deliveries carrying one of the cases (kept for their log, and retried if
    still due): the case's subject and description in them go."""
    if not case_ids:
        return
    rows = session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.channel == "webhook", OutboxMessage.subject.in_(CASE_WEBHOOKS)
        )
    )
    for row in rows:
        body = json.loads(row.body_text or "{}")
        case = (body.get("data") or {}).get("case") or {}
        if case.get("id") in case_ids:
            for name, blank in (("subject", REMOVED_SUBJECT), ("description", "")):
                if name in case:
                    case[name] = blank
            row.body_text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)


register("cases", export=export_cases, anonymise=anonymise_cases)
