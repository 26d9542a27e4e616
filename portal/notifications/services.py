"""Queue messages: every e-mail is stored in the outbox first and sent later by the
scheduler process, so a failing mail server never loses a message or breaks a booking.
In-portal notifications are written directly."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.notifications.models import Notification, OutboxMessage
from portal.timeutil import now_utc


def queue_email(
    session: so.Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    ics: str | None = None,
    dedupe_key: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
) -> OutboxMessage | None:
    """Store an e-mail for sending; None when a message with `dedupe_key` exists already."""
    if dedupe_key is not None:
        exists = session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if exists is not None:
            return None
    message = OutboxMessage(
        channel="email",
        recipient=to,
        subject=subject[:200],
        body_text=text,
        body_html=html,
        ics=ics,
        dedupe_key=dedupe_key,
        subject_type=subject_type,
        subject_id=subject_id,
        status="pending",
        next_attempt_at=now_utc(),
    )
    session.add(message)
    session.flush()
    return message


def notify_user(session: so.Session, user_id: int, message: str, link: str = "") -> Notification:
    """Put a line in the user's in-portal notification list."""
    notification = Notification(user_id=user_id, message=message[:300], link=link[:300])
    session.add(notification)
    session.flush()
    return notification


def unread_count(session: so.Session, user_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
