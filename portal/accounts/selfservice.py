"""Accounts without staff help: sign-up, e-mail verification, password reset, invitations
(of a customer's contacts by staff, and of staff users by an admin) and the profile.

None of these tells a stranger whether an e-mail address is registered. Signing up with
a known address and asking to reset an unknown one answer exactly as the other case
does; the owner of a known address hears about it by e-mail instead.

E-mailed links carry a signed token (portal.tokens) with the user's id and an expiry
read from `now_utc()` (so tests can freeze it); a reset or invitation link also carries a
fingerprint of the password hash, so it stops working once the password is set, and an
invitation link the number it was sent under, so sending another one ends it. Rate
limits on e-mails count what the outbox already holds for that user: no extra table,
and every web worker sees the same count.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
import sqlalchemy.orm as so
from flask import current_app, render_template

from portal.accounts import services, sessions, throttle
from portal.accounts.models import Contact, CustomerAccount, LoginAttempt, ServiceLocation, User
from portal.accounts.passwords import validate_new_password
from portal.api.models import ApiToken
from portal.audit.services import record_change, snapshot
from portal.calendar_feeds.models import CalendarFeed
from portal.errors import Conflict, Invalid, NotAllowed, NotFound, PortalError
from portal.notifications.models import OutboxMessage
from portal.notifications.services import queue_email
from portal.timeutil import is_valid_zone, now_utc
from portal.tokens import TokenInvalid, make_token, read_token

VERIFY_LIFETIME = timedelta(hours=48)
RESET_LIFETIME = timedelta(hours=1)
INVITE_LIFETIME = timedelta(days=7)

# Verification links: one a minute and five a day per user (the first one counts).
VERIFY_MIN_INTERVAL = timedelta(minutes=1)
VERIFY_PER_DAY = 5
# Reset links: three an hour per address, refused silently (the answer never changes).
RESETS_PER_HOUR = 3
# "Someone tried to sign up with your address": at most three a day per owner, so a
# stranger cannot use sign-up to flood somebody's inbox.
SIGNUP_NOTICES_PER_DAY = 3

# Subjects double as the kind of message when the outbox is counted for rate limits.
SUBJECT_VERIFY = "Verify your e-mail address"
SUBJECT_SIGNUP_EXISTS = "Someone tried to sign up with your e-mail address"
SUBJECT_RESET = "Reset your password"
SUBJECT_INVITE = "You are invited to book service appointments"
SUBJECT_STAFF_INVITE = "You are invited to join the Field Service Portal"
INVITE_SUBJECTS = (SUBJECT_INVITE, SUBJECT_STAFF_INVITE)
SUBJECT_PASSWORD_CHANGED = "Your password was changed"  # nosec B105  # a subject, no secret
SUBJECT_TOKEN_CREATED = "A new API token was made for your account"  # nosec B105  # a subject

# Appointment and work-order states after which an address is no longer needed for them.
FINISHED_APPOINTMENT_STATES = frozenset(
    {"signed_off", "cancelled", "declined_by_customer", "no_show"}
)
FINISHED_WORK_ORDER_STATES = frozenset({"closed", "cancelled"})

PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-.]{5,39}$")


class RateLimited(PortalError):
    """Asked for an e-mail again too soon; the message says when to try again."""

    status = 429


class LinkInvalid(PortalError):
    """An e-mailed link that is forged, expired or already used."""

    status = 400

    def __init__(
        self, message: str, *, expired: bool = False, used: bool = False, replaced: bool = False
    ):
        super().__init__(message)
        self.expired = expired
        self.used = used
        self.replaced = replaced  # a newer invitation was sent
        if expired or used or replaced:
            self.status = 410


@dataclass(frozen=True)
class SignUpResult:
    """What the sign-up page may say; identical whether or not the address was taken."""

    user: User | None  # None when the address belonged to somebody (they were e-mailed)
    postal_code: str
    served: bool


# --- rules ----------------------------------------------------------------------------------


def _clean_name(full_name: str, *, whose: str = "your") -> str:
    name = " ".join(full_name.split())
    if not name:
        raise Invalid(f"Enter {whose} full name.", field="full_name")
    if len(name) > 120:
        raise Invalid("Use at most 120 characters.", field="full_name")
    return name


def _clean_phone(phone: str) -> str:
    phone = " ".join(phone.split())
    if phone and not PHONE_PATTERN.match(phone):
        raise Invalid(
            "Enter a phone number with digits, spaces and an optional + in front.",
            field="phone",
        )
    return phone


def _check_zone(time_zone: str) -> None:
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")


def password_fingerprint(user: User, purpose: str = "session") -> str:
    """A keyed digest of the user's password hash: it changes whenever the password does.

    Stored in the session and in reset and invitation links, so that setting a new
    password ends other sessions and makes those links stop working.
    """
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{purpose}:{user.id}:{user.password_hash or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


# --- links and e-mails ------------------------------------------------------------------------


def _link(purpose: str, path: str, user: User, lifetime: timedelta, **extra: Any) -> str:
    expires = int((now_utc() + lifetime).timestamp())
    token = make_token(purpose, {"u": user.id, "exp": expires, **extra})
    return f"{current_app.config['BASE_URL']}/{path}/{token}"


def _read_link(
    session: so.Session,
    purpose: str,
    token: str,
    lifetime: timedelta,
    expired_message: str,
    *,
    used_message: str | None = None,
    replaced_message: str | None = None,
) -> tuple[User, dict]:
    """The user a valid link names, with its payload; LinkInvalid otherwise.

    With `used_message`, the link works once: it carries `_link_fingerprint(user,
    purpose)`, which setting a password changes, and for an invitation also sending a
    newer one (`replaced_message` then says so, while no password is set)."""
    try:
        # The signature's own age check runs on the wall clock; the "exp" in the payload
        # runs on now_utc(), which tests freeze. In production both agree.
        payload = read_token(purpose, token, max_age=int(lifetime.total_seconds()) + 60)
    except TokenInvalid as exc:
        if exc.expired:
            raise LinkInvalid(expired_message, expired=True) from None
        raise LinkInvalid(
            "This link is not valid. Check that you copied all of it from the e-mail."
        ) from None
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("u"), int)
        and isinstance(payload.get("exp"), int)
    ):
        raise LinkInvalid("This link is not valid.")
    if now_utc().timestamp() > payload["exp"]:
        raise LinkInvalid(expired_message, expired=True)
    user = session.get(User, payload["u"])
    if user is None or not user.active:
        raise LinkInvalid("This link is not valid any more.")
    if used_message is not None:
        fingerprint = _link_fingerprint(user, purpose)
        if not hmac.compare_digest(str(payload.get("fp", "")), fingerprint):
            if (
                replaced_message is not None
                and user.password_hash is None
                and payload.get("n") != user.invitation_count
            ):
                raise LinkInvalid(replaced_message, replaced=True)
            raise LinkInvalid(used_message, used=True)
    return user, payload


# Which password fingerprint a single-use link of each purpose carries.
_FINGERPRINT_KIND = {"reset-password": "reset", "invite": "invite"}


def _link_fingerprint(user: User, purpose: str) -> str:
    """The fingerprint a single-use link of `purpose` carries: of the password, so that
    setting one uses the link up, and for an invitation of the number it was sent under,
    so that a newer invitation replaces it. (Number 0: links sent before invitations
    were numbered, which keep working until the next one is sent.)"""
    kind = _FINGERPRINT_KIND[purpose]
    if purpose == "invite" and user.invitation_count:
        kind = f"invite:{user.invitation_count}"
    return password_fingerprint(user, kind)


def _queue(
    session: so.Session, *, to: str, subject: str, template: str, user: User | None, **context
) -> OutboxMessage | None:
    context = {"subject": subject, "portal_url": current_app.config["BASE_URL"], **context}
    return queue_email(
        session,
        to=to,
        subject=subject,
        text=render_template(f"email/accounts/{template}.txt", **context),
        html=render_template(f"email/accounts/{template}.html", **context),
        subject_type="User" if user is not None else None,
        subject_id=user.id if user is not None else None,
    )


def _sent_since(session: so.Session, user: User, subject: str, since: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.subject_type == "User",
            OutboxMessage.subject_id == user.id,
            OutboxMessage.subject == subject,
            OutboxMessage.created_at >= since,
        )
    )


def _last_sent(session: so.Session, user: User, subject: str) -> datetime | None:
    return session.scalar(
        sa.select(sa.func.max(OutboxMessage.created_at)).where(
            OutboxMessage.subject_type == "User",
            OutboxMessage.subject_id == user.id,
            OutboxMessage.subject == subject,
        )
    )


# --- sign-up and verification -----------------------------------------------------------------


def sign_up(
    session: so.Session,
    *,
    full_name: str,
    email: str,
    password: str,
    time_zone: str,
    street: str,
    city: str,
    postal_code: str,
    country: str = "GB",
    label: str = "Home",
    phone: str = "",
) -> SignUpResult:
    """Create a consumer account, its contact, user and address, and e-mail a link.

    With an address that already has a user, nothing is created: the owner is told by
    e-mail instead, and the result (and the time it takes) looks the same to the caller.
    """
    email = services.normalise_email(email)
    full_name = _clean_name(full_name)
    phone = _clean_phone(phone)
    _check_zone(time_zone)
    if "@" not in email or len(email) > 254:
        raise Invalid("Enter an e-mail address like name@example.com.", field="email")
    validate_new_password(password, email=email, full_name=full_name)
    address = {"street": street, "city": city, "postal_code": postal_code}
    for name, value in address.items():
        if not value.strip():
            raise Invalid("Fill in every line of the address.", field=name)
    served = services.territory_for_postal_code(session, postal_code) is not None
    # Hashing is the slow part: do it on both paths so the answer takes as long.
    password_hash = services.hash_password(password)

    user = None
    if session.scalar(sa.select(User.id).where(User.email == email)) is None:
        try:
            with session.begin_nested():
                user = services.create_user(
                    session,
                    email=email,
                    full_name=full_name,
                    role="customer",
                    password=None,
                    time_zone=time_zone,
                    verified=False,
                )
                user.password_hash = password_hash
                session.flush()
        except (sa.exc.IntegrityError, Invalid):
            user = None  # somebody signed up with it a moment ago
    result = SignUpResult(user=user, postal_code=postal_code.strip().upper(), served=served)
    if user is None:
        _tell_owner_about_signup(session, email)
        return result

    account = services.create_customer_account(session, name=full_name, kind="consumer")
    services.add_contact(session, account, full_name=full_name, email=email, phone=phone, user=user)
    services.add_service_location(
        session,
        account,
        label=label.strip() or "Home",
        street=street,
        city=city,
        postal_code=postal_code,
        country=country,
        allow_unserved=True,
    )
    send_verification(session, user)
    return result


def _tell_owner_about_signup(session: so.Session, email: str) -> None:
    owner = session.scalar(sa.select(User).where(User.email == email))
    if owner is None or not owner.active:
        return
    since = now_utc() - timedelta(days=1)
    if _sent_since(session, owner, SUBJECT_SIGNUP_EXISTS, since) >= SIGNUP_NOTICES_PER_DAY:
        return
    _queue(
        session,
        to=owner.email,
        subject=SUBJECT_SIGNUP_EXISTS,
        template="signup_exists",
        user=owner,
        name=owner.full_name,
        login_url=f"{current_app.config['BASE_URL']}/login",
        reset_url=f"{current_app.config['BASE_URL']}/reset",
    )


def send_verification(session: so.Session, user: User) -> OutboxMessage | None:
    """Queue an e-mail with a link that verifies the user's address (no rate limit)."""
    link = _link("verify-email", "verify", user, VERIFY_LIFETIME, e=user.email)
    return _queue(
        session,
        to=user.email,
        subject=SUBJECT_VERIFY,
        template="verify",
        user=user,
        name=user.full_name,
        link=link,
        hours=int(VERIFY_LIFETIME.total_seconds() // 3600),
    )


def verification_wait(session: so.Session, user: User) -> str | None:
    """Why a new verification link cannot be sent now, or None when it can."""
    now = now_utc()
    last = _last_sent(session, user, SUBJECT_VERIFY)
    if last is not None and now - last < VERIFY_MIN_INTERVAL:
        return "We sent you a link less than a minute ago. Please wait a minute and try again."
    if _sent_since(session, user, SUBJECT_VERIFY, now - timedelta(days=1)) >= VERIFY_PER_DAY:
        return (
            f"We have sent you {VERIFY_PER_DAY} links today, which is the most we send. "
            "Please check your spam folder, or try again tomorrow."
        )
    return None


def resend_verification(session: so.Session, user: User) -> None:
    """Send the logged-in user a new link; RateLimited when asked too often."""
    if user.email_verified_at is not None:
        raise Invalid("Your e-mail address is already verified.")
    reason = verification_wait(session, user)
    if reason is not None:
        raise RateLimited(reason)
    send_verification(session, user)


def request_verification_email(session: so.Session, email: str) -> None:
    """Send a new link when an unverified user has this address; silent in every case."""
    user = session.scalar(sa.select(User).where(User.email == services.normalise_email(email)))
    if user is None or not user.active or user.email_verified_at is not None:
        return
    if user.password_hash is None:
        return  # an invitee: the invitation link verifies the address
    if verification_wait(session, user) is None:
        send_verification(session, user)


def verify_email(session: so.Session, token: str) -> User:
    """Mark the address in the link as verified (again is fine); LinkInvalid otherwise."""
    user, payload = _read_link(
        session,
        "verify-email",
        token,
        VERIFY_LIFETIME,
        "This link has expired: verification links work for 48 hours. Ask for a new one below.",
    )
    if payload.get("e") != user.email:
        raise LinkInvalid("This link is for an e-mail address the account no longer uses.")
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
        session.flush()
    return user


# --- password reset ---------------------------------------------------------------------------


def request_password_reset(session: so.Session, email: str) -> None:
    """E-mail a reset link when an active user has this address; silent in every case.

    Every request does the same work, so the time the answer takes does not say whether
    the address has an account (or has asked too often): the same look-up and count,
    one signed link, the e-mail rendered and written inside a savepoint, which is kept
    only when there is somebody to send it to. For nobody, the link is made for a
    stand-in user that is never stored.
    """
    email = services.normalise_email(email)
    found = session.scalar(sa.select(User).where(User.email == email))
    user = found if found is not None and found.active else None
    recipient = user or User(id=0, email=email, full_name="", password_hash=None)
    since = now_utc() - timedelta(hours=1)
    sent = _sent_since(session, recipient, SUBJECT_RESET, since)
    link = _link(
        "reset-password",
        "reset",
        recipient,
        RESET_LIFETIME,
        fp=_link_fingerprint(recipient, "reset-password"),
    )
    savepoint = session.begin_nested()
    _queue(
        session,
        to=recipient.email,
        subject=SUBJECT_RESET,
        template="reset",
        user=recipient,
        name=recipient.full_name,
        link=link,
        minutes=int(RESET_LIFETIME.total_seconds() // 60),
    )
    if user is not None and sent < RESETS_PER_HOUR:
        savepoint.commit()
    else:
        savepoint.rollback()


def read_reset_link(session: so.Session, token: str) -> User:
    """The user a reset link is for, while it is fresh and unused; LinkInvalid otherwise."""
    user, _payload = _read_link(
        session,
        "reset-password",
        token,
        RESET_LIFETIME,
        "This link has expired: reset links work for one hour. Ask for a new one below.",
        used_message="This link has already been used, or the password was changed since it "
        "was sent. Ask for a new one below.",
    )
    return user


def reset_password(session: so.Session, token: str, new_password: str) -> User:
    """Set a new password through a reset link; the link and other sessions stop working."""
    user = read_reset_link(session, token)
    _set_password(session, user, new_password)
    # The link reached the mailbox, which proves the address as well as a verification.
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == user.email))
    session.flush()
    return user


def _set_password(session: so.Session, user: User, new_password: str) -> None:
    validate_new_password(new_password, email=user.email, full_name=user.full_name)
    user.password_hash = services.hash_password(new_password)
    session.flush()
    revoke_access(session, user)
    _queue(
        session,
        to=user.email,
        subject=SUBJECT_PASSWORD_CHANGED,
        template="password_changed",
        user=user,
        name=user.full_name,
        reset_url=f"{current_app.config['BASE_URL']}/reset",
    )


def revoke_access(session: so.Session, user: User) -> None:
    """End every way in: the user's sessions (on every device), its working API tokens,
    its calendar feed key (a new link can be made) and the manage links of e-mails sent
    so far. A new password must shut out whoever stole the old one, and whatever they
    made or were sent with it. Known-device cookies end too: they carry a fingerprint
    of the password."""
    now = now_utc()
    sessions.end_user_sessions(session, user, now, "password")
    user.links_revoked_at = now
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        sa.delete(CalendarFeed)
        .where(CalendarFeed.user_id == user.id)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()


def tell_token_created(session: so.Session, user: User, token_name: str) -> None:
    """E-mail the user that a personal API token was made for its account, so a token
    made by someone else with a borrowed session does not go unnoticed."""
    _queue(
        session,
        to=user.email,
        subject=SUBJECT_TOKEN_CREATED,
        template="token_created",
        user=user,
        name=user.full_name,
        token_name=token_name,
        tokens_url=f"{current_app.config['BASE_URL']}/profile/tokens",
        reset_url=f"{current_app.config['BASE_URL']}/reset",
    )


# --- invitations ------------------------------------------------------------------------------


def _default_zone(account: CustomerAccount) -> str:
    return services.account_time_zone(account, current_app.config["ORG_TIME_ZONE"])


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
    full_name = _clean_name(full_name)
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
    _send_invitation(
        session, user, SUBJECT_INVITE, "invite", inviter=invited_by, account_name=account.name
    )
    # A customer's name and address are masked in the log (portal.audit.services).
    record_change(
        session, invited_by, "invite", user, None, {**_invited(user), "account_id": account.id}
    )
    return contact


def _invited(user: User) -> dict:
    return snapshot(user, "full_name", "email", "role", "invitation_count")


def _send_invitation(
    session: so.Session, user: User, subject: str, template: str, *, inviter: User, **context
) -> OutboxMessage | None:
    """E-mail `user` a fresh link to choose a first password. Only the newest link works:
    each invitation gets the next number, which its link's fingerprint carries, so a
    link sent before (to a mistyped address, or forwarded) stops working at once. A
    link also stops working when it expires or once a password is set."""
    # An UPDATE ... SET n = n + 1: two invitations sent at once still get two numbers.
    user.invitation_count = User.invitation_count + 1
    session.flush()
    link = _link(
        "invite",
        "invite",
        user,
        INVITE_LIFETIME,
        fp=_link_fingerprint(user, "invite"),
        n=user.invitation_count,
    )
    return _queue(
        session,
        to=user.email,
        subject=subject,
        template=template,
        user=user,
        name=user.full_name,
        inviter=inviter.full_name,
        link=link,
        days=INVITE_LIFETIME.days,
        **context,
    )


# --- staff invitations ------------------------------------------------------------------------

STAFF_ROLE_LABELS = {
    "agent": "an agent (technician)",
    "scheduler": "a scheduler",
    "manager": "a manager",
    "admin": "an admin",
}


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
    from portal.workforce.services import create_agent  # staff imports booking, which needs us

    _require_user_admin(admin)
    if role not in STAFF_ROLE_LABELS:
        raise Invalid("Choose agent, scheduler, manager or admin.", field="role")
    full_name = _clean_name(full_name, whose="their")
    email = services.normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid("Enter an e-mail address like name@example.com.", field="email")
    _check_zone(time_zone)
    existing = session.scalar(sa.select(User).where(User.email == email))
    if existing is not None:
        raise Invalid(_taken_message(existing), field="email")
    try:
        with session.begin_nested():
            user = services.create_user(
                session,
                email=email,
                full_name=full_name,
                role=role,
                password=None,
                time_zone=time_zone,
                verified=False,
            )
    except sa.exc.IntegrityError:  # another admin invited the same address a moment ago
        raise Invalid(f"{email} was invited a moment ago by someone else.", field="email") from None
    if role == "agent":
        create_agent(session, user, time_zone=time_zone)
    _send_staff_invitation(session, user, admin)
    record_change(session, admin, "invite", user, None, _invited(user))
    return user


def _taken_message(user: User) -> str:
    if user.is_staff and user.password_hash is None and user.active:
        return (
            f"{user.email} is already invited. To send the link again, open "
            f'{user.full_name}\'s page and choose "Send the invitation again".'
        )
    return (
        f"{user.email} already has a log-in, so it cannot be invited again. They can log "
        "in, or reset their password from the log-in page."
    )


def _send_staff_invitation(session: so.Session, user: User, admin: User) -> OutboxMessage | None:
    return _send_invitation(
        session,
        user,
        SUBJECT_STAFF_INVITE,
        "staff_invite",
        inviter=admin,
        role_label=STAFF_ROLE_LABELS.get(user.role, user.role),
    )


def resend_staff_invitation(session: so.Session, admin: User, user: User) -> OutboxMessage | None:
    """Send an invited staff user a new link (the earlier ones stop working at once);
    refused once the invitation was accepted or the user is deactivated."""
    _require_user_admin(admin)
    if not user.is_staff:
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


def read_invitation(session: so.Session, token: str) -> User:
    """The invitee a link is for, while it is fresh and unused; LinkInvalid otherwise."""
    user, _payload = _read_link(
        session,
        "invite",
        token,
        INVITE_LIFETIME,
        "This invitation has expired: invitations work for 7 days. Ask the person who "
        "invited you to send a new one.",
        used_message="This invitation has already been used. Log in, or reset your "
        "password if you have forgotten it.",
        replaced_message="This invitation was replaced by a newer one: use the link in the "
        "latest invitation e-mail.",
    )
    return user


def accept_invitation(
    session: so.Session, token: str, *, password: str, time_zone: str | None = None
) -> User:
    """Set the invitee's first password; following the link also verifies the address."""
    user = read_invitation(session, token)
    if time_zone is not None:
        _check_zone(time_zone)
        user.time_zone = time_zone
    validate_new_password(password, email=user.email, full_name=user.full_name)
    user.password_hash = services.hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
    session.flush()
    return user


# --- profile ----------------------------------------------------------------------------------


def update_profile(
    session: so.Session,
    user: User,
    *,
    full_name: str,
    phone: str,
    time_zone: str,
    email_notifications: bool,
) -> User:
    """Save the person's name, phone, time zone and e-mail choice (contact included)."""
    full_name = _clean_name(full_name)
    phone = _clean_phone(phone)
    _check_zone(time_zone)
    user.full_name = full_name
    user.time_zone = time_zone
    user.email_notifications = email_notifications
    contact = user.contact
    if contact is not None:
        contact.full_name = full_name
        contact.phone = phone
        account = contact.account
        # A consumer account is named after its person (see sign_up).
        if account.kind == "consumer" and len(account.contacts) == 1:
            account.name = full_name
    session.flush()
    return user


def check_current_password(
    session: so.Session,
    user: User,
    current_password: str,
    *,
    remote_addr: str,
    device: str | None = None,
    max_failures: int = 5,
    lock_minutes: int = 15,
) -> None:
    """Refuse unless `current_password` is the user's password: a step-up check before
    something a borrowed session must not do alone. A wrong guess counts as a log-in
    failure (the caller commits it), and too many slow the check as they slow log-in,
    except on a known device (`device`, see portal/accounts/throttle.py)."""
    now = now_utc()
    policy = throttle.Policy(max_failures, timedelta(minutes=lock_minutes))
    throttle.serialise_attempts(session, user.email)
    if not throttle.device_trusted(session, device, now, policy):
        wait = throttle.account_wait(session, user.email, now, policy)
        if wait:
            raise RateLimited(
                f"Too many wrong passwords. Please wait {throttle.say_wait(wait)} and try again."
            )
    if not services.verify_password(user.password_hash, current_password or ""):
        throttle.record_failure(
            session, user.email, remote_addr=remote_addr, device=device, now=now
        )
        raise Invalid("That is not your current password.", field="current_password")


def change_password(
    session: so.Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    remote_addr: str,
    device: str | None = None,
    max_failures: int = 5,
    lock_minutes: int = 15,
) -> User:
    """Set a new password after checking the current one (wrong guesses count as log-in
    failures, so a borrowed session cannot be used to guess it)."""
    check_current_password(
        session,
        user,
        current_password,
        remote_addr=remote_addr,
        device=device,
        max_failures=max_failures,
        lock_minutes=lock_minutes,
    )
    if current_password == new_password:
        raise Invalid("Choose a password different from the current one.", field="password")
    _set_password(session, user, new_password)
    return user


def location_in_use(session: so.Session, location: ServiceLocation) -> str | None:
    """Why the address cannot be removed, or None when it can."""
    from portal.booking.models import Appointment
    from portal.workorders.models import WorkOrder

    unfinished = session.scalar(
        sa.select(sa.func.count())
        .select_from(Appointment)
        .where(
            Appointment.location_id == location.id,
            Appointment.status.not_in(FINISHED_APPOINTMENT_STATES),
        )
    ) + session.scalar(
        sa.select(sa.func.count())
        .select_from(WorkOrder)
        .where(
            WorkOrder.location_id == location.id,
            WorkOrder.status.not_in(FINISHED_WORK_ORDER_STATES),
        )
    )
    if unfinished:
        return (
            f"{location.label} has an appointment that is not finished yet, so it stays. "
            "Cancel or finish that appointment first."
        )
    history = session.scalar(
        sa.select(sa.func.count())
        .select_from(Appointment)
        .where(Appointment.location_id == location.id)
    ) + session.scalar(
        sa.select(sa.func.count())
        .select_from(WorkOrder)
        .where(WorkOrder.location_id == location.id)
    )
    if history:
        # Past appointments keep pointing at the address they happened at.
        return f"{location.label} is on the record of past appointments, so it stays."
    return None


def remove_service_location(
    session: so.Session, account: CustomerAccount, location: ServiceLocation
) -> None:
    """Delete an address of the account that no appointment or work order uses."""
    if location.account_id != account.id:
        raise NotAllowed("That address belongs to another account.")
    reason = location_in_use(session, location)
    if reason is not None:
        raise Conflict(reason)
    session.delete(location)
    session.flush()
