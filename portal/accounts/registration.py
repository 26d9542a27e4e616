"""Signing up without staff help, and verifying the e-mail address afterwards.

Neither tells a stranger whether an address is registered: signing up with a known
address answers exactly as with a new one, and the owner hears about it by e-mail
instead. A new account logs in once its address is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.exc
import sqlalchemy.orm as so

from portal.accounts import emails, services
from portal.accounts.emails import SIGNUP_EXISTS, VERIFY, send_link_email
from portal.accounts.fields import check_email, check_zone, clean_name, clean_phone
from portal.accounts.links import VERIFY_LINK, LinkInvalid, read_link
from portal.accounts.models import User
from portal.accounts.passwords import validate_new_password
from portal.accounts.throttle import RateLimited
from portal.errors import Invalid
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc

# Verification links: one a minute and five a day per user (the first one counts).
VERIFY_MIN_INTERVAL = timedelta(minutes=1)
VERIFY_PER_DAY = 5
# "Someone tried to sign up with your address": at most three a day per owner, so a
# stranger cannot use sign-up to flood somebody's inbox.
SIGNUP_NOTICES_PER_DAY = 3


@dataclass(frozen=True)
class SignUpResult:
    """What the sign-up page may say; identical whether or not the address was taken."""

    user: User | None  # None when the address belonged to somebody (they were e-mailed)
    postal_code: str
    served: bool


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
    full_name = clean_name(full_name)
    phone = clean_phone(phone)
    check_zone(time_zone)
    check_email(email)
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
                user = services.create_pending_user(
                    session, email, full_name, "customer", time_zone
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
    if emails.sent_since(session, owner, SIGNUP_EXISTS, since) >= SIGNUP_NOTICES_PER_DAY:
        return
    send_link_email(session, owner, SIGNUP_EXISTS)


def send_verification(session: so.Session, user: User) -> OutboxMessage | None:
    """Queue an e-mail with a link that verifies the user's address (no rate limit)."""
    return send_link_email(session, user, VERIFY, link_data={"e": user.email})


def verification_wait(session: so.Session, user: User) -> str | None:
    """Why a new verification link cannot be sent now, or None when it can."""
    now = now_utc()
    last = emails.last_sent(session, user, VERIFY)
    if last is not None and now - last < VERIFY_MIN_INTERVAL:
        return "We sent you a link less than a minute ago. Please wait a minute and try again."
    if emails.sent_since(session, user, VERIFY, now - timedelta(days=1)) >= VERIFY_PER_DAY:
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
    user, payload = read_link(session, VERIFY_LINK, token)
    if payload.get("e") != user.email:
        raise LinkInvalid("This link is for an e-mail address the account no longer uses.")
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()
        session.flush()
    return user
