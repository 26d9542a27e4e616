"""Invitations: staff give a person at a customer account a log-in, an admin invites a
staff user; either gets an e-mailed link to choose a first password.

Only the newest invitation's link works: each one gets the next number, which its link
carries, so a link sent before (to a mistyped address, or forwarded) stops working at
once. A link also stops working when it expires or once a password is set.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.exc
import sqlalchemy.orm as so

from portal.accounts import services
from portal.accounts.emails import INVITE, INVITE_SUBJECTS, STAFF_INVITE, EmailKind, send_link_email
from portal.accounts.fields import check_email, check_zone, clean_name
from portal.accounts.links import INVITE_LINK, link_fingerprint, read_link
from portal.accounts.models import Contact, CustomerAccount, User
from portal.accounts.passwords import validate_new_password
from portal.audit.services import record_change, snapshot
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.formatting import org_zone
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from portal.workforce.services import create_agent

STAFF_ROLE_LABELS = {
    "agent": "an agent (technician)",
    "scheduler": "a scheduler",
    "manager": "a manager",
    "admin": "an admin",
    "backoffice": "a back-office user",
}


# --- a customer's contacts --------------------------------------------------------------------


def _default_zone(account: CustomerAccount) -> str:
    return services.account_time_zone(account, org_zone())


def invite_contact(
    session: so.Session,
    account: CustomerAccount,
    *,
    full_name: str,
    email: str,
    invited_by: User,
    time_zone: str | None = None,
) -> Contact:
    """Give a person at `account` a log-in and e-mail them a link to set their password.

    An address that already has a user is refused, except a pending invitation to this
    same account, which is sent again with a new link (the earlier one stops working).
    """
    if not invited_by.has_role("scheduler"):
        raise NotAllowed("Only schedulers, managers and admins can invite people.")
    full_name = clean_name(full_name)
    email = services.normalise_email(email)
    existing = session.scalar(sa.select(User).where(User.email == email))
    if existing is not None:
        pending = (
            existing.password_hash is None
            and existing.contact is not None
            and existing.contact.account_id == account.id
        )
        if not pending:
            raise Invalid(
                f"{email} already has a log-in, so it cannot be invited again. They can "
                "log in, or reset their password from the log-in page.",
                field="email",
            )
        contact = existing.contact
        user = existing
    else:
        user = services.create_customer_user(
            session,
            account,
            email=email,
            full_name=full_name,
            password=None,
            time_zone=time_zone or _default_zone(account),
            verified=False,
        )
        contact = user.contact
    _send_invitation(session, user, INVITE, inviter=invited_by, account_name=account.name)
    # A customer's name and address are masked in the log (portal.audit.services).
    record_change(
        session, invited_by, "invite", user, None, {**_invited(user), "account_id": account.id}
    )
    return contact


def _invited(user: User) -> dict:
    return snapshot(user, "full_name", "email", "role", "invitation_count")


def _send_invitation(
    session: so.Session, user: User, kind: EmailKind, *, inviter: User, **context
) -> OutboxMessage | None:
    """E-mail `user` a fresh link to choose a first password, under the next number."""
    # An UPDATE ... SET n = n + 1: two invitations sent at once still get two numbers.
    user.invitation_count = User.invitation_count + 1
    session.flush()
    return send_link_email(
        session,
        user,
        kind,
        link_data={"fp": link_fingerprint(user, "invite"), "n": user.invitation_count},
        inviter=inviter.full_name,
        **context,
    )


# --- staff users ------------------------------------------------------------------------------


def _require_user_admin(admin: User) -> None:
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can invite staff users.")


def invite_staff_user(
    session: so.Session,
    admin: User,
    *,
    full_name: str,
    email: str,
    role: str,
    time_zone: str,
) -> User:
    """Create a staff user without a password and e-mail them a link to choose one.

    Until they follow it they cannot log in (there is no password to match). An agent is
    made bookable at once, so an admin can set its hours and skills meanwhile.
    """
    _require_user_admin(admin)
    if role not in STAFF_ROLE_LABELS:
        raise Invalid("Choose agent, scheduler, manager, admin or back office.", field="role")
    full_name = clean_name(full_name, whose="their")
    email = services.normalise_email(email)
    check_email(email)
    check_zone(time_zone)
    existing = session.scalar(sa.select(User).where(User.email == email))
    if existing is not None:
        raise Invalid(_taken_message(existing), field="email")
    try:
        with session.begin_nested():
            user = services.create_pending_user(session, email, full_name, role, time_zone)
    except sa.exc.IntegrityError:  # another admin invited the same address a moment ago
        raise Invalid(f"{email} was invited a moment ago by someone else.", field="email") from None
    if role == "agent":
        create_agent(session, user, time_zone=time_zone)
    _send_staff_invitation(session, user, admin)
    record_change(session, admin, "invite", user, None, _invited(user))
    return user


def _taken_message(user: User) -> str:
    if user.is_team and user.password_hash is None and user.active:
        return (
            f"{user.email} is already invited. To send the link again, open "
            f'{user.full_name}\'s page and choose "Send the invitation again".'
        )
    return (
        f"{user.email} already has a log-in, so it cannot be invited again. They can log "
        "in, or reset their password from the log-in page."
    )


def _send_staff_invitation(session: so.Session, user: User, admin: User) -> OutboxMessage | None:
    role_label = STAFF_ROLE_LABELS.get(user.role, user.role)
    return _send_invitation(session, user, STAFF_INVITE, inviter=admin, role_label=role_label)


def resend_staff_invitation(session: so.Session, admin: User, user: User) -> OutboxMessage | None:
    """Send an invited staff user a new link (the earlier ones stop working at once);
    refused once the invitation was accepted or the user is deactivated."""
    _require_user_admin(admin)
    if not user.is_team:
        raise NotFound("There is no such staff user.")
    if user.password_hash is not None:
        raise Conflict(f"{user.full_name} has already accepted the invitation and can log in.")
    if not user.active:
        raise Conflict(f"{user.full_name} is deactivated: activate them before inviting again.")
    before = snapshot(user, "invitation_count")
    sent = _send_staff_invitation(session, user, admin)
    record_change(session, admin, "invite_again", user, before, snapshot(user, "invitation_count"))
    return sent


def user_state(user: User) -> str:
    """The user's state in the staff list: deactivated, invited (no password yet) or active."""
    if not user.active:
        return "deactivated"
    if user.password_hash is None:
        return "invited"
    return "active"


def invitations_sent(session: so.Session, user_ids: list[int]) -> dict[int, datetime]:
    """When each of these users was last sent an invitation (one query for the lot)."""
    if not user_ids:
        return {}
    rows = session.execute(
        sa.select(OutboxMessage.subject_id, sa.func.max(OutboxMessage.created_at))
        .where(
            OutboxMessage.subject_type == "User",
            OutboxMessage.subject_id.in_(user_ids),
            OutboxMessage.subject.in_(INVITE_SUBJECTS),
        )
        .group_by(OutboxMessage.subject_id)
    )
    return {user_id: sent for user_id, sent in rows}


# --- following the link -----------------------------------------------------------------------


def read_invitation(session: so.Session, token: str) -> User:
    """The invitee a link is for, while it is fresh and unused; LinkInvalid otherwise."""
    user, _payload = read_link(session, INVITE_LINK, token)
    return user


def accept_invitation(
    session: so.Session, token: str, *, password: str, time_zone: str | None = None
) -> User:
    """Set the invitee's first password; following the link also verifies the address."""
    user = read_invitation(session, token)
    if time_zone is not None:
        check_zone(time_zone)
        user.time_zone = time_zone
    validate_new_password(password, email=user.email, full_name=user.full_name)
    user.password_hash = services.hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
    session.flush()
    return user
