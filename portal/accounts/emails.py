"""The e-mails accounts send a person, and the one recipe they all follow.

Each kind has a subject and a template (templates/email/accounts/); a kind that carries a
signed link names its kind of link (portal/accounts/links.py).
`send_link_email` makes the link, renders both bodies with what every template may use
(the person's name, the portal's address, the log-in, reset and tokens pages, the link's
lifetime in days, hours and minutes) and queues the e-mail in the outbox under the user.

Rate limits on e-mails count what the outbox already holds for that user: no extra
table, and every web worker sees the same count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, render_template

from portal.accounts.links import INVITE_LINK, RESET_LINK, VERIFY_LINK, LinkKind, make_link
from portal.accounts.models import User
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email

# Subjects double as the kind of message when the outbox is counted for rate limits.
SUBJECT_VERIFY = "Verify your e-mail address"
SUBJECT_SIGNUP_EXISTS = "Someone tried to sign up with your e-mail address"
SUBJECT_RESET = "Reset your password"
SUBJECT_INVITE = "You are invited to book service appointments"
SUBJECT_STAFF_INVITE = "You are invited to join the Field Service Portal"
INVITE_SUBJECTS = (SUBJECT_INVITE, SUBJECT_STAFF_INVITE)
SUBJECT_PASSWORD_CHANGED = "Your password was changed"  # nosec B105  # a subject, no secret
SUBJECT_TOKEN_CREATED = "A new API token was made for your account"  # nosec B105  # a subject


@dataclass(frozen=True)
class EmailKind:
    """One kind of e-mail: its subject and template, and the link it carries, if any."""

    subject: str
    template: str
    link: LinkKind | None = None


VERIFY = EmailKind(SUBJECT_VERIFY, "verify", VERIFY_LINK)
RESET = EmailKind(SUBJECT_RESET, "reset", RESET_LINK)
INVITE = EmailKind(SUBJECT_INVITE, "invite", INVITE_LINK)
STAFF_INVITE = EmailKind(SUBJECT_STAFF_INVITE, "staff_invite", INVITE_LINK)
SIGNUP_EXISTS = EmailKind(SUBJECT_SIGNUP_EXISTS, "signup_exists")
PASSWORD_CHANGED = EmailKind(SUBJECT_PASSWORD_CHANGED, "password_changed")
TOKEN_CREATED = EmailKind(SUBJECT_TOKEN_CREATED, "token_created")


def send_link_email(
    session: so.Session,
    user: User,
    kind: EmailKind,
    *,
    link_data: dict[str, Any] | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Queue the e-mail of `kind` to `user`, with a fresh signed link when the kind has
    one (`link_data`: what else its token carries); `context` adds to the template's."""
    base = current_app.config["BASE_URL"]
    link, lifetime = None, timedelta(0)
    if kind.link is not None:
        link = make_link(kind.link, user, **(link_data or {}))
        lifetime = kind.link.lifetime
    seconds = int(lifetime.total_seconds())
    context = {
        "subject": kind.subject,
        "portal_url": base,
        "name": user.full_name,
        "link": link,
        "days": lifetime.days,
        "hours": seconds // 3600,
        "minutes": seconds // 60,
        "login_url": f"{base}/login",
        "reset_url": f"{base}/reset",
        "tokens_url": f"{base}/profile/tokens",
        **context,
    }
    return queue_email(
        session,
        to=user.email,
        subject=kind.subject,
        text=render_template(f"email/accounts/{kind.template}.txt", **context),
        html=render_template(f"email/accounts/{kind.template}.html", **context),
        subject_type="User",
        subject_id=user.id,
    )


def tell_token_created(session: so.Session, user: User, token_name: str) -> None:
    """E-mail the user that a personal API token was made for its account, so a token
    made by someone else with a borrowed session does not go unnoticed."""
    send_link_email(session, user, TOKEN_CREATED, token_name=token_name)


def _of_user(user: User, kind: EmailKind) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        OutboxMessage.subject_type == "User",
        OutboxMessage.subject_id == user.id,
        OutboxMessage.subject == kind.subject,
    )


def sent_since(session: so.Session, user: User, kind: EmailKind, since: datetime) -> int:
    """How many e-mails of `kind` the user was sent since `since`."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(*_of_user(user, kind), OutboxMessage.created_at >= since)
    )


def last_sent(session: so.Session, user: User, kind: EmailKind) -> datetime | None:
    """When the user was last sent an e-mail of `kind`, if ever."""
    return session.scalar(
        sa.select(sa.func.max(OutboxMessage.created_at)).where(*_of_user(user, kind))
    )
