"""The public shape of a case and of a comment on it: what the JSON API answers with and
what webhooks carry (`case.created`, `case.closed` from portal/cases/hooks.py, and the
case inside `milestone.warning` / `milestone.violated`), so they never drift.

It sits on the cases floor, below both the API (a feature) and the SLA package, and
imports nothing above cases (as portal/booking/shapes.py does for appointments).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from portal.booking.shapes import read_off
from portal.cases.models import Case
from portal.cases.types import status_of
from portal.workorders.models import TimelineEntry


class OwnerOut(BaseModel):
    kind: Literal["user", "queue"]
    id: int
    name: str


class CaseOut(BaseModel):
    id: int
    number: str = Field(description="CS-000123: what people quote.")
    case_type: str = Field(description="The case type's slug: support, aging, ...")
    subject: str
    description: str
    origin: str = Field(description="Where the case came from: Portal, Phone, E-mail, ...")
    priority: Literal["low", "medium", "high", "urgent"]
    status: str = Field(description="One of the case type's statuses, by name.")
    state: Literal["open", "waiting", "closed"] = Field(
        description="What the status means: open (the team works it), waiting (on the "
        "customer: SLA clocks pause) or closed."
    )
    is_closed: bool
    account_id: int
    contact_id: int | None
    owner: OwnerOut | None = Field(
        description="Who works the case, a person or a queue. Staff only; null for customers."
    )
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = Field(
        description="When the team first answered the customer."
    )
    closed_at: datetime | None


class CommentOut(BaseModel):
    id: int
    at: datetime
    text: str
    visibility: Literal["internal", "customer"] = Field(
        description="internal: the team only; customer: the customer sees it too."
    )
    author_name: str | None
    from_team: bool = Field(description="Written by the team (not by the customer).")


def case_out(case: Case, *, with_owner: bool = True) -> CaseOut:
    """The case as the API and the webhooks show it; `with_owner` False (what customers
    see) leaves out who works it inside the organisation."""
    return read_off(
        CaseOut,
        case,
        case_type=case.case_type.slug,
        state=status_of(case.case_type, case.status).meaning,
        owner=_owner(case) if with_owner else None,
    )


def _owner(case: Case) -> OwnerOut | None:
    if case.owner_user is not None:
        return OwnerOut(kind="user", id=case.owner_user.id, name=case.owner_user.full_name)
    if case.owner_queue is not None:
        return OwnerOut(kind="queue", id=case.owner_queue.id, name=case.owner_queue.name)
    return None


def comment_out(entry: TimelineEntry) -> CommentOut:
    """A comment (a timeline entry of action "comment") in its public shape."""
    actor = entry.actor
    return CommentOut(
        id=entry.id,
        at=entry.at,
        text=entry.note,
        visibility=entry.visibility,
        author_name=actor.full_name if actor is not None else None,
        from_team=actor is not None and actor.is_team,
    )
