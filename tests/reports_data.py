"""A small, known data set for the report tests, with the figures counted by hand.

Range: Monday 2 to Sunday 15 November 2026 in Europe/London (GMT, so UTC equals local).
Agents Ann and Bob work Mon-Fri 09:00-17:00; Monday 9 November is a holiday, and Bob
takes Wednesday 4 November off. Service A takes 60 minutes plus a 30-minute buffer,
service B 60 minutes and no buffer.

| # | agent | service | window start (UTC)   | status     | notes                                 |
|---|-------|---------|----------------------|------------|---------------------------------------|
| 1 | Ann   | A       | Mon 2 Nov 09:00      | signed_off | confirmed 2 h after booking; signed   |
|   |       |         |                      |            | Tue 3 Nov 10:00 by Chloe Martin       |
| 2 | Ann   | A       | Tue 3 Nov 09:00      | completed  |                                       |
| 3 | Bob   | B       | Tue 3 Nov 13:00      | completed  |                                       |
| 4 | Bob   | B       | Thu 5 Nov 10:00      | cancelled  | holds nobody                          |
| 5 | Ann   | B       | Fri 6 Nov 10:00      | no_show    |                                       |
| 6 | Bob   | A       | Tue 10 Nov 09:00     | confirmed  | confirmed 6 h after booking; moved x2 |
| 7 | Ann   | B       | Wed 11 Nov 14:00     | requested  | moved once                            |
| 8 | Ann   | A       | Mon 16 Nov 09:00     | confirmed  | after the range                       |
| 9 | Bob   | B       | Fri 30 Oct 09:00     | signed_off | before the range; signed Mon 2 Nov    |
|   |       |         |                      |            | 08:00 under a name that looks like a  |
|   |       |         |                      |            | spreadsheet formula                   |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy.orm as so

from portal.booking.models import Appointment, SignOff
from portal.reports.figures import ReportParams
from portal.workforce.models import Agent, Holiday, TimeOff
from portal.workorders.models import TimelineEntry
from tests.factories import (
    build_world,
    create_appointment,
    create_customer,
    create_service,
    create_task,
)

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 15)
# The report tests' clock, not the suite's NOW (June): Monday 23 November 2026, 09:00 GMT,
# a week after the range, when every appointment in the table above lies in the past.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONE = "Europe/London"


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class ReportWorld:
    ann: Agent
    bob: Agent
    service_a_id: int
    service_b_id: int
    appointments: dict[int, Appointment]

    def params(self, kind: str, **overrides) -> ReportParams:
        """The report of the whole range; `overrides` may change any field, kind too."""
        values = {"kind": kind, "date_from": FIRST, "date_to": LAST, "zone": ZONE}
        values.update(overrides)
        return ReportParams(**values)


def _status_entry(session, appointment: Appointment, new: str, when: datetime) -> None:
    session.add(
        TimelineEntry(
            subject_type="Appointment",
            subject_id=appointment.id,
            work_order_id=appointment.work_order_id,
            action="status",
            field="status",
            old_value="accepted",
            new_value=new,
            at=when,
        )
    )


def _moved(session, appointment: Appointment, when: datetime) -> None:
    session.add(
        TimelineEntry(
            subject_type="Appointment",
            subject_id=appointment.id,
            work_order_id=appointment.work_order_id,
            action="rescheduled",
            at=when,
        )
    )


def build(session: so.Session) -> ReportWorld:
    world = build_world(
        session,
        policy=None,
        customer={"full_name": "Chloe Martin"},
        service={"name": "Boiler service", "buffer_minutes": 30},
        agents=[{"full_name": "Ann Archer"}, {"full_name": "Bob Baker"}],
    )
    ann, bob = world.agents
    service_a, chloe = world.service, world.contact
    session.add(TimeOff(agent=bob, starts_at=at(4, 9), ends_at=at(4, 17), reason="Leave"))
    session.add(Holiday(day=date(2026, 11, 9), name="Staff day"))
    service_b = create_service(session, name="Leak repair")
    _user, _account, leo = create_customer(session, full_name="Leo Rossi")

    plan = {
        1: (ann, service_a, at(2, 9), "signed_off", chloe),
        2: (ann, service_a, at(3, 9), "completed", chloe),
        3: (bob, service_b, at(3, 13), "completed", chloe),
        4: (bob, service_b, at(5, 10), "cancelled", chloe),
        5: (ann, service_b, at(6, 10), "no_show", chloe),
        6: (bob, service_a, at(10, 9), "confirmed", chloe),
        7: (ann, service_b, at(11, 14), "requested", chloe),
        8: (ann, service_a, at(16, 9), "confirmed", chloe),
        9: (bob, service_b, at(30, 9, month=10), "signed_off", leo),
    }
    appointments = {}
    for number, (agent, service, start, status, contact) in plan.items():
        holds = () if status == "cancelled" else (agent,)
        appointment = create_appointment(
            session,
            start=start,
            contact=contact,
            service=service,
            agents=holds,
            status=status,
            created_at=start - timedelta(days=3),
        )
        task_status = {
            "signed_off": "done",
            "completed": "done",
            "cancelled": "cancelled",
        }.get(status, "assigned")
        create_task(
            session,
            work_order=appointment.work_order,
            agent=agent,
            appointment_id=appointment.id,
            status=task_status,
        )
        appointments[number] = appointment

    one, six = appointments[1], appointments[6]
    _status_entry(session, one, "confirmed", one.created_at + timedelta(hours=2))
    _status_entry(session, six, "confirmed", six.created_at + timedelta(hours=6))
    _status_entry(session, appointments[2], "completed", at(3, 11))  # not a confirmation
    _moved(session, six, at(5, 12))
    _moved(session, six, at(6, 12))
    _moved(session, appointments[7], at(6, 15))
    _moved(session, appointments[8], at(6, 16))  # outside the range: not counted
    session.add(
        SignOff(appointment_id=one.id, full_name="Chloe Martin", consent=True, signed_at=at(3, 10))
    )
    session.add(
        SignOff(
            appointment_id=appointments[9].id,
            full_name="=HYPERLINK(evil)",
            consent=True,
            signed_at=at(2, 8),
        )
    )
    session.flush()
    return ReportWorld(
        ann=ann,
        bob=bob,
        service_a_id=service_a.id,
        service_b_id=service_b.id,
        appointments=appointments,
    )
