"""The shapes the cases part of the API takes and gives. A case and a comment have the
public shapes webhooks carry too (portal/cases/shapes.py); a milestone has the keys of
the `milestone` object in the `milestone.warning` / `milestone.violated` webhooks
(portal/sla/services.py `milestone_data`). Input models only say what well-formed input
looks like; the case services check the rest (an origin of the type, a contact of the
account, an owner who may own a case)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from portal.api.schemas import Body, Id, PageQuery, Text
from portal.cases.models import PRIORITIES
from portal.cases.queries import STATES
from portal.cases.services import DESCRIPTION_MAX, NOTE_MAX, SUBJECT_MAX
from portal.cases.shapes import CaseOut, CommentOut
from portal.sla.models import MILESTONE_KINDS, MILESTONE_STATES, Milestone

# --- inputs ---------------------------------------------------------------------------------


class CasesQuery(PageQuery):
    state: Literal[STATES] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Only cases whose status means this: open, waiting (on the customer) "
        "or closed.",
    )


class CaseIn(Body):
    subject: Text = Field(min_length=1, max_length=SUBJECT_MAX)
    description: Text = Field(default="", max_length=DESCRIPTION_MAX)
    priority: Literal[PRIORITIES] = "medium"  # type: ignore[valid-type]
    origin: Text | None = Field(
        default=None,
        max_length=60,
        description="Staff: where the case came from, one of its type's origins (Phone, "
        "E-mail, Portal); Phone when left out. A customer's case comes from the Portal.",
    )
    account_id: Id | None = Field(
        default=None, description="Staff: the customer account (required for staff)."
    )
    contact_id: Id | None = Field(
        default=None, description="Staff: the contact at that account who asked, if any."
    )
    owner_user_id: Id | None = Field(
        default=None,
        description="Staff: the member of staff who owns the case (or owner_queue_id; the "
        "contact centre's queue when neither is given).",
    )
    owner_queue_id: Id | None = Field(default=None, description="Staff: the queue that owns it.")


class CommentIn(Body):
    text: Text = Field(min_length=1, max_length=NOTE_MAX)
    visibility: Literal["internal", "customer"] = Field(
        default="internal",
        description="Staff: internal (the team only) or customer (the customer sees it and "
        "is e-mailed). A customer's comment is always visible to the customer.",
    )


# --- outputs --------------------------------------------------------------------------------


class MilestoneOut(BaseModel):
    id: int
    kind: Literal[MILESTONE_KINDS]  # type: ignore[valid-type]
    name: str
    state: Literal[MILESTONE_STATES]  # type: ignore[valid-type]
    paused: bool = Field(description="The clock stands still (the case waits on the customer).")
    target_minutes: int = Field(description="The target in business minutes.")
    used_minutes: int = Field(description="Business minutes used so far.")
    started_at: datetime
    due_at: datetime | None = Field(description="When the target falls; null while paused.")
    completed_at: datetime | None
    applies_to: Literal["case", "work_order"] = Field(
        description="case: the customer's clock; work_order: a back-office work order's "
        "internal one (staff only)."
    )
    work_order_id: int | None


class CaseDetail(CaseOut):
    milestones: list[MilestoneOut] = Field(
        description="The case's SLA milestones; for staff also those of its back-office "
        "work orders."
    )


class CasePage(BaseModel):
    items: list[CaseOut]
    page: int
    pages: int
    total: int


class CommentList(BaseModel):
    case_id: int
    items: list[CommentOut]


# --- records to shapes ----------------------------------------------------------------------


def milestone_out(milestone: Milestone) -> MilestoneOut:
    return MilestoneOut(
        id=milestone.id,
        kind=milestone.kind,
        name=milestone.name,
        state=milestone.state,
        paused=milestone.paused,
        target_minutes=milestone.target_minutes,
        used_minutes=milestone.used_seconds // 60,
        started_at=milestone.started_at,
        due_at=milestone.due_at,
        completed_at=milestone.completed_at,
        applies_to="case" if milestone.case_id is not None else "work_order",
        work_order_id=milestone.work_order_id,
    )
