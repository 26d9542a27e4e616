"""One row per recorded change; append-only (the database refuses UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

TABLE = "audit_log"


class AuditEntry(Base):
    """Who (actor_id; None for the command line or the system) did `action` to which
    record (entity_type, entity_id, a label readable by people), and the fields it
    changed: `changes` maps a field to {"old": ..., "new": ...}, secrets masked.

    The actor is a reference, not a copy of its name: the page reads the name from
    `users`, so an anonymised customer is anonymised here too."""

    __tablename__ = TABLE
    __table_args__ = (
        sa.Index("ix_audit_log_entity", "entity_type", "id"),
        sa.Index("ix_audit_log_actor", "actor_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity_id: so.Mapped[int | None]
    entity_label: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    changes: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
