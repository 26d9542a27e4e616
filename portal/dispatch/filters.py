"""What the dispatch board and its queues can be narrowed to (skill, service, status,
territory), the choices the filter form offers, and the conditions each filter adds to the
agent and appointment queries."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ServiceLocation
from portal.booking.models import APPOINTMENT_STATES, Appointment, Service
from portal.workforce.models import (
    Agent,
    Skill,
    Territory,
    agent_skills,
    agent_territories,
)

STATUS_CHOICES = tuple(s for s in APPOINTMENT_STATES if s != "cancelled")


@dataclass(frozen=True)
class BoardFilters:
    skill_id: int | None = None
    service_id: int | None = None
    status: str | None = None
    territory_id: int | None = None

    @property
    def active(self) -> bool:
        values = (self.skill_id, self.service_id, self.status, self.territory_id)
        return any(v is not None for v in values)


@dataclass(frozen=True)
class FilterChoices:
    skills: list[tuple[int, str]]
    services: list[tuple[int, str]]
    territories: list[tuple[int, str]]


def filter_choices(session: so.Session) -> FilterChoices:
    """What the filters offer: skills, active services, territories (by name)."""

    def pairs(query) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in session.execute(query)]

    return FilterChoices(
        skills=pairs(sa.select(Skill.id, Skill.name).order_by(Skill.name)),
        services=pairs(
            sa.select(Service.id, Service.name).where(Service.active).order_by(Service.name)
        ),
        territories=pairs(sa.select(Territory.id, Territory.name).order_by(Territory.name)),
    )


def agent_conditions(filters: BoardFilters) -> list:
    """Which agents get a row: active, and matching the skill, service and territory."""
    conditions = [Agent.active.is_(True)]
    if filters.skill_id is not None:
        conditions.append(
            Agent.id.in_(
                sa.select(agent_skills.c.agent_id).where(
                    agent_skills.c.skill_id == filters.skill_id
                )
            )
        )
    if filters.service_id is not None:
        # Agents who could do the service: it needs no skill, or they have it.
        required = (
            sa.select(Service.required_skill_id)
            .where(Service.id == filters.service_id)
            .scalar_subquery()
        )
        conditions.append(
            sa.or_(
                required.is_(None),
                Agent.id.in_(
                    sa.select(agent_skills.c.agent_id).where(agent_skills.c.skill_id == required)
                ),
            )
        )
    if filters.territory_id is not None:
        conditions.append(
            Agent.id.in_(
                sa.select(agent_territories.c.agent_id).where(
                    agent_territories.c.territory_id == filters.territory_id
                )
            )
        )
    return conditions


def appointment_conditions(filters: BoardFilters, *, queue: bool) -> list:
    """Which appointments show. On the board the skill and territory filters choose the
    rows (agents) and each row keeps its whole schedule, so nobody looks free who is
    not; in the queues every filter applies to the appointment itself."""
    conditions = []
    if filters.service_id is not None:
        conditions.append(Appointment.service_id == filters.service_id)
    if filters.status is not None:
        conditions.append(Appointment.status == filters.status)
    if not queue:
        return conditions
    if filters.skill_id is not None:
        conditions.append(Service.required_skill_id == filters.skill_id)
    if filters.territory_id is not None:
        conditions.append(
            Appointment.location_id.in_(
                sa.select(ServiceLocation.id).where(
                    ServiceLocation.territory_id == filters.territory_id
                )
            )
        )
    return conditions
