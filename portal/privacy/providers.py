"""The built-in systems' parts of a customer's download and anonymisation (see
registry.py). Each function takes the session and the Subject; exports return plain,
JSON-ready data and never a secret (password or token hashes, feed keys)."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, LoginAttempt, UserSession
from portal.accounts.sessions import end_user_sessions
from portal.api.models import ApiToken
from portal.booking.models import Appointment, SignOff
from portal.calendar_feeds.models import CalendarFeed
from portal.notifications.models import Notification, OutboxMessage
from portal.privacy.registry import Subject, register
from portal.reports.models import ReportRun
from portal.workorders.models import TimelineEntry


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- accounts ---------------------------------------------------------------------------------


def export_accounts(session: so.Session, subject: Subject) -> dict:
    user, account = subject.user, subject.account
    return {
        "user": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "time_zone": user.time_zone,
            "email_notifications": user.email_notifications,
            "created_at": _when(user.created_at),
            "email_verified_at": _when(user.email_verified_at),
        },
        "contacts": [
            {
                "id": c.id,
                "full_name": c.full_name,
                "email": c.email,
                "phone": c.phone,
                # What the confirmation service's daily feed says about the person.
                "external_id": c.external_id,
                "last_external_login_at": _when(c.last_external_login_at),
            }
            for c in subject.contacts
        ],
        "account": None
        if account is None
        else {
            "id": account.id,
            "name": account.name,
            "kind": account.kind,
            "locations": [
                {
                    "id": loc.id,
                    "label": loc.label,
                    "street": loc.street,
                    "city": loc.city,
                    "postal_code": loc.postal_code,
                    "country": loc.country,
                }
                for loc in account.locations
            ],
        },
        "sessions": [
            {
                "started_at": _when(s.created_at),
                "last_seen_at": _when(s.last_seen_at),
                "ip": s.ip,
                "browser": s.user_agent,
                "ended_at": _when(s.revoked_at),
            }
            for s in session.scalars(
                sa.select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.id)
            )
        ],
    }


def anonymise_accounts(session: so.Session, subject: Subject) -> None:
    user = subject.user
    old_email = user.email
    end_user_sessions(session, user, subject.now, "deactivated")
    session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(ip="", user_agent="")
        .execution_options(synchronize_session="fetch")
    )
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == old_email))
    user.full_name = subject.placeholder_name
    user.email = subject.placeholder_email
    user.password_hash = None
    user.active = False
    user.email_notifications = False
    user.links_revoked_at = subject.now
    for contact in subject.contacts:
        contact.full_name = subject.placeholder_name
        contact.email = subject.placeholder_email
        contact.phone = ""
        # The confirmation service's id and log-in time point at the person: cleared.
        # (A later feed that still lists them makes a new contact from what it sends.)
        contact.external_id = None
        contact.last_external_login_at = None
    account = subject.account
    if account is not None and _sole_contact(session, account.id, subject.contacts):
        # The addresses are the person's own (a household, a one-person business):
        # cleared, so the work-order history keeps its place in a territory only.
        for location in account.locations:
            location.label = "Address removed"
            location.street = ""
            location.city = ""
            location.postal_code = ""
        account.name = subject.placeholder_name
    session.flush()


def _sole_contact(session: so.Session, account_id: int, contacts: list[Contact]) -> bool:
    others = session.scalar(
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(Contact.account_id == account_id, Contact.id.not_in([c.id for c in contacts]))
    )
    return not others


# --- appointments, work orders and sign-offs ---------------------------------------------------


def _appointments(session: so.Session, subject: Subject) -> list[Appointment]:
    if subject.account is None:
        return []
    return list(
        session.scalars(
            sa.select(Appointment)
            .where(Appointment.account_id == subject.account.id)
            .options(so.joinedload(Appointment.service), so.joinedload(Appointment.location))
            .order_by(Appointment.id)
        )
    )


def export_appointments(session: so.Session, subject: Subject) -> dict:
    appointments = _appointments(session, subject)
    ids = [a.id for a in appointments]
    work_orders = sorted({a.work_order_id for a in appointments})
    sign_offs = session.scalars(
        sa.select(SignOff).where(SignOff.appointment_id.in_(ids)).order_by(SignOff.id)
    )
    timeline = session.scalars(
        sa.select(TimelineEntry)
        .where(TimelineEntry.work_order_id.in_(work_orders), TimelineEntry.visibility == "customer")
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return {
        "appointments": [
            {
                "number": a.number,
                "work_order": f"WO-{a.work_order_id:06d}",
                "service": a.service.name,
                "location": a.location.label,
                "status": a.status,
                "window_start": _when(a.window_start),
                "window_end": _when(a.window_end),
                "note": a.note,
                "cancel_reason": a.cancel_reason,
                "created_at": _when(a.created_at),
            }
            for a in appointments
        ],
        "timeline": [
            {
                "work_order": f"WO-{t.work_order_id:06d}",
                "at": _when(t.at),
                "action": t.action,
                "note": t.note,
            }
            for t in timeline
        ],
        "sign_offs": [
            {
                "appointment_id": s.appointment_id,
                "full_name": s.full_name,
                "consent": s.consent,
                "signed_at": _when(s.signed_at),
                "ip": s.remote_addr,
                "browser": s.user_agent,
                "signature_png_base64": base64.b64encode(s.signature_png).decode("ascii")
                if s.signature_png
                else None,
            }
            for s in sign_offs
        ],
    }


def anonymise_appointments(session: so.Session, subject: Subject) -> None:
    ids = [a.id for a in _appointments(session, subject)]
    for sign_off in session.scalars(
        sa.select(SignOff).where(
            sa.or_(SignOff.appointment_id.in_(ids), SignOff.user_id == subject.user.id)
        )
    ):
        sign_off.full_name = subject.placeholder_name
        sign_off.remote_addr = ""
        sign_off.user_agent = ""
        sign_off.signature_png = None
    # Work-order texts that name the person are replaced by the sweep; the rows, their
    # statuses and their history stay.
    session.flush()


# --- notifications and e-mails -------------------------------------------------------------------


def export_notifications(session: so.Session, subject: Subject) -> dict:
    user = subject.user
    notices = session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    mails = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "email", OutboxMessage.recipient == user.email)
        .order_by(OutboxMessage.id)
    )
    return {
        "notifications": [
            {"at": _when(n.created_at), "message": n.message, "read_at": _when(n.read_at)}
            for n in notices
        ],
        "emails": [
            {
                "subject": m.subject,
                "status": m.status,
                "queued_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in mails
        ],
    }


def anonymise_notifications(session: so.Session, subject: Subject) -> None:
    # The e-mails sent to the person: what they said is the person's business only.
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.recipient.in_(subject.emails))
        .values(recipient=subject.placeholder_email, body_text="", body_html="", ics=None)
        .execution_options(synchronize_session=False)
    )


# --- API tokens and the calendar feed -------------------------------------------------------------


def export_access(session: so.Session, subject: Subject) -> dict:
    user = subject.user
    tokens = session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    return {
        "api_tokens": [
            {
                "name": t.name,
                "created_at": _when(t.created_at),
                "expires_at": _when(t.expires_at),
                "last_used_at": _when(t.last_used_at),
                "revoked_at": _when(t.revoked_at),
            }
            for t in tokens
        ],
        "calendar_feed": {"exists": feed is not None, "created_at": _when(feed.created_at)}
        if feed is not None
        else {"exists": False},
    }


def anonymise_access(session: so.Session, subject: Subject) -> None:
    user = subject.user
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id)
        .values(revoked_at=sa.func.coalesce(ApiToken.revoked_at, subject.now), name="Removed")
        .execution_options(synchronize_session="fetch")
    )
    session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))


# --- reports ---------------------------------------------------------------------------------


def anonymise_reports(session: so.Session, subject: Subject) -> None:
    """Stored report files over the person's appointments may list its name (the row
    detail): they are removed, and can be made again from the anonymised data."""
    days = [a.planned_start.date() for a in _appointments(session, subject)]
    if not days:
        return
    first, last = min(days) - timedelta(days=1), max(days) + timedelta(days=1)
    session.execute(
        sa.delete(ReportRun).where(ReportRun.date_from <= last, ReportRun.date_to >= first)
    )


register("accounts", export=export_accounts, anonymise=anonymise_accounts)
register("appointments", export=export_appointments, anonymise=anonymise_appointments)
register("notifications", export=export_notifications, anonymise=anonymise_notifications)
register("access", export=export_access, anonymise=anonymise_access)
register("reports", anonymise=anonymise_reports)
