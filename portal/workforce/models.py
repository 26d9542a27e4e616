"""Agents and where and when they work: territories, skills, weekly hours, time off."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import Base, UTCDateTime

if TYPE_CHECKING:  # only for annotations; the mapper resolves names at runtime
    from portal.accounts.models import User

agent_skills = sa.Table(
    "agent_skills",
    Base.metadata,
    sa.Column("agent_id", sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill_id", sa.ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
)

agent_territories = sa.Table(
    "agent_territories",
    Base.metadata,
    sa.Column("agent_id", sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "territory_id", sa.ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Territory(Base):
    """A region with a time zone; a location belongs to it by postal-code prefix."""

    __tablename__ = "territories"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64))

    prefixes: so.Mapped[list[PostalPrefix]] = so.relationship(
        back_populates="territory", cascade="all, delete-orphan"
    )


class PostalPrefix(Base):
    __tablename__ = "postal_prefixes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    territory_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    # Upper case, no spaces; a prefix belongs to one territory only.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)

    territory: so.Mapped[Territory] = so.relationship(back_populates="prefixes")


class Skill(Base):
    __tablename__ = "skills"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))


class Agent(Base):
    """A technician or advisor: a staff user who can be booked."""

    __tablename__ = "agents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), unique=True)
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64))
    active: so.Mapped[bool] = so.mapped_column(default=True)

    user: so.Mapped[User] = so.relationship()
    skills: so.Mapped[list[Skill]] = so.relationship(secondary=agent_skills, order_by=Skill.code)
    territories: so.Mapped[list[Territory]] = so.relationship(
        secondary=agent_territories, order_by=Territory.name
    )
    hours: so.Mapped[list[WorkingHours]] = so.relationship(
        back_populates="agent",
        cascade="all, delete-orphan",
        order_by="(WorkingHours.weekday, WorkingHours.start_time)",
    )
    time_off: so.Mapped[list[TimeOff]] = so.relationship(
        back_populates="agent", cascade="all, delete-orphan", order_by="TimeOff.starts_at"
    )

    @property
    def name(self) -> str:
        return self.user.full_name


class WorkingHours(Base):
    """One weekly rule, in the agent's own zone: Mondays 08:00 to 17:00."""

    __tablename__ = "working_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    weekday: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    start_time: so.Mapped[time] = so.mapped_column(sa.Time)
    end_time: so.Mapped[time] = so.mapped_column(sa.Time)

    agent: so.Mapped[Agent] = so.relationship(back_populates="hours")


class TimeOff(Base):
    __tablename__ = "time_off"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    reason: so.Mapped[str] = so.mapped_column(sa.String(120), default="")

    agent: so.Mapped[Agent] = so.relationship(back_populates="time_off")


class Holiday(Base):
    """An organisation holiday: no windows are offered on this date."""

    __tablename__ = "holidays"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column(sa.Date, unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
