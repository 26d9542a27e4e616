"""A case hands work to a back-office queue; the case closes when the work is done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import User
from portal.cases import watchers
from portal.cases.handoff import (
    add_work_note,
    cancel_work_order,
    complete_work_order,
    send_to_back_office,
    take_work_order,
    work_order_for_member,
)
from portal.cases.models import CaseWorkOrder
from portal.cases.queries import timeline_for_case
from portal.cases.services import close_case
from portal.errors import Conflict, Invalid, NotFound
from portal.notifications.models import Notification, OutboxMessage
from portal.workorders.models import TimelineEntry, WorkOrder
from tests.case_factories import create_backoffice_user, create_case, create_queue
from tests.factories import create_user


@pytest.fixture
def office(session, world):
    """A scheduler (the contact centre), a Finance queue with two members, and a case."""
    scheduler = create_user(session, role="scheduler", full_name="Sam Scheduler")
    fiona = create_backoffice_user(session, full_name="Fiona Finance")
    frank = create_backoffice_user(session, full_name="Frank Finance")
    finance = create_queue(session, name="Finance", members=[fiona, frank])
    case = create_case(session, world.contact, subject="Refund my deposit")
    return world.add(scheduler=scheduler, fiona=fiona, frank=frank, finance=finance, case=case)


def send(session, office, summary="Refund the deposit"):
    return send_to_back_office(
        session,
        office["case"],
        office["finance"],
        summary,
        "£50, card ending 4242",
        office["scheduler"],
    )


def test_sending_makes_a_case_work_order_with_a_task_in_the_queue(session, office):
    heard = []
    watchers.watch_case("test-handoff", lambda s, e: heard.append((e.kind, e.new)))
    try:
        work_order = send(session, office)
    finally:
        watchers._watchers.pop("test-handoff", None)
    assert work_order.owner_kind == "case" and work_order.status == "new"
    assert work_order.account_id == office["case"].account_id
    [task] = work_order.tasks
    assert task.queue_id == office["finance"].id and task.status == "open"
    assert task.title == "Refund the deposit"
    link = session.scalar(sa.select(CaseWorkOrder))
    assert (link.case_id, link.work_order_id) == (office["case"].id, work_order.id)
    assert heard == [("handed_off", str(work_order.id))]
    assert "handed_off" in [
        e.action for e in timeline_for_case(session, office["case"], include_internal=True)
    ]


def test_the_queue_members_are_told_of_the_hand_off(session, office, expand_events):
    work_order = send(session, office)
    expand_events()
    for person in (office["fiona"], office["frank"]):
        [notice] = session.scalars(
            sa.select(Notification).where(Notification.user_id == person.id)
        ).all()
        assert office["case"].number in notice.message
        assert notice.link == f"/back-office/work-orders/{work_order.id}"


def test_a_closed_case_cannot_hand_work_on(session, office):
    close_case(session, office["case"], office["scheduler"])
    with pytest.raises(Conflict, match="reopen it"):
        send(session, office)


def test_a_hand_off_needs_a_summary(session, office):
    with pytest.raises(Invalid, match="what the back office should do"):
        send(session, office, summary=" ")


def test_a_member_takes_the_work_and_it_is_in_progress(session, office):
    work_order = send(session, office)
    task = take_work_order(session, work_order, office["fiona"])
    assert task.user_id == office["fiona"].id and task.queue_id is None
    assert task.status == "in_progress" and work_order.status == "in_progress"


def test_work_taken_once_cannot_be_taken_again(session, office):
    work_order = send(session, office)
    take_work_order(session, work_order, office["fiona"])
    with pytest.raises(Conflict, match="taken this work already"):
        take_work_order(session, work_order, office["frank"])


def test_only_a_member_of_the_queue_may_take_it(session, office):
    work_order = send(session, office)
    outsider = create_backoffice_user(session)
    with pytest.raises(Conflict, match="Only a member of Finance"):
        take_work_order(session, work_order, outsider)


def test_back_office_work_orders_are_found_for_members_only(session, office):
    work_order = send(session, office)
    assert work_order_for_member(session, office["fiona"], work_order.id) is work_order
    for user in (create_backoffice_user(session), office["scheduler"]):
        with pytest.raises(NotFound):
            work_order_for_member(session, user, work_order.id)


def test_completing_untaken_work_is_refused(session, office):
    work_order = send(session, office)
    with pytest.raises(Conflict, match="Take this work"):
        complete_work_order(session, work_order, office["fiona"])


def test_a_work_note_is_written_on_the_work_order(session, office):
    work_order = send(session, office)
    add_work_note(session, work_order, "Called the bank.", office["fiona"])
    notes = session.scalars(
        sa.select(TimelineEntry.note).where(
            TimelineEntry.work_order_id == work_order.id, TimelineEntry.action == "work_note"
        )
    ).all()
    assert notes == ["Called the bank."]


def test_completing_the_last_work_closes_the_case_and_tells_owner_and_customer(
    session, office, expand_events
):
    case = office["case"]
    work_order = send(session, office)
    take_work_order(session, work_order, office["fiona"])
    complete_work_order(session, work_order, office["fiona"], "Refunded.")
    assert work_order.status == "completed"
    assert case.is_closed and case.status == "Closed"
    entries = timeline_for_case(session, case, include_internal=True)
    assert any(e.action == "work_note" and "Refunded." in e.note for e in entries)
    expand_events()
    mails = session.scalars(
        sa.select(OutboxMessage.subject).where(
            OutboxMessage.channel == "email", OutboxMessage.recipient == office.contact.email
        )
    ).all()
    assert f"Closed: case {case.number}, {case.subject}" in mails


def test_the_case_stays_open_while_other_work_is_open(session, office):
    first = send(session, office, "Refund")
    second = send(session, office, "Send a credit note")
    take_work_order(session, first, office["fiona"])
    complete_work_order(session, first, office["fiona"])
    assert not office["case"].is_closed
    cancel_work_order(session, second, office["scheduler"], "Not needed after all.")
    assert office["case"].is_closed


def test_cancelling_needs_a_reason(session, office):
    work_order = send(session, office)
    with pytest.raises(Invalid, match="Say why"):
        cancel_work_order(session, work_order, office["scheduler"], "")


def test_a_case_closed_by_hand_is_left_closed_when_work_completes(session, office):
    work_order = send(session, office)
    take_work_order(session, work_order, office["fiona"])
    close_case(session, office["case"], office["scheduler"], "Customer withdrew.")
    complete_work_order(session, work_order, office["fiona"])
    assert office["case"].is_closed


def test_two_members_taking_at_once_take_it_once(app, session, office):
    """Both read the task while it waited in the queue; the second one's conditional
    UPDATE finds it taken and refuses, though its own copy still said "in the queue".
    (PostgreSQL: SQLite lets one transaction at a time near the database, reads too.)"""
    engine = app.extensions["portal.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises transactions (BEGIN IMMEDIATE): no two readers")
    work_order_id = send(session, office).id
    fiona_id, frank_id = office["fiona"].id, office["frank"].id
    finance_id = office["finance"].id
    session.commit()
    with so.Session(engine) as first, so.Session(engine) as second:
        mine = first.get(WorkOrder, work_order_id)
        theirs = second.get(WorkOrder, work_order_id)
        assert [t.queue_id for t in theirs.tasks] == [finance_id]
        take_work_order(first, mine, first.get(User, fiona_id))
        first.commit()
        with pytest.raises(Conflict, match="took this task already"):
            take_work_order(second, theirs, second.get(User, frank_id))
    session.expire_all()
    [task] = session.get(WorkOrder, work_order_id).tasks
    assert task.user_id == fiona_id
