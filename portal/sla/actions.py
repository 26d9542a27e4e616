"""Running one milestone action: tell someone, or change the case.

Called by the scheduler's pass (portal/sla/jobs.py) for a run it has claimed, in its
transaction; returns the outcome written on the run. Recipients are resolved when the run
goes out (an owner may have changed since the milestone warned): the case's owner (a user,
or the members of its owner queue), for a back-office work order whoever took it or else its
queue's members; the owning queue's lead; the managers; the case's contact by e-mail.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import User
from portal.cases.models import Case
from portal.cases.services import set_priority, set_status
from portal.errors import PortalError
from portal.formatting import fmt_datetime
from portal.notifications.rendering import render_email
from portal.notifications.services import notify_user, queue_email
from portal.queues.models import QueueMember
from portal.sla.models import Milestone, MilestoneAction
from portal.sla.services import Lookup
from portal.workorders.models import ACTIVE_TASK_STATES, WorkOrderTask

# What the trigger means, in a sentence's end.
WORDS = {
    "warning": "is close to its target",
    "violation": "missed its target",
    "success": "was met on time",
}
SUBJECT_TYPE = "milestone"


def perform(
    session: so.Session,
    milestone: Milestone,
    action: MilestoneAction,
    trigger: str,
    now: datetime,
    lookup: Lookup,
) -> str:
    """Run the action for the milestone's `trigger`; returns what was done, in words."""
    case = lookup.case_of(milestone)
    if case is None:
        return "skipped: the milestone's case is gone"
    kind = action.action
    if kind in ("notify_owner", "notify_lead", "notify_managers"):
        users = _recipients(session, milestone, case, kind, lookup)
        if not users:
            return "skipped: nobody to tell"
        for user in users:
            _tell(session, user, milestone, case, trigger)
        return "told " + ", ".join(u.email for u in users)
    if kind == "email_contact":
        contact = case.contact
        if contact is None or not contact.email:
            return "skipped: the case has no contact e-mail"
        _email_contact(session, contact, milestone, case, trigger)
        return f"e-mailed {contact.email}"
    if kind in ("set_priority", "set_status"):
        return _set_field(session, case, milestone, kind, action.value)
    return f"skipped: unknown action {kind!r}"


def _set_field(session, case: Case, milestone: Milestone, kind: str, value: str) -> str:
    """Change the case through its services (checked, on the timeline, heard by the
    watchers: a new priority retargets the clocks); a value the case refuses is reported."""
    field = "priority" if kind == "set_priority" else "status"
    if case.is_closed or getattr(case, field) == value:
        return "skipped: nothing to change"
    note = f"{milestone.name} of {_what(milestone, case)}: SLA action"
    try:
        if kind == "set_priority":
            set_priority(session, case, value, None, note)
        else:
            set_status(session, case, value, None, note)
    except PortalError as refused:
        return f"skipped: {refused}"
    return f"{field} set to {value}"


def _recipients(session, milestone, case, kind, lookup) -> list[User]:
    if kind == "notify_managers":
        return list(
            session.scalars(
                sa.select(User)
                .where(User.role == "manager", User.active.is_(True))
                .order_by(User.id)
            )
        )
    queue = lookup.owning_queue(milestone)
    if kind == "notify_lead":
        lead = queue.lead if queue is not None else None
        return [lead] if lead is not None and lead.active else []
    # notify_owner
    if milestone.work_order_id is not None:
        takers = list(
            session.scalars(
                sa.select(User)
                .join(WorkOrderTask, WorkOrderTask.user_id == User.id)
                .where(
                    WorkOrderTask.work_order_id == milestone.work_order_id,
                    WorkOrderTask.status.in_(ACTIVE_TASK_STATES),
                    User.active.is_(True),
                )
                .distinct()
                .order_by(User.id)
            )
        )
        if takers:
            return takers
    elif case.owner_user is not None:
        return [case.owner_user] if case.owner_user.active else []
    if queue is None:
        return []
    return list(
        session.scalars(
            sa.select(User)
            .join(QueueMember, QueueMember.user_id == User.id)
            .where(QueueMember.queue_id == queue.id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _what(milestone: Milestone, case: Case) -> str:
    if milestone.work_order_id is not None:
        return f"Work order {milestone.work_order_id} for case {case.number}"
    return f"Case {case.number}"


def _link(milestone: Milestone, case: Case) -> str:
    if milestone.work_order_id is not None:
        return f"/back-office/work-orders/{milestone.work_order_id}"
    return f"/cases/{case.id}"


def _tell(session, user: User, milestone: Milestone, case: Case, trigger: str) -> None:
    what = _what(milestone, case)
    message = f"{what}: {milestone.name} {WORDS[trigger]}."
    notify_user(session, user.id, message, _link(milestone, case))
    if not user.email_notifications:
        return
    subject, text, html = render_email(
        "email/sla/staff.txt",
        recipient_name=user.full_name,
        what=what,
        case=case,
        milestone=milestone,
        words=WORDS[trigger],
        due=fmt_datetime(milestone.due_at, user.time_zone) if milestone.due_at else "",
        url=current_app.config["BASE_URL"] + _link(milestone, case),
    )
    queue_email(
        session,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        subject_type=SUBJECT_TYPE,
        subject_id=milestone.id,
    )


def _email_contact(session, contact, milestone: Milestone, case: Case, trigger: str) -> None:
    subject, text, html = render_email(
        "email/sla/contact.txt",
        recipient_name=contact.full_name,
        case=case,
        milestone=milestone,
        trigger=trigger,
        url=current_app.config["BASE_URL"] + f"/support/{case.id}",
    )
    queue_email(
        session,
        to=contact.email,
        subject=subject,
        text=text,
        html=html,
        subject_type=SUBJECT_TYPE,
        subject_id=milestone.id,
    )
