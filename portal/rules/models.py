"""Rules, their memory per record, their firings, and the e-mail templates they send.

A rule's state per (rule, record) is the last value of its condition it saw: a value that
stays above a threshold fires nothing more, and the same feed twice fires nothing.
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

# changed: a field of the record type changes; turns_true / turns_false: a condition (a
# derived flag, or a field compared with a threshold) turns true / false; created: a
# record of the type is made.
TRIGGERS = ("changed", "turns_true", "turns_false", "created")


class Rule(Base):
    __tablename__ = "rules"
    __table_args__ = (sa.CheckConstraint(f"trigger IN {TRIGGERS!r}", name="trigger_known"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # The kind of record it watches: "account", "contact" (portal/feed/records.py).
    record_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    trigger: so.Mapped[str] = so.mapped_column(sa.String(20))
    # The field or derived flag the trigger looks at (None for "created").
    field: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    # Parameters managers edit: threshold, due days, template, queue, task assignee...
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # What it does, in order: [{"kind": "open_case", ...}, {"kind": "create_task", ...}].
    actions: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    enabled: so.Mapped[bool] = so.mapped_column(default=False)
    built_in: so.Mapped[bool] = so.mapped_column(default=False)
    position: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    updated_by: so.Mapped[User | None] = so.relationship()


class RuleState(Base):
    """The last value of a rule's condition for one record."""

    __tablename__ = "rule_states"

    rule_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The condition's value as text ("true"/"false", or the field's value for "changed").
    value: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)


class RuleFiring(Base):
    """One firing: which rule, on which record, why (its inputs) and what it did."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        sa.Index("ix_rule_firings_record", "record_type", "record_id", "at"),
        sa.Index("ix_rule_firings_rule_at", "rule_id", "at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rule_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rules.id", ondelete="CASCADE"))
    record_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    record_id: so.Mapped[int]
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    # e.g. "false → true"
    transition: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    # The values it saw: {"oldest_aging_days": [3, 5], "has_aging_confirmations": [false, true]}
    inputs: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # What each action did, in order: [{"kind": "open_case", "case_id": 12, "text": ...}]
    outcome: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # What made the change: "Feed import IMP-000012", "Edited by Ann Manager".
    cause: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    import_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("imports.id", ondelete="SET NULL"), index=True
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    rule: so.Mapped[Rule] = so.relationship()
    effects: so.Mapped[list[RuleEffect]] = so.relationship(
        back_populates="firing", cascade="all, delete-orphan"
    )


class RuleEffect(Base):
    """A record a firing made or changed (a case, a task), so that the record's page can
    answer "why did this happen?"."""

    __tablename__ = "rule_effects"
    __table_args__ = (sa.Index("ix_rule_effects_subject", "subject_type", "subject_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    firing_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rule_firings.id", ondelete="CASCADE"), index=True
    )
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(40))  # "case", "task", "email"
    subject_id: so.Mapped[int]
    action: so.Mapped[str] = so.mapped_column(sa.String(40))

    firing: so.Mapped[RuleFiring] = so.relationship(back_populates="effects")


class EmailTemplate(Base):
    """An e-mail a rule sends: subject and body with {placeholders} (portal/rules)."""

    __tablename__ = "email_templates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )
