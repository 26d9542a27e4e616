"""Report runs (a report asked for, its progress and its file) and weekly subscriptions."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

REPORT_KINDS = ("operations", "utilisation", "signoffs", "sla")
REPORT_FORMATS = ("pdf", "csv")
RUN_STATES = ("queued", "running", "done", "failed")


class ReportRun(Base):
    """One report file: made at once for a short range, or queued for the scheduler process.

    The finished file is kept in the database (so any web worker can serve it) until
    `expires_at`; a job removes expired files.
    """

    __tablename__ = "report_runs"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {REPORT_KINDS!r}", name="kind_known"),
        sa.CheckConstraint(f"fmt IN {REPORT_FORMATS!r}", name="fmt_known"),
        sa.CheckConstraint(f"status IN {RUN_STATES!r}", name="status_known"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        sa.CheckConstraint("date_from <= date_to", name="range_ordered"),
        sa.Index("ix_report_runs_status_created", "status", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    fmt: so.Mapped[str] = so.mapped_column(sa.String(4))
    date_from: so.Mapped[date] = so.mapped_column(sa.Date)
    date_to: so.Mapped[date] = so.mapped_column(sa.Date)
    service_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("services.id", ondelete="SET NULL")
    )
    agent_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("agents.id", ondelete="SET NULL")
    )
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # "manual" (asked for on the reports page) or "weekly" (a subscription's e-mail).
    origin: so.Mapped[str] = so.mapped_column(sa.String(10), default="manual")
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    progress: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    file_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    size: so.Mapped[int] = so.mapped_column(default=0)
    content: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)


class ReportSubscription(Base):
    """A manager's wish to receive a report by e-mail every Monday (for the week before)."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {REPORT_KINDS!r}", name="kind_known"),
        sa.UniqueConstraint("user_id", "kind", name="uq_report_subscriptions_user_kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
