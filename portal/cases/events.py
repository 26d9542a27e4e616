"""One place where a change of a case is told: the case watchers (the SLA clocks) in the
caller's transaction, and the outbox event (notices, e-mails, webhooks) expanded after
the commit by the scheduler process (portal/cases/notices.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.models import Case
from portal.cases.watchers import CaseEvent, case_changed
from portal.notifications.events import record_event

# The kind of the outbox events this package writes and expands.
KIND = "case"


def emit(
    session: so.Session,
    case: Case,
    kind: str,
    *,
    at: datetime,
    by: User | None,
    old: str | None = None,
    new: str | None = None,
    meaning: str | None = None,
    note: str = "",
    visibility: str = "internal",
    extra: dict | None = None,
) -> None:
    """Tell the watchers of `kind` happening to `case`, and record the outbox event.

    `visibility` says whether the customer hears of it ("customer") or only the team."""
    session.flush()  # a new case gets its id; watchers query what was written
    case_changed(session, CaseEvent(case, kind, at, by, old, new, meaning))
    record(
        session,
        case,
        kind,
        at=at,
        by=by,
        old=old,
        new=new,
        note=note,
        visibility=visibility,
        extra=extra,
    )


def record(
    session: so.Session,
    case: Case,
    name: str,
    *,
    at: datetime,
    by: User | None,
    old: str | None = None,
    new: str | None = None,
    note: str = "",
    visibility: str = "internal",
    extra: dict | None = None,
) -> None:
    """Only the outbox event (for what is no case event: a work order done, say)."""
    data = {
        "by": by.id if by is not None else None,
        "old": old,
        "new": new,
        "note": note,
        "visibility": visibility,
        **(extra or {}),
    }
    record_event(session, KIND, name, case.id, data, now=at)
