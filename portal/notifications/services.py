"""Queue messages: every e-mail is stored in the outbox first and sent later by the
scheduler process, so a failing mail server never loses a message or breaks a booking.
In-portal notifications are written directly."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.mail import SmtpConnection, SmtpSettings, build_message
from portal.notifications.models import OUTBOX_STATES, Notification, OutboxMessage
from portal.notifications.private_links import holds_secret
from portal.pagination import Page, paginate
from portal.timeutil import now_utc

log = logging.getLogger(__name__)

# After this many failed attempts a message is given up on ("failed"), about 7 hours
# after the first: 1 + 2 + 4 + ... minutes, each wait capped at an hour.
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=1)
# A batch claims its messages by moving their next attempt this far ahead; a sender that
# dies mid-batch leaves the rest to be retried once the lease runs out.
CLAIM_LEASE = timedelta(minutes=10)
# Refusals that concern one message only; the connection stays usable for the next.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


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
    reply_to: str | None = None,
    flush: bool = True,
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
        reply_to=reply_to,
        # Found in the content, whichever e-mail this is: no kind has to remember it.
        holds_secret=holds_secret(text, html, ics),
        dedupe_key=dedupe_key,
        subject_type=subject_type,
        subject_id=subject_id,
        status="pending",
        next_attempt_at=now_utc(),
    )
    session.add(message)
    if flush:  # a bulk sender (an approval's hundreds of links) flushes them all once
        session.flush()
    return message


def notify_user(
    session: so.Session,
    user_id: int,
    message: str,
    link: str = "",
    *,
    at: datetime | None = None,
) -> Notification:
    """Put a line in the user's in-portal notification list, dated `at` (when what it
    tells of happened, which an event expanded later knows) or now."""
    notification = Notification(
        user_id=user_id, message=message[:300], link=link[:300], created_at=at or now_utc()
    )
    session.add(notification)
    session.flush()
    return notification


def unread_count(session: so.Session, user_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_all_read(
    session: so.Session,
    user_id: int,
    now: datetime | None = None,
    *,
    up_to_id: int | None = None,
) -> int:
    """Mark the user's unread notifications read (only those with ids up to `up_to_id`,
    when given: the newest the user was shown); returns how many were marked."""
    unread = sa.and_(Notification.user_id == user_id, Notification.read_at.is_(None))
    if up_to_id is not None:
        unread = sa.and_(unread, Notification.id <= up_to_id)
    result = session.execute(sa.update(Notification).where(unread).values(read_at=now or now_utc()))
    return result.rowcount


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4, 8... minutes, capped."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


_warned_no_smtp = False


def send_due(
    session: so.Session,
    now: datetime,
    *,
    smtp: SmtpSettings | None = None,
    limit: int = 50,
) -> SendReport:
    """Send the pending e-mails due at `now` (at most `limit`); failures wait and retry.

    Unlike a service this commits, in short transactions: one to claim the batch, one
    after each message. A message handed to the SMTP server is a fact outside the
    database, so it is recorded at once; and no transaction stays open while the
    server is talked to (on SQLite that would hold the only write lock). Give it a
    session of its own. On PostgreSQL the claim skips rows another sender has locked,
    and the lease it writes keeps them from being claimed again after its commit.
    """
    global _warned_no_smtp
    settings = smtp or SmtpSettings.from_config(current_app.config)
    report = SendReport()
    # Webhooks (channel "webhook") share the outbox but have a sender and a scheduler
    # job of their own (portal/webhooks/jobs.py): a slow receiver never delays an e-mail.
    if not settings.host:
        if not _warned_no_smtp:
            log.warning("No SMTP server configured (PORTAL_SMTP_HOST): e-mails stay queued.")
            _warned_no_smtp = True
        return report

    keep_bodies = bool(current_app.config.get("MAIL_VIEWER_SHOWS_LINKS"))
    batch = _claim(session, now, limit, settings, keep_bodies)
    if not batch:
        return report
    try:
        connection = SmtpConnection(settings).open()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("Cannot reach SMTP server %s:%s: %s", settings.host, settings.port, exc)
        for message_id, _email in batch:
            _record_failure(session, message_id, now, exc, report, keep_bodies)
        session.commit()
        return report
    with connection:
        for index, (message_id, email) in enumerate(batch):
            if email is None:
                continue  # could not be built: recorded as a failure while claiming
            try:
                connection.send(email)
            except MESSAGE_ERRORS as exc:
                _record_failure(session, message_id, now, exc, report, keep_bodies)
            except (OSError, smtplib.SMTPException) as exc:
                # The connection is gone: this message and the rest of the batch wait.
                log.warning("SMTP connection lost: %s", exc)
                for rest_id, rest_email in batch[index:]:
                    if rest_email is not None:
                        _record_failure(session, rest_id, now, exc, report, keep_bodies)
                session.commit()
                return report
            else:
                message = session.get(OutboxMessage, message_id)
                message.status = "sent"
                message.sent_at = now
                message.last_error = ""
                if not keep_bodies:
                    remove_secret_body(message, now)
                report.sent += 1
            session.commit()
    return report


def lease_due(session: so.Session, channel: str, now: datetime, limit: int) -> list[OutboxMessage]:
    """The channel's due messages, oldest first, leased for CLAIM_LEASE: rows another
    sender holds are skipped, and a sender that dies leaves them due again when the lease
    ends. The caller commits (the lease holds from then on)."""
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.channel == channel,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in messages:
        message.next_attempt_at = now + CLAIM_LEASE
    return messages


def _claim(
    session: so.Session, now: datetime, limit: int, settings: SmtpSettings, keep_bodies: bool
) -> list[tuple[int, EmailMessage | None]]:
    """Lease the due messages and build their MIME form, in one short transaction."""
    batch: list[tuple[int, EmailMessage | None]] = []
    for message in lease_due(session, "email", now, limit):
        try:
            email = build_message(message, settings)
        except Exception as exc:  # a bad row must not block the queue: logged and kept
            log.exception("Outbox message %s cannot be built", message.id)
            apply_failure(message, now, exc)
            if message.status == "failed" and not keep_bodies:
                remove_secret_body(message, now)
            email = None
        batch.append((message.id, email))
    session.commit()
    return batch


def _record_failure(
    session, message_id: int, now: datetime, exc: BaseException, report, keep_bodies: bool
) -> None:
    message = session.get(OutboxMessage, message_id)
    apply_failure(message, now, exc)
    if message.status == "failed":
        if not keep_bodies:
            remove_secret_body(message, now)
        report.failed += 1
    else:
        report.retrying += 1


def remove_secret_body(message: OutboxMessage, now: datetime) -> bool:
    """Empty the body (text, HTML, calendar attachment) of an e-mail that carries a
    private link, keeping subject, recipient, status and times; whether it did.

    Only the recipient may hold such a link: once the message has gone (or been given
    up), the copy in the database is a live key for anybody who can read the table.
    """
    if message.channel != "email" or message.body_removed_at is not None:
        return False
    found = message.holds_secret or holds_secret(message.body_text, message.body_html, message.ics)
    if not found:
        return False
    message.holds_secret = True
    message.body_text = ""
    message.body_html = ""
    message.ics = None
    message.body_removed_at = now
    return True


def purge_secret_bodies(session: so.Session, now: datetime, *, limit: int = 500) -> int:
    """Remove the bodies of sent or given-up e-mails still holding a private link (those
    sent before bodies were removed at once, or while MAIL_VIEWER_SHOWS_LINKS kept
    them); returns how many. The caller commits."""
    messages = session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.channel == "email",
            OutboxMessage.status.in_(("sent", "failed")),
            OutboxMessage.holds_secret.is_(True),
            OutboxMessage.body_removed_at.is_(None),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return sum(remove_secret_body(message, now) for message in messages)


def apply_failure(message: OutboxMessage, now: datetime, exc: BaseException) -> None:
    """Count a failed attempt: retry after the backoff, or give up after MAX_ATTEMPTS."""
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        message.next_attempt_at = now
        log.error("Gave up on outbox message %s to %s", message.id, message.recipient)
    else:
        message.next_attempt_at = now + backoff(message.attempts)


def list_notifications(
    session: so.Session, user_id: int, *, page: int = 1, per_page: int = 25
) -> Page:
    """The user's notifications, newest first."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(session, query, page, per_page)


def newest_notification_id(session: so.Session, user_id: int) -> int | None:
    """The id of the user's latest notification (what "Mark all as read" reaches up to)."""
    return session.scalar(
        sa.select(sa.func.max(Notification.id)).where(Notification.user_id == user_id)
    )


def list_outbox(
    session: so.Session, *, status: str | None = None, page: int = 1, per_page: int = 25
) -> Page:
    """Outbox e-mails, newest first, optionally of one status (webhook deliveries have
    their own log on the webhooks settings page)."""
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "email")
        .order_by(OutboxMessage.id.desc())
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    return paginate(session, query, page, per_page)


def outbox_counts(session: so.Session) -> dict[str, int]:
    """How many e-mails are in each state (every state present, zero when none)."""
    rows = session.execute(
        sa.select(OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.channel == "email")
        .group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OUTBOX_STATES, 0)
    counts.update({status: count for status, count in rows})
    return counts
