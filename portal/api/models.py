"""Personal API tokens. (The counters that rate-limit the API are portal/ratelimit.py's.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.accounts.models import User


class ApiToken(Base):
    """A personal token: it acts as its user (same role, same account) until revoked or
    expired. Only a SHA-256 of the secret is kept; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    # The first characters of the secret ("pt_ab12cd"), so people can tell tokens apart.
    hint: so.Mapped[str] = so.mapped_column(sa.String(16))
    secret_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
