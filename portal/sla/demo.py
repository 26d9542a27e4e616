"""The back office in `make run`'s demo: two business calendars (the contact centre's, and
the back office's with a lunch break), the Finance and Orders queues with a member and a
lead each, an entitlement process for cases and one for back-office work, and cases in
every state, some warning and some violated.

Everything is made through the services people use (the settings' calendar, queue and
process services; the case services; the back office's take and complete), with the clock
set back to when each step happened, so the SLA clocks, timelines and notices are what
they would be had people done it. Business time is counted on the real calendars: a case
"at 85 % of its first-response target" is opened that much business time before now,
whichever day and hour the demo is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import Contact, User
from portal.calendars.business import Calendar, add_business_time, business_time_between
from portal.calendars.editing import add_holiday, create_calendar, set_week
from portal.calendars.models import BusinessCalendar
from portal.calendars.services import calendar_of
from portal.cases.comments import add_comment
from portal.cases.handoff import complete_work_order, send_to_back_office, take_work_order
from portal.cases.models import Case
from portal.cases.services import open_customer_case, set_priority, set_status
from portal.cases.types import SUPPORT, aging_queue, case_type, contact_centre_queue
from portal.queues.models import Queue
from portal.queues.services import add_member, create_queue, set_calendar, update_queue
from portal.sla.jobs import evaluate_due
from portal.sla.settings import (
    MilestoneData,
    ProcessData,
    add_action,
    add_milestone,
    create_process,
)
from portal.timeutil import freeze, frozen, now_utc

# The back office's demo log-ins (password "demo", like every demo log-in).
BACK_OFFICE = [
    ("finance@demo.test", "Farah Okafor", "Finance"),
    ("finance.lead@demo.test", "Felix Grant", "Finance"),
    ("orders@demo.test", "Olu Adebayo", "Orders"),
    ("orders.lead@demo.test", "Nora Lindqvist", "Orders"),
    # The aging rep (the Aging queue's lead, who gets the feed's aging tasks) and the
    # sales owner of the demo accounts, to whom the aging rep escalates (no queue).
    ("aging@demo.test", "Teri Collins", "Aging"),
    ("sales@demo.test", "Sofia Marsh", ""),
]
ZONE = "Europe/London"
WEEKDAYS = range(5)
# Closed days of both calendars, by (month, day): the demo's year and the next.
HOLIDAYS = [((12, 25), "Christmas Day"), ((12, 26), "Boxing Day"), ((1, 1), "New Year's Day")]


@dataclass
class BackOffice:
    """What the demo's cases are made with."""

    support_calendar: BusinessCalendar
    office_calendar: BusinessCalendar
    finance: Queue
    orders: Queue
    people: dict[str, User]


def load_back_office_demo(session: so.Session, make_user: Callable[..., User]) -> BackOffice:
    """Calendars, queues, processes and cases; `make_user(email, name, role)` makes a demo
    log-in. The cases' clocks are evaluated at the end, as the scheduler would."""
    now = now_utc()
    people = {email: make_user(email, name, "backoffice") for email, name, _ in BACK_OFFICE}
    support_calendar = _calendar(
        session, "Contact centre hours", {d: "08:00-18:00" for d in WEEKDAYS} | {5: "09:00-13:00"}
    )
    office_calendar = _calendar(
        session, "Back office hours", {d: "09:00-12:30, 13:30-17:30" for d in WEEKDAYS}
    )
    for calendar in (support_calendar, office_calendar):
        for year in (now.year, now.year + 1):
            for (month, day), name in HOLIDAYS:
                add_holiday(session, calendar, date(year, month, day), name)
    queues = {}
    for name, description in [
        ("Finance", "Refunds, invoices, payment plans and contract terms."),
        ("Orders", "Parts, replacement equipment and order changes."),
    ]:
        lead = people[f"{name.lower()}.lead@demo.test"]
        queue = create_queue(
            session,
            name=name,
            description=description,
            lead_id=lead.id,
            calendar_id=office_calendar.id,
        )
        for email, _, queue_name in BACK_OFFICE:
            if queue_name == name:
                add_member(session, queue, people[email])
        queues[name] = queue
    aging = aging_queue(session)
    update_queue(
        session,
        aging,
        name=aging.name,
        description=aging.description,
        lead_id=people["aging@demo.test"].id,
        calendar_id=office_calendar.id,
    )
    add_member(session, aging, people["aging@demo.test"])
    centre = contact_centre_queue(session)
    set_calendar(session, centre, support_calendar.id)
    scheduler = _user(session, "scheduler@demo.test")
    add_member(session, centre, scheduler)
    _processes(session, support_calendar)
    office = BackOffice(
        support_calendar, office_calendar, queues["Finance"], queues["Orders"], people
    )
    pinned = frozen()
    try:
        _cases(session, office, scheduler, now)
    finally:
        freeze(pinned)
    evaluate_due(session, now)
    return office


def _calendar(session: so.Session, name: str, week: dict[int, str]) -> BusinessCalendar:
    calendar = create_calendar(session, name, ZONE)
    session.flush()
    set_week(session, calendar, week)
    return calendar


def _processes(session: so.Session, support_calendar: BusinessCalendar) -> None:
    """Customer support: first response in 4 business hours at medium priority (1 h when
    urgent), resolution in 3 business days; back-office work: taken within 2 business
    hours, done within 2 business days, on the queue's calendar."""
    support = ProcessData(
        name="Customer support",
        applies_to="case",
        rank=10,
        active=True,
        calendar_id=support_calendar.id,
        case_type_id=case_type(session, SUPPORT).id,
    )
    internal = ProcessData(
        name="Back-office work", applies_to="work_order", rank=10, active=True, calendar_id=None
    )
    warn, miss = "warning", "violation"
    for data, milestones in [
        (
            support,
            [
                (
                    MilestoneData("first_response", "First response", 480, 240, 120, 60),
                    [(warn, "notify_owner", ""), (miss, "notify_managers", "")],
                ),
                (
                    MilestoneData("resolution", "Resolution", 2400, 1800, 960, 480),
                    [
                        (warn, "notify_owner", ""),
                        (miss, "notify_managers", ""),
                        (miss, "set_priority", "urgent"),
                    ],
                ),
            ],
        ),
        (
            internal,
            [
                (
                    MilestoneData("first_response", "Taken", 240, 120, 60, 30),
                    [(warn, "notify_owner", "")],
                ),
                (
                    MilestoneData("resolution", "Done", 1440, 960, 480, 240),
                    [(warn, "notify_owner", ""), (miss, "notify_lead", "")],
                ),
            ],
        ),
    ]:
        process = create_process(session, data)
        session.flush()
        for milestone, actions in milestones:
            definition = add_milestone(session, process, milestone)
            session.flush()
            for trigger, action, value in actions:
                add_action(session, definition, trigger=trigger, action=action, value=value)


def _cases(session: so.Session, office: BackOffice, scheduler: User, now: datetime) -> None:
    support = calendar_of(office.support_calendar)
    back_office = calendar_of(office.office_calendar)

    def business_ago(minutes: float, calendar=support) -> datetime:
        """The latest instant with `minutes` of business time between it and now."""
        return _business_before(calendar, now, timedelta(minutes=minutes))

    contacts = {c.email: c for c in session.scalars(sa.select(Contact))}
    chloe = contacts["customer@demo.test"]
    oliver = contacts["oliver@demo.test"]
    grace = contacts["grace@demo.test"]
    ana = contacts["ana@demo.test"]
    leo = contacts["leo@demo.test"]
    finance, orders = office.finance, office.orders
    farah = office.people["finance@demo.test"]
    olu = office.people["orders@demo.test"]

    # Closed: Finance refunded a double charge; both milestones met.
    start = business_ago(60 * 30)
    case = _open(session, chloe, "Charged twice for the boiler service", start, "high")
    _at(start + timedelta(minutes=40))
    add_comment(
        session,
        case,
        "Sorry about that: Finance will refund the second charge.",
        visibility="customer",
        by=scheduler,
    )
    work = send_to_back_office(
        session,
        case,
        finance,
        "Refund the duplicate charge",
        "Card payment taken twice on the same day.",
        scheduler,
    )
    _at(_after(back_office, start, 90))
    take_work_order(session, work, farah)
    _at(_after(back_office, start, 300))
    complete_work_order(session, work, farah, "Refunded; the customer sees it in 3-5 days.")

    # Waiting on the customer: the clock is paused.
    start = business_ago(200)
    case = _open(session, oliver, "Invoice address is wrong", start, "medium")
    _at(start + timedelta(minutes=30))
    add_comment(
        session,
        case,
        "Which address should the invoice carry? Please send it with the VAT number.",
        visibility="customer",
        by=scheduler,
    )
    set_status(session, case, "Waiting on customer", scheduler)

    # In Finance's queue, not taken yet: the internal "Taken" clock is running.
    start = business_ago(150)
    case = _open(session, grace, "Payment plan for the new system", start, "medium")
    _at(start + timedelta(minutes=20))
    add_comment(
        session,
        case,
        "We can spread it over 12 months: Finance will set it up.",
        visibility="customer",
        by=scheduler,
    )
    set_status(session, case, "In progress", scheduler)
    _at(start + timedelta(minutes=25))
    send_to_back_office(
        session,
        case,
        finance,
        "Set up a 12-month payment plan",
        "Agreed with the customer by phone.",
        scheduler,
    )

    # Orders has it in hand.
    start = business_ago(400)
    case = _open(session, leo, "Replacement router still not delivered", start, "high")
    _at(start + timedelta(minutes=15))
    add_comment(
        session, case, "Orders is chasing the courier now.", visibility="customer", by=scheduler
    )
    set_status(session, case, "In progress", scheduler)
    work = send_to_back_office(
        session,
        case,
        orders,
        "Chase or reship the replacement router",
        "Ordered 10 days ago, tracking stalled.",
        scheduler,
    )
    _at(start + timedelta(minutes=45))
    take_work_order(session, work, olu)

    # A warning: first response at 85 % of its target, nobody has answered.
    _open(session, ana, "Question about my warranty", business_ago(0.85 * 240), "medium")

    # Violated: no answer for days, well past both targets.
    _open(session, chloe, "Engineer left the radiator leaking", business_ago(60 * 35), "urgent")

    # New, a moment ago.
    _open(session, oliver, "Can we move the annual service to spring?", business_ago(10), "low")

    # Priority raised after opening: the targets follow from the log.
    start = business_ago(90)
    case = _open(session, grace, "Door access system keeps rebooting", start, "low")
    _at(start + timedelta(minutes=30))
    set_priority(session, case, "urgent", scheduler)


def _open(session: so.Session, contact: Contact, subject: str, at: datetime, priority: str) -> Case:
    """A case the customer opened in the portal at `at`."""
    _at(at)
    return open_customer_case(
        session,
        contact.user,
        subject=subject,
        description=f"{subject}. Please get back to me.",
        priority=priority,
    )


def _at(moment: datetime) -> None:
    """Set the clock to when the next step happened. Each step comes minutes after a case
    opened at least that much business time (so at least that much wall-clock time) ago:
    all of them are in the past."""
    freeze(moment)


def _after(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def _business_before(calendar: Calendar, end: datetime, amount: timedelta) -> datetime:
    """The latest instant `s` with business_time_between(s, end) >= amount (bisection
    over the last 60 days: the business time between is monotone in `s`)."""
    low, high = end - timedelta(days=60), end
    for _ in range(40):
        middle = low + (high - low) / 2
        if business_time_between(calendar, middle, end) >= amount:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0)


def _user(session: so.Session, email: str) -> User:
    return session.scalars(sa.select(User).where(User.email == email)).one()
