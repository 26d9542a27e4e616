"""People and the customers they belong to: users, accounts, contacts, locations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from portal.db import Base, UTCDateTime
from portal.formatting import org_zone
from portal.timeutil import now_utc

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.workforce.models import Territory

ROLES = ("customer", "agent", "scheduler", "manager", "admin", "backoffice")
# The ladder of field and office staff, whose pages (the dispatch board, windows, the
# bookings) a back-office user never sees.
STAFF_ROLES = frozenset({"agent", "scheduler", "manager", "admin"})
# Which roles include which: an admin may do all a manager may, and so on.
ROLE_RANK = {"agent": 1, "scheduler": 2, "manager": 3, "admin": 4}
# Back office (Finance, Orders, aging and sales reps): outside the ladder, never bookable;
# works the queues it belongs to and its own tasks.
BACKOFFICE = "backoffice"
# Everyone who works for the organisation: a "My tasks" home, the queues they belong to.
TEAM_ROLES = STAFF_ROLES | {BACKOFFICE}


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64), default=lambda: org_zone())
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    # None until the person follows the link e-mailed to them; a customer must verify
    # before the first booking. Staff and demo users are created verified.
    email_verified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The customer's choice: e-mails about appointments (in-portal notices always appear).
    email_notifications: so.Mapped[bool] = so.mapped_column(default=True)
    # Invitations sent so far: each invitation link carries the number it was sent
    # under, so sending a new one makes the earlier links stop working at once.
    invitation_count: so.Mapped[int] = so.mapped_column(default=0)
    # Manage links (portal/booking/links.py) signed at or before this instant open nothing:
    # a new password ends them, as it ends sessions, API tokens and calendar feeds.
    links_revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    contact: so.Mapped[Contact | None] = so.relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        """Field and office staff on the ladder (not back office)."""
        return self.role in STAFF_ROLES

    @property
    def is_backoffice(self) -> bool:
        return self.role == BACKOFFICE

    @property
    def is_team(self) -> bool:
        """Staff or back office: works for the organisation, has a "My tasks" home."""
        return self.role in TEAM_ROLES

    def has_role(self, *roles: str) -> bool:
        """True when the user's role is one of `roles`, or outranks the lowest staff one."""
        if self.role in roles:
            return True
        wanted = [ROLE_RANK[r] for r in roles if r in ROLE_RANK]
        return bool(wanted) and self.role in ROLE_RANK and ROLE_RANK[self.role] >= min(wanted)

    @property
    def account_id(self) -> int | None:
        return self.contact.account_id if self.contact else None

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class CustomerAccount(Base):
    __tablename__ = "customer_accounts"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('business', 'consumer')", name="kind_known"),
        sa.CheckConstraint(
            "oldest_aging_days IS NULL OR oldest_aging_days >= 0", name="aging_not_negative"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(160))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="business")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    # The account's number at the confirmation service (the feed's key); None when the
    # account is not in the feed.
    external_number: so.Mapped[str | None] = so.mapped_column(sa.String(40), unique=True)
    # The sales user who owns the account (the aging rep escalates to them).
    owner_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Fed daily (portal/feed): the age in days of the oldest pending confirmation.
    oldest_aging_days: so.Mapped[int | None]
    # Derived from oldest_aging_days in one place (portal/feed/derived.py) and stored, so
    # that the rules (portal/rules) can see it turn true or false.
    has_aging_confirmations: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false(), index=True
    )
    aging_updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    owner: so.Mapped[User | None] = so.relationship(foreign_keys=[owner_user_id])

    contacts: so.Mapped[list[Contact]] = so.relationship(back_populates="account")
    locations: so.Mapped[list[ServiceLocation]] = so.relationship(
        back_populates="account", order_by="ServiceLocation.id"
    )


class Contact(Base):
    """A person at a customer account; a customer user logs in as one contact."""

    __tablename__ = "contacts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("customer_accounts.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), unique=True)
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    # The person's id at the confirmation service, and their last log-in there (fed
    # daily by portal/feed; not the portal's own log-in).
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(60), unique=True)
    last_external_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    account: so.Mapped[CustomerAccount] = so.relationship(back_populates="contacts")
    user: so.Mapped[User | None] = so.relationship(back_populates="contact")


class ServiceLocation(Base):
    """An address where work is done; its territory decides who may go there."""

    __tablename__ = "service_locations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("customer_accounts.id", ondelete="CASCADE"), index=True
    )
    label: so.Mapped[str] = so.mapped_column(sa.String(80))
    street: so.Mapped[str] = so.mapped_column(sa.String(160))
    city: so.Mapped[str] = so.mapped_column(sa.String(80))
    postal_code: so.Mapped[str] = so.mapped_column(sa.String(16))
    country: so.Mapped[str] = so.mapped_column(sa.String(2), default="GB")
    territory_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("territories.id"), index=True
    )

    account: so.Mapped[CustomerAccount] = so.relationship(back_populates="locations")
    territory: so.Mapped[Territory | None] = so.relationship()

    @property
    def one_line(self) -> str:
        return f"{self.street}, {self.city} {self.postal_code}"


class LoginAttempt(Base):
    """A failed log-in, kept briefly so log-in can be rate-limited across workers."""

    __tablename__ = "login_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    remote_addr: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc, index=True)
    # The known device it came from (a digest of the device cookie's id), if any: its
    # failures are counted per device as well (portal/accounts/throttle.py).
    device: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)


class UserSession(Base):
    """A log-in on one browser, kept on the server so that it can be ended from anywhere.

    The browser holds random ids only (in the session cookie, and in the remember-me
    cookie when asked for); the row holds their SHA-256 digests, so a copy of this table
    opens no session. portal/accounts/sessions.py says when a row is live.
    """

    __tablename__ = "user_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    remember_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    # The role the id was issued under: a role change gives the session a new id.
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(400), default="")
    # Set for "remember me": the session lives until then, idle or not (30 days at most).
    remember_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Why it was ended: logout, everywhere, password, deactivated (the next page says so).
    revoked_reason: so.Mapped[str] = so.mapped_column(sa.String(20), default="")

    user: so.Mapped[User] = so.relationship()
