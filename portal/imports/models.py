"""An import: the file that came in, who or what brought it, and what each row did.

The raw file is kept on disk under PORTAL_IMPORT_DIR by its sha256 (streamed there while
it was hashed, never read whole into memory); the row here says where. A dry run
("checked") stores the outcome of every row that would change something or is wrong,
and counts the unchanged ones; applying runs the same checks again against the database
as it is then, and applies all or nothing. The same file again (same kind, same sha256)
is refused once one copy was applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime
from portal.timeutil import now_utc

if TYPE_CHECKING:
    from portal.accounts.models import User

# Who or what brought the file: a person's upload, the scheduler's watched folder, the API.
IMPORT_SOURCES = ("upload", "folder", "api")
# checked: the dry run is done and found no error (waiting to be applied);
# rejected: the dry run (or the checks on applying) found errors: nothing applied;
# applied: every row applied, in one transaction;
# discarded: a person dropped a checked import without applying it;
# duplicate: the same file as an import that was applied (nothing done).
IMPORT_STATES = ("checked", "rejected", "applied", "discarded", "duplicate")
ROW_OUTCOMES = ("new", "changed", "unchanged", "error")


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (
        sa.CheckConstraint(f"source IN {IMPORT_SOURCES!r}", name="source_known"),
        sa.CheckConstraint(f"status IN {IMPORT_STATES!r}", name="status_known"),
        # One applied copy of a file per kind: the same file again changes nothing.
        sa.Index(
            "ux_imports_applied_file",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=sa.text("status = 'applied'"),
            postgresql_where=sa.text("status = 'applied'"),
        ),
        sa.Index("ix_imports_kind_created", "kind", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # What the file is: "account_feed" (portal/feed), "partner_report" (later).
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    source: so.Mapped[str] = so.mapped_column(sa.String(10))
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    size_bytes: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # Where the raw file is kept, relative to PORTAL_IMPORT_DIR.
    stored_path: so.Mapped[str] = so.mapped_column(sa.String(500))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="checked", index=True)
    # A problem with the file as a whole (bad encoding, a missing column), if any.
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    row_count: so.Mapped[int] = so.mapped_column(default=0)
    new_count: so.Mapped[int] = so.mapped_column(default=0)
    changed_count: so.Mapped[int] = so.mapped_column(default=0)
    unchanged_count: so.Mapped[int] = so.mapped_column(default=0)
    error_count: so.Mapped[int] = so.mapped_column(default=0)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    checked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    applied_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    applied_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Set for a "duplicate": the applied import this file is a copy of.
    duplicate_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("imports.id"))
    # What the kind's applier wants to remember (e.g. the partner report's date, sequence).
    meta: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)

    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])
    applied_by: so.Mapped[User | None] = so.relationship(foreign_keys=[applied_by_id])

    @property
    def number(self) -> str:
        return f"IMP-{self.id:06d}"


class ImportRow(Base):
    """The outcome of one row of the file (new, changed or an error; unchanged rows are
    counted on the import and stored only when the kind asks for it)."""

    __tablename__ = "import_rows"
    __table_args__ = (
        sa.CheckConstraint(f"outcome IN {ROW_OUTCOMES!r}", name="outcome_known"),
        sa.Index("ix_import_rows_import_outcome", "import_id", "outcome", "line"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    import_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"))
    # The line of the file (1 is the header of a CSV file; the first row is line 2).
    line: so.Mapped[int]
    # The row's key (an account number, a contact id, a work-order number).
    key: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10))
    # For an error: the column it is about (None for the row as a whole) and why.
    column: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="")
