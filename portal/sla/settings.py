"""Editing entitlement processes, their milestones and the actions those run.

Managers keep this data; the SLA services read it when a case (or a back-office work
order) starts its clocks. A change here applies to clocks started afterwards: a running
milestone keeps the target its start event recorded (the log is the truth, portal/sla/
models.py), so editing a process never moves a deadline a customer was already given.

Targets are business minutes; managers type them as "8 h", "1 h 30 min", "1:30" or "90".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import CustomerAccount
from portal.audit.services import record_change, record_saved, register_entity, snapshot
from portal.calendars.editing import format_minutes
from portal.calendars.models import BusinessCalendar
from portal.cases.models import PRIORITIES, CaseStatus, CaseType
from portal.errors import Invalid
from portal.queues.models import Queue
from portal.sla.models import (
    ACTIONS,
    APPLIES_TO,
    MILESTONE_KINDS,
    TRIGGERS,
    EntitlementProcess,
    Milestone,
    MilestoneAction,
    MilestoneDefinition,
)

MAX_NAME = 80
MAX_RANK = 10_000
# A target of more than a year of round-the-clock minutes is a typing mistake.
MAX_TARGET = 366 * 24 * 60
OPEN_STATES = ("pending", "warning", "violated")

APPLIES_LABELS = {"case": "Cases", "work_order": "Back-office work orders"}
KIND_LABELS = {"first_response": "First response", "resolution": "Resolution"}
TRIGGER_LABELS = {"warning": "On warning", "violation": "On violation", "success": "On success"}
ACTION_LABELS = {
    "notify_owner": "Notify the owner",
    "notify_lead": "Notify the queue lead",
    "notify_managers": "Notify the managers",
    "set_priority": "Set the priority",
    "set_status": "Set the status",
    "email_contact": "E-mail the contact",
}
# Setting a field, and e-mailing the contact, act on the case; on a back-office work
# order's milestone, on the case that handed the work out (portal/sla/actions.py).
VALUE_ACTIONS = ("set_priority", "set_status")

register_entity("entitlement_processes", "entitlement_process")
register_entity(
    "milestone_definitions",
    "milestone_definition",
    label=lambda d: f"{d.name} of {d.process.name}",
)


# --- targets as people type them ---------------------------------------------------------

# No days: a business day is whatever the calendar makes it, so "2 days" would mislead.
_UNITS = re.compile(r"(\d+(?:[.,]\d+)?)\s*(h|hrs?|hours?|m|mins?|minutes?)\b")


def parse_minutes(text: str, what: str = "the target", field: str | None = None) -> int:
    """Whole minutes from "90", "90 min", "8 h", "1 h 30 min", "1h30", "1:30" or "1.5 h"."""
    raw = (text or "").strip().lower()
    if not raw:
        raise Invalid(f"Enter {what}, like 8 h or 90 min.", field=field)
    minutes: float | None = None
    if re.fullmatch(r"\d+", raw):
        minutes = int(raw)
    elif match := re.fullmatch(r"(\d+)(?::([0-5]\d)|\s*h\s*([0-5]?\d))", raw):
        minutes = int(match.group(1)) * 60 + int(match.group(2) or match.group(3))
    else:
        rest = _UNITS.sub("", raw).strip()
        parts = _UNITS.findall(raw)
        if parts and not rest:
            minutes = 0
            for number, unit in parts:
                scale = 60 if unit.startswith("h") else 1
                minutes += float(number.replace(",", ".")) * scale
    if minutes is None:
        raise Invalid(
            f"“{text.strip()}” is not a length of time: write 8 h, 1 h 30 min, 1:30 or 90.",
            field=field,
        )
    if minutes != int(minutes):
        raise Invalid(f"Give {what} in whole minutes.", field=field)
    if not 1 <= minutes <= MAX_TARGET:
        raise Invalid(f"Give {what} between 1 min and {format_minutes(MAX_TARGET)}.", field=field)
    return int(minutes)


# --- processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessData:
    """What a manager sets on a process (None conditions match anything)."""

    name: str
    applies_to: str
    rank: int
    active: bool
    calendar_id: int | None
    case_type_id: int | None = None
    priority: str | None = None
    account_id: int | None = None
    queue_id: int | None = None


PROCESS_FIELDS = (
    "name",
    "applies_to",
    "rank",
    "active",
    "calendar_id",
    "case_type_id",
    "priority",
    "account_id",
    "queue_id",
)


def _process_state(process: EntitlementProcess) -> dict:
    return snapshot(process, *PROCESS_FIELDS)


def list_processes(session: so.Session) -> list[EntitlementProcess]:
    """Every process in the order the rules try them: cases first, then by rank."""
    return list(
        session.scalars(
            sa.select(EntitlementProcess)
            .options(
                so.selectinload(EntitlementProcess.definitions).selectinload(
                    MilestoneDefinition.actions
                ),
                so.selectinload(EntitlementProcess.calendar),
            )
            .order_by(
                EntitlementProcess.applies_to,
                EntitlementProcess.rank,
                EntitlementProcess.name,
            )
        )
    )


def _exists(session: so.Session, model, record_id: int | None, field: str, what: str) -> None:
    if record_id is not None and session.get(model, record_id) is None:
        raise Invalid(f"That {what} no longer exists: pick another.", field=field)


def _check_process(
    session: so.Session, data: ProcessData, process: EntitlementProcess | None
) -> ProcessData:
    name = " ".join((data.name or "").split())
    if not name:
        raise Invalid("Enter a name.", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"Keep the name to {MAX_NAME} characters.", field="name")
    taken = session.scalar(
        sa.select(EntitlementProcess.id).where(
            sa.func.lower(EntitlementProcess.name) == name.lower()
        )
    )
    if taken is not None and (process is None or taken != process.id):
        raise Invalid(f"There is already a process called {name}.", field="name")
    if data.applies_to not in APPLIES_TO:
        raise Invalid("Choose what the process applies to.", field="applies_to")
    if not 0 <= data.rank <= MAX_RANK:
        raise Invalid(f"Give a rank from 0 to {MAX_RANK}.", field="rank")
    if data.priority is not None and data.priority not in PRIORITIES:
        raise Invalid("Choose a priority from the list.", field="priority")
    if data.calendar_id is None and data.applies_to == "case":
        raise Invalid(
            "Choose the business hours a case's clocks count (only a work-order process "
            "can leave it to the queue's calendar).",
            field="calendar_id",
        )
    if data.queue_id is not None and data.applies_to == "case":
        # The rules match a case's process on type, priority and account (portal/sla/
        # lifecycle.py choose_process): a queue condition would never hold.
        raise Invalid(
            "Only back-office work orders wait in a queue: leave the queue as any for a "
            "case process.",
            field="queue_id",
        )
    _exists(session, BusinessCalendar, data.calendar_id, "calendar_id", "calendar")
    calendar = session.get(BusinessCalendar, data.calendar_id) if data.calendar_id else None
    if calendar is not None and not calendar.hours:
        # Time cannot be added on a calendar that is never open: the clocks would stop.
        raise Invalid(
            f"{calendar.name} has no hours yet: give it its week first.", field="calendar_id"
        )
    _exists(session, CaseType, data.case_type_id, "case_type_id", "case type")
    _exists(session, Queue, data.queue_id, "queue_id", "queue")
    if data.account_id is not None and session.get(CustomerAccount, data.account_id) is None:
        raise Invalid(f"There is no account number {data.account_id}.", field="account_id")
    return ProcessData(**{**data.__dict__, "name": name})


def create_process(session: so.Session, data: ProcessData, *, by=None) -> EntitlementProcess:
    """A new process, with no milestones yet."""
    data = _check_process(session, data, None)
    process = EntitlementProcess(**data.__dict__)
    session.add(process)
    return record_saved(session, by, "create", process, None, _process_state)


def update_process(
    session: so.Session, process: EntitlementProcess, data: ProcessData, *, by=None
) -> EntitlementProcess:
    """Change a process; clocks already running keep the targets they started with."""
    data = _check_process(session, data, process)
    before = _process_state(process)
    for name in PROCESS_FIELDS:
        setattr(process, name, getattr(data, name))
    return record_saved(session, by, "update", process, before, _process_state)


def delete_process(session: so.Session, process: EntitlementProcess, *, by=None) -> None:
    """Delete a process and its milestone definitions; running milestones keep their own
    copy of name, target and calendar and finish as they started."""
    record_change(session, by, "delete", process, _process_state(process), None)
    session.delete(process)
    session.flush()


def running_milestones(session: so.Session, process: EntitlementProcess) -> int:
    """How many milestones started under this process are still running."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Milestone)
        .join(MilestoneDefinition, Milestone.definition_id == MilestoneDefinition.id)
        .where(MilestoneDefinition.process_id == process.id, Milestone.state.in_(OPEN_STATES))
    )


def conditions_text(process: EntitlementProcess, names: dict) -> str:
    """The conditions in a sentence: "High priority · Customer support", or "Any"."""
    parts = []
    if process.case_type_id is not None:
        parts.append(names["case_types"].get(process.case_type_id, "a removed case type"))
    if process.priority is not None:
        parts.append(f"{process.priority.capitalize()} priority")
    if process.account_id is not None:
        parts.append(f"account {process.account_id}")
    if process.queue_id is not None:
        parts.append(f"queue {names['queues'].get(process.queue_id, '(removed)')}")
    return " · ".join(parts) or "Any"


def choice_names(session: so.Session) -> dict:
    """Names of what the conditions point to, for the lists."""
    return {
        "case_types": dict(session.execute(sa.select(CaseType.id, CaseType.name)).all()),
        "queues": dict(session.execute(sa.select(Queue.id, Queue.name)).all()),
        "calendars": dict(
            session.execute(sa.select(BusinessCalendar.id, BusinessCalendar.name)).all()
        ),
    }


# --- milestones --------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneData:
    kind: str
    name: str
    target_low: int
    target_medium: int
    target_high: int
    target_urgent: int
    warn_percent: int = 75


MILESTONE_FIELDS = (
    "kind",
    "name",
    "target_low",
    "target_medium",
    "target_high",
    "target_urgent",
    "warn_percent",
)


def _milestone_state(definition: MilestoneDefinition) -> dict:
    return snapshot(definition, *MILESTONE_FIELDS)


def _check_milestone(
    process: EntitlementProcess, data: MilestoneData, definition: MilestoneDefinition | None
) -> MilestoneData:
    if data.kind not in MILESTONE_KINDS:
        raise Invalid("Choose first response or resolution.", field="kind")
    twin = next((d for d in process.definitions if d.kind == data.kind), None)
    if twin is not None and twin is not definition:
        raise Invalid(
            f"{process.name} already has a {KIND_LABELS[data.kind].lower()} milestone: "
            "edit that one.",
            field="kind",
        )
    name = " ".join((data.name or "").split()) or KIND_LABELS[data.kind]
    if len(name) > MAX_NAME:
        raise Invalid(f"Keep the name to {MAX_NAME} characters.", field="name")
    for priority in PRIORITIES:
        minutes = getattr(data, f"target_{priority}")
        if not 1 <= minutes <= MAX_TARGET:
            raise Invalid(
                f"Give the {priority} target between 1 min and {format_minutes(MAX_TARGET)}.",
                field=f"target_{priority}",
            )
    if not 1 <= data.warn_percent <= 99:
        raise Invalid("Give the warning share from 1 to 99 per cent.", field="warn_percent")
    return MilestoneData(**{**data.__dict__, "name": name})


def add_milestone(
    session: so.Session, process: EntitlementProcess, data: MilestoneData, *, by=None
) -> MilestoneDefinition:
    """A first-response or resolution milestone (one of each per process)."""
    data = _check_milestone(process, data, None)
    definition = MilestoneDefinition(**data.__dict__)
    process.definitions.append(definition)
    return record_saved(session, by, "create", definition, None, _milestone_state)


def update_milestone(
    session: so.Session, definition: MilestoneDefinition, data: MilestoneData, *, by=None
) -> MilestoneDefinition:
    """New targets apply to clocks started from now on."""
    data = _check_milestone(definition.process, data, definition)
    before = _milestone_state(definition)
    for name in MILESTONE_FIELDS:
        setattr(definition, name, getattr(data, name))
    return record_saved(session, by, "update", definition, before, _milestone_state)


def remove_milestone(session: so.Session, definition: MilestoneDefinition, *, by=None) -> None:
    """Take a milestone off its process (with its actions)."""
    record_change(session, by, "delete", definition, _milestone_state(definition), None)
    definition.process.definitions.remove(definition)
    session.flush()


def targets_text(definition: MilestoneDefinition) -> list[tuple[str, str]]:
    """[("Low", "16 h"), ...]: each priority's target the way people say it."""
    return [(p.capitalize(), format_minutes(definition.target_for(p))) for p in PRIORITIES]


# --- actions -----------------------------------------------------------------------------


def status_names(session: so.Session, process: EntitlementProcess) -> list[str]:
    """The statuses a "set status" action may choose: the process's case type's, or
    those of every type when it matches any."""
    query = sa.select(CaseStatus.name).join(CaseType).order_by(CaseType.name, CaseStatus.position)
    if process.case_type_id is not None:
        query = query.where(CaseStatus.case_type_id == process.case_type_id)
    return list(dict.fromkeys(session.scalars(query)))


def add_action(
    session: so.Session,
    definition: MilestoneDefinition,
    *,
    trigger: str,
    action: str,
    value: str = "",
    outside_hours: bool = False,
    by=None,
) -> MilestoneAction:
    """An action the milestone runs once when it warns, is violated or succeeds."""
    process = definition.process
    if trigger not in TRIGGERS:
        raise Invalid("Choose when the action runs.", field="trigger")
    if action not in ACTIONS:
        raise Invalid("Choose an action from the list.", field="action")
    value = (value or "").strip()
    if action == "set_priority" and value not in PRIORITIES:
        raise Invalid("Choose the priority to set.", field="value")
    if action == "set_status" and value not in status_names(session, process):
        raise Invalid(
            "Choose the status to set"
            + (" (one of the process's case type)." if process.case_type_id else "."),
            field="value",
        )
    if action not in VALUE_ACTIONS:
        value = ""  # only a field to set takes a value; ignore one left chosen
    if any(
        a.trigger == trigger and a.action == action and a.value == value for a in definition.actions
    ):
        raise Invalid(
            f"{definition.name} already does that {TRIGGER_LABELS[trigger].lower()}.",
            field="action",
        )
    run = MilestoneAction(trigger=trigger, action=action, value=value, outside_hours=outside_hours)
    definition.actions.append(run)
    session.flush()
    record_change(session, by, "update", definition, None, {"action added": action_text(run)})
    return run


def remove_action(session: so.Session, action: MilestoneAction, *, by=None) -> None:
    """Take an action off its milestone."""
    definition = action.definition
    record_change(session, by, "update", definition, {"action removed": action_text(action)}, None)
    definition.actions.remove(action)
    session.flush()


def action_text(action: MilestoneAction) -> str:
    """ "On violation: set the priority to urgent (also outside business hours)"."""
    what = ACTION_LABELS.get(action.action, action.action)
    if action.action == "set_priority":
        what += f" to {action.value}"
    elif action.action == "set_status":
        what += f" to “{action.value}”"
    text = f"{TRIGGER_LABELS.get(action.trigger, action.trigger)}: {what[0].lower()}{what[1:]}"
    if action.outside_hours:
        text += " (also outside business hours)"
    return text
