"""Accounts: password hashing, log-in with rate limiting, users and customers."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.accounts import throttle
from portal.accounts.models import (
    ROLES,
    Contact,
    CustomerAccount,
    LoginAttempt,
    ServiceLocation,
    User,
)
from portal.accounts.passwords import validate_new_password
from portal.errors import Invalid, NotAllowed, NotFound, PortalError
from portal.formatting import org_zone
from portal.ids import parse_id
from portal.timeutil import is_valid_zone, now_utc
from portal.workforce.models import PostalPrefix, Territory

# argon2id with the library's defaults (t=3, m=64 MiB, p=4) meets OWASP ASVS 5.0.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("not-a-password")


class LoginRefused(PortalError):
    """Wrong e-mail or password (one message for both), or too many attempts."""

    status = 401


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: so.Session, email: str, password: str, attempt: throttle.Attempt) -> User:
    """Return the user for these credentials, or raise LoginRefused.

    Failures are limited per address and slow the account down (portal/accounts/
    throttle.py); `attempt.device` is the id of a known-device cookie the caller found
    valid for this e-mail's user, which strangers' failures do not slow. Unknown e-mails
    are counted too, so the answer never tells whether one exists.
    """
    email = normalise_email(email)
    now = now_utc()
    remote_addr, device = attempt.remote_addr, attempt.device
    throttle.serialise_attempts(session, email)
    refused = throttle.refusal(
        session, email, remote_addr=remote_addr, device=device, now=now, policy=attempt.policy
    )
    if refused is not None:
        raise LoginRefused(refused)
    user = session.scalar(sa.select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record_failure(session, email, remote_addr=remote_addr, device=device, now=now)
        raise LoginRefused("That e-mail and password do not match an active account.")
    throttle.clear_failures(session, email, device)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def purge_login_attempts(session: so.Session, before) -> int:
    """Delete failed log-ins recorded before `before` (older than any lock counts); how
    many. The rows of addresses and e-mails never tried again go this way."""
    result = session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < before))
    return result.rowcount or 0


def create_user(
    session: so.Session,
    email: str,
    full_name: str,
    role: str,
    password: str | None,
    time_zone: str | None = None,
    *,
    check_password: bool = True,
    verified: bool = True,
) -> User:
    """Create a user with a hashed password; refuses a taken e-mail, an unknown role or
    a password the rule refuses (portal.accounts.passwords).

    `check_password` is off only for the demo loader (its users share "demo"). Without
    `time_zone` the user is in the organisation's zone.
    """
    time_zone = time_zone or org_zone()
    email = normalise_email(email)
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", field="role")
    if "@" not in email:
        raise Invalid("Enter a valid e-mail address.", field="email")
    if not full_name.strip():
        raise Invalid("Enter a name.", field="full_name")
    if password is not None and check_password:
        validate_new_password(password, email=email, full_name=full_name)
    if not is_valid_zone(time_zone):
        raise Invalid("Choose a time zone from the list.", field="time_zone")
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Invalid("A user with that e-mail already exists.", field="email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        time_zone=time_zone,
        password_hash=hash_password(password) if password else None,
        email_verified_at=now_utc() if verified else None,
    )
    session.add(user)
    session.flush()
    return user


def create_pending_user(
    session: so.Session, email: str, full_name: str, role: str, time_zone: str
) -> User:
    """A user with no password yet and an unverified address: one who signed up (the
    caller sets the hash) or was invited (the invitation link sets both)."""
    return create_user(session, email, full_name, role, None, time_zone, verified=False)


def require_verified(user: User) -> None:
    """Refuse a customer who has not yet followed the link that verifies their e-mail."""
    if user.email_verified_at is None:
        raise NotAllowed("Please verify your e-mail address first: we sent you a link.")


def create_customer_account(session: so.Session, *, name: str, kind: str = "business"):
    account = CustomerAccount(name=name.strip(), kind=kind)
    session.add(account)
    session.flush()
    return account


def find_account(session: so.Session, reference: str) -> CustomerAccount:
    """The account a person names by its number (the id in /staff/customers/<number>)
    or by its exact name (any case); NotFound or Invalid say what to give instead."""
    reference = " ".join((reference or "").split())
    if not reference:
        raise Invalid("Give the account's number or its name.", field="account")
    if reference.isascii() and reference.isdigit():
        number = parse_id(reference)
        account = session.get(CustomerAccount, number) if number is not None else None
        if account is None:
            raise NotFound(f"There is no customer account number {reference}.")
        return account
    found = list(
        session.scalars(
            sa.select(CustomerAccount)
            .where(sa.func.lower(CustomerAccount.name) == reference.lower())
            .order_by(CustomerAccount.id)
        )
    )
    if not found:
        raise NotFound(f"There is no customer account named {reference!r}.")
    if len(found) > 1:
        numbers = ", ".join(str(a.id) for a in found)
        raise Invalid(
            f"{len(found)} accounts are named {reference!r} (numbers {numbers}): give the "
            "number of the one you mean.",
            field="account",
        )
    return found[0]


def account_time_zone(account: CustomerAccount, fallback: str) -> str:
    """The zone of the account's first served address: where its people most likely are."""
    for location in account.locations:
        if location.territory is not None:
            return location.territory.time_zone
    return fallback


def create_customer_user(
    session: so.Session,
    account: CustomerAccount,
    *,
    email: str,
    full_name: str,
    password: str | None,
    time_zone: str,
    verified: bool = True,
) -> User:
    """A customer log-in at `account`, with its contact; a contact on file with the same
    address gets the log-in rather than a duplicate. `verified`: staff vouch for the
    address (an invitation is verified when its link is followed)."""
    user = create_user(
        session, email, full_name, "customer", password, time_zone, verified=verified
    )
    contact = session.scalar(
        sa.select(Contact).where(
            Contact.account_id == account.id,
            Contact.email == user.email,
            Contact.user_id.is_(None),
        )
    )
    if contact is None:
        add_contact(session, account, full_name=user.full_name, email=user.email, user=user)
    else:
        contact.user = user
        session.flush()
    return user


def add_contact(
    session: so.Session,
    account: CustomerAccount,
    *,
    full_name: str,
    email: str,
    phone: str = "",
    user: User | None = None,
) -> Contact:
    contact = Contact(
        account=account, full_name=full_name, email=normalise_email(email), phone=phone, user=user
    )
    session.add(contact)
    session.flush()
    return contact


def territory_for_postal_code(session: so.Session, postal_code: str) -> Territory | None:
    """The territory whose longest postal prefix starts the code, if any."""
    code = postal_code.replace(" ", "").upper()
    if not code:
        return None
    prefixes = session.scalars(
        sa.select(PostalPrefix)
        .where(sa.literal(code).startswith(PostalPrefix.prefix))
        .order_by(sa.func.length(PostalPrefix.prefix).desc())
        .limit(1)
    ).first()
    return prefixes.territory if prefixes else None


def add_service_location(
    session: so.Session,
    account: CustomerAccount,
    *,
    label: str,
    street: str,
    city: str,
    postal_code: str,
    country: str = "GB",
    allow_unserved: bool = False,
) -> ServiceLocation:
    """Save a new address to the account; refuses an address no territory serves.

    `allow_unserved` keeps such an address anyway (sign-up: the person's home is theirs
    to record even before we serve it); it has no territory, so nothing can be booked there.
    """
    fields = {"label": label, "street": street, "city": city, "postal_code": postal_code}
    for name, value in fields.items():
        if not value.strip():
            raise Invalid("Fill in every line of the address.", field=name)
    territory = territory_for_postal_code(session, postal_code)
    if territory is None and not allow_unserved:
        raise Invalid(
            f"We do not serve postcode {postal_code.strip().upper()} yet, so we cannot book "
            "work there.",
            field="postal_code",
        )
    location = ServiceLocation(
        account=account,
        label=label.strip(),
        street=street.strip(),
        city=city.strip(),
        postal_code=postal_code.strip().upper(),
        country=country.strip().upper()[:2] or "GB",
        territory=territory,
    )
    session.add(location)
    session.flush()
    return location
