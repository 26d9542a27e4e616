"""Staff: window suggestions for a move, assigning a task, the work orders and their
timelines."""

from __future__ import annotations

from portal.accounts.models import User
from portal.api.registry import ID, operation
from portal.api.routes.common import load_appointment, org_zone
from portal.api.schemas import (
    AssignIn,
    SuggestionList,
    SuggestionOut,
    SuggestionsQuery,
    Timeline,
    TimelineEntryOut,
    WorkOrderPage,
    WorkOrdersQuery,
    page_out,
    window_out,
)
from portal.booking import states, steps
from portal.booking.shapes import TaskOut, read_off, task_out, work_order_out
from portal.booking.suggestions import preferences_of, suggest_windows
from portal.booking.windows import location_zone
from portal.db import commit, get_session
from portal.dispatch import services as dispatch_services
from portal.errors import NotFound
from portal.staff.queries import list_work_orders as query_work_orders
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrder, WorkOrderTask
from portal.workorders.services import timeline_for_work_order

SCHEDULER = ("scheduler",)


@operation(
    "GET",
    f"/appointments/<{ID}:appointment_id>/suggestions",
    summary="Suggested windows for a move (staff)",
    tag="staff",
    response=SuggestionList,
    roles=("agent",),
    query=SuggestionsQuery,
    errors=(409,),
)
def suggestions(user: User, appointment_id: int, query: SuggestionsQuery) -> SuggestionList:
    """Free windows to move the appointment to, best first, ranked for the customer's
    stated preferences and the agents, each with its reasons. Schedulers, and the agent
    assigned to the appointment."""
    appointment = load_appointment(user, appointment_id)
    block = states.staff_block(appointment.status, "moved")
    if block:
        raise steps.IllegalTransition(block)
    zone = location_zone(appointment.location)
    found = suggest_windows(
        get_session(),
        appointment,
        preferences_of(appointment),
        now=now_utc(),
        days=query.days,
        limit=query.limit,
        org_zone=org_zone(),
    )
    return SuggestionList(
        appointment_id=appointment.id,
        items=[read_off(SuggestionOut, s, window=window_out(s.window, zone)) for s in found],
    )


@operation(
    "POST",
    f"/tasks/<{ID}:task_id>/assign",
    summary="Assign a task to another agent (scheduler)",
    tag="staff",
    response=TaskOut,
    roles=SCHEDULER,
    body=AssignIn,
    errors=(409,),
)
def assign(user: User, task_id: int, body: AssignIn) -> TaskOut:
    """Hand an agent's task (and its hold) to another agent at the same time; refused
    (409) when that agent is not free. Answers with the new task."""
    session = get_session()
    task = session.get(WorkOrderTask, task_id)
    if task is None:
        raise NotFound("There is no such task.")
    new_task = dispatch_services.reassign_task(session, task, body.agent_id, user, note=body.note)
    commit()
    return task_out(new_task)


@operation(
    "GET",
    "/work-orders",
    summary="List work orders (scheduler)",
    tag="staff",
    response=WorkOrderPage,
    roles=SCHEDULER,
    query=WorkOrdersQuery,
)
def list_work_orders(user: User, query: WorkOrdersQuery) -> WorkOrderPage:
    """Work orders, newest first, optionally of one status."""
    found = query_work_orders(
        get_session(), status=query.status, page=query.page, per_page=query.per_page
    )
    return page_out(WorkOrderPage, found, work_order_out)


@operation(
    "GET",
    f"/work-orders/<{ID}:work_order_id>/timeline",
    summary="A work order's timeline (scheduler)",
    tag="staff",
    response=Timeline,
    roles=SCHEDULER,
)
def timeline(user: User, work_order_id: int) -> Timeline:
    """Every change to the work order, its tasks and appointments: who, when, old and new
    value, internal entries included."""
    session = get_session()
    work_order = session.get(WorkOrder, work_order_id)
    if work_order is None:
        raise NotFound("There is no such work order.")
    entries = timeline_for_work_order(session, work_order, include_internal=True)
    return Timeline(
        work_order_id=work_order.id,
        items=[
            read_off(TimelineEntryOut, e, actor_name=e.actor.full_name if e.actor else None)
            for e in entries
        ],
    )
