"""Comments on a case: internal (the team only) or customer-visible.

Staff answering the customer for the first time is the case's first response (the SLA
clock's first milestone); a customer writing on a case that waits on them puts it back
in the team's hands.
"""

from __future__ import annotations

import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases.events import emit
from portal.cases.models import Case
from portal.cases.services import NOTE_MAX, set_status, status_meaning
from portal.cases.types import IN_PROGRESS, first_status
from portal.errors import Conflict, Invalid
from portal.timeutil import now_utc
from portal.workorders.models import VISIBILITIES, TimelineEntry
from portal.workorders.services import record


def add_comment(
    session: so.Session, case: Case, text: str, *, visibility: str, by: User
) -> TimelineEntry:
    """Write a comment on the case's timeline. A customer's comment is always visible to
    the customer; staff choose."""
    text = (text or "").strip()
    if not text:
        raise Invalid("Write a comment.", field="text")
    if len(text) > NOTE_MAX:
        raise Invalid(f"That comment is too long ({NOTE_MAX:,} characters at most).", field="text")
    if visibility not in VISIBILITIES:
        raise Invalid("Choose who sees the comment: internal or the customer.", field="visibility")
    from_team = by.is_team
    if not from_team:
        visibility = "customer"
        if case.is_closed:
            raise Conflict(f"Case {case.number} is closed. Open a new case if you need more help.")
    at = now_utc()
    entry = record(session, case, "comment", actor=by, note=text, visibility=visibility)
    entry.at = at
    emit(session, case, "comment", at=at, by=by, new=visibility, note=text, visibility=visibility)
    if from_team and visibility == "customer" and case.first_response_at is None:
        case.first_response_at = at
        emit(session, case, "responded", at=at, by=by)
    if not from_team and status_meaning(case) == "waiting":
        set_status(session, case, _back_in_hand(case), by, "The customer answered.")
    return entry


def _back_in_hand(case: Case) -> str:
    """ "In progress" when the type has it, else its first open status."""
    names = {s.name for s in case.case_type.statuses}
    return IN_PROGRESS if IN_PROGRESS in names else first_status(case.case_type, "open").name


def add_email_comment(
    session: so.Session, case: Case, text: str, *, by: User | None, sender: str
) -> TimelineEntry:
    """The customer's e-mail to the case (portal/cases/inbound.py): a customer-visible
    comment by `by` (the user of the account's contact who sent it), or by nobody with
    "By e-mail from <sender>" when the sender is no such user. A case waiting on the
    customer goes back to the team, as with a comment on the Support page; a closed case
    takes the comment and stays closed (nothing reopens by e-mail). The outbox event
    carries `by_email`: the e-mail is news to the team only by the receiver's own alert,
    and never echoed back to the customer who sent it."""
    text = (text or "").strip()[:NOTE_MAX] or "(The e-mail had no text of its own.)"
    note = text if by is not None else f"By e-mail from {sender}: {text}"[:NOTE_MAX]
    at = now_utc()
    entry = record(
        session, case, "comment", actor=by, field="e-mail", note=note, visibility="customer"
    )
    entry.at = at
    emit(
        session,
        case,
        "comment",
        at=at,
        by=by,
        new="customer",
        note=note,
        visibility="customer",
        extra={"by_email": sender},
    )
    if not case.is_closed and status_meaning(case) == "waiting":
        set_status(session, case, _back_in_hand(case), by, "The customer answered by e-mail.")
    return entry
