"""Case services without HTTP: types, opening, owners, statuses, comments, notices."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.cases import watchers
from portal.cases.comments import add_comment
from portal.cases.models import Case
from portal.cases.queries import (
    case_for_customer,
    case_for_team,
    list_cases_for_customer,
    list_cases_for_team,
    timeline_for_case,
)
from portal.cases.services import assign_case, close_case, open_case, set_priority, set_status
from portal.cases.types import case_type, contact_centre_queue
from portal.errors import Conflict, Invalid, NotFound
from portal.notifications.models import Notification, OutboxMessage
from portal.queues.models import QueueMember
from tests.case_factories import create_backoffice_user, create_case, create_queue
from tests.factories import NOW, create_customer, create_user


@pytest.fixture
def heard():
    """The case events the watchers hear, in order, as (kind, old, new, meaning)."""
    seen: list[tuple] = []
    watchers.watch_case("test-heard", lambda s, e: seen.append((e.kind, e.old, e.new, e.meaning)))
    yield seen
    watchers._watchers.pop("test-heard", None)


@pytest.fixture
def scheduler(session):
    return create_user(session, role="scheduler", full_name="Sam Scheduler")


def test_built_in_types_are_made_on_first_use_with_their_statuses(session):
    support = case_type(session, "support")
    aging = case_type(session, "aging")
    assert [(s.name, s.meaning) for s in support.statuses] == [
        ("New", "open"),
        ("In progress", "open"),
        ("Waiting on customer", "waiting"),
        ("Closed", "closed"),
    ]
    assert [o.name for o in support.origins] == ["Portal", "Phone", "E-mail"]
    assert "Auto Closure - Aging Days Under 5" in [s.name for s in aging.statuses]
    assert [o.name for o in aging.origins] == ["Aging Case Import"]
    assert case_type(session, "support").id == support.id


def test_an_unknown_case_type_is_refused(session, world):
    with pytest.raises(Invalid, match="no case type"):
        create_case(session, world.contact, case_type="nonsense")


def test_a_new_portal_case_belongs_to_the_contact_centre(session, world, heard):
    case = create_case(session, world.contact, subject="  Boiler   noise ")
    assert case.number == f"CS-{case.id:06d}"
    assert case.subject == "Boiler noise"
    assert case.status == "New" and not case.is_closed
    assert case.owner_queue == contact_centre_queue(session)
    assert case.created_at == NOW
    assert heard == [("created", None, "New", "open")]
    [entry] = timeline_for_case(session, case, include_internal=False)
    assert entry.action == "created"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subject": "  "}, "Write a subject"),
        ({"priority": "whenever"}, "Choose a priority"),
        ({"origin": "Carrier pigeon"}, "Choose where the case came from"),
    ],
)
def test_bad_input_to_open_case_is_refused_with_a_message(session, world, change, message):
    with pytest.raises(Invalid, match=message):
        create_case(session, world.contact, **change)
    assert session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_contact_of_another_account_is_refused(session, world):
    _, other_account, _ = create_customer(session)
    with pytest.raises(Invalid, match="not a person at this account"):
        open_case(
            session,
            account=other_account,
            contact=world.contact,
            subject="x",
            origin="Phone",
            by=None,
        )


def test_assigning_to_a_person_tells_the_watchers_and_the_new_owner(
    session, world, scheduler, heard, expand_events
):
    case = create_case(session, world.contact)
    agent_user = world.agent.user
    assign_case(session, case, user=agent_user, by=scheduler)
    assert case.owner_user_id == agent_user.id and case.owner_queue_id is None
    assert heard[-1][0] == "owner" and heard[-1][2] == f"user:{agent_user.id}"
    expand_events()
    notices = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == agent_user.id)
    ).all()
    assert any("is yours now" in n for n in notices)


def test_a_customer_cannot_own_a_case(session, world, scheduler):
    case = create_case(session, world.contact)
    with pytest.raises(Invalid, match="member of staff"):
        assign_case(session, case, user=world.customer, by=scheduler)


def test_waiting_on_the_customer_then_closing_and_reopening(session, world, scheduler, heard):
    case = create_case(session, world.contact)
    set_status(session, case, "Waiting on customer", scheduler)
    close_case(session, case, scheduler, "Sorted on the phone.")
    assert case.is_closed and case.closed_at == NOW and case.status == "Closed"
    set_status(session, case, "In progress", scheduler)
    assert not case.is_closed and case.closed_at is None
    assert [h[0] for h in heard] == ["created", "status", "closed", "reopened"]
    assert heard[1][3] == "waiting"


def test_a_status_the_type_does_not_have_is_refused(session, world, scheduler):
    case = create_case(session, world.contact)
    with pytest.raises(Invalid, match="no status 'Auto Closure"):
        set_status(session, case, "Auto Closure - Aging Days Under 5", scheduler)


def test_closing_a_closed_case_is_refused(session, world, scheduler):
    case = create_case(session, world.contact)
    close_case(session, case, scheduler)
    with pytest.raises(Conflict, match="closed already"):
        close_case(session, case, scheduler)


def test_close_case_refuses_a_status_that_does_not_close(session, world, scheduler):
    case = create_case(session, world.contact)
    with pytest.raises(Invalid, match="does not close"):
        close_case(session, case, scheduler, status="In progress")


def test_priority_change_is_told_and_written(session, world, scheduler, heard):
    case = create_case(session, world.contact)
    set_priority(session, case, "urgent", scheduler)
    assert heard[-1] == ("priority", "medium", "urgent", None)
    [entry] = [
        e for e in timeline_for_case(session, case, include_internal=True) if e.action == "priority"
    ]
    assert entry.visibility == "internal"


def test_the_first_customer_visible_reply_by_staff_is_the_first_response(
    session, world, scheduler, heard
):
    case = create_case(session, world.contact)
    add_comment(session, case, "Checking our notes.", visibility="internal", by=scheduler)
    assert case.first_response_at is None
    add_comment(session, case, "We are on it.", visibility="customer", by=scheduler)
    assert case.first_response_at == NOW
    add_comment(session, case, "Still on it.", visibility="customer", by=scheduler)
    assert [h[0] for h in heard].count("responded") == 1


def test_a_customer_comment_on_a_waiting_case_puts_it_back_in_progress(session, world, scheduler):
    case = create_case(session, world.contact)
    set_status(session, case, "Waiting on customer", scheduler)
    entry = add_comment(
        session, case, "Here is the photo.", visibility="internal", by=world.customer
    )
    assert entry.visibility == "customer"  # a customer's comment is always visible
    assert case.status == "In progress"


def test_a_customer_cannot_comment_on_a_closed_case(session, world, scheduler):
    case = create_case(session, world.contact)
    close_case(session, case, scheduler)
    with pytest.raises(Conflict, match="Open a new case"):
        add_comment(session, case, "Hello?", visibility="customer", by=world.customer)


def test_an_empty_comment_is_refused(session, world, scheduler):
    case = create_case(session, world.contact)
    with pytest.raises(Invalid, match="Write a comment"):
        add_comment(session, case, "   ", visibility="customer", by=scheduler)


def test_the_customer_sees_only_customer_visible_entries(session, world, scheduler):
    case = create_case(session, world.contact)
    add_comment(session, case, "Secret note", visibility="internal", by=scheduler)
    add_comment(session, case, "Public reply", visibility="customer", by=scheduler)
    notes = [e.note for e in timeline_for_case(session, case, include_internal=False)]
    assert "Public reply" in notes and "Secret note" not in notes


def test_staff_replies_are_e_mailed_to_the_contact_and_noted_for_its_user(
    session, world, scheduler, expand_events
):
    case = create_case(session, world.contact)
    add_comment(session, case, "A technician will call.", visibility="customer", by=scheduler)
    add_comment(session, case, "Internal only", visibility="internal", by=scheduler)
    expand_events()
    mails = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "email", OutboxMessage.recipient == world.contact.email)
        .order_by(OutboxMessage.id)
    ).all()
    assert [m.subject for m in mails] == [
        f"We received your request: case {case.number}",
        f"New reply on case {case.number}: {case.subject}",
    ]
    assert "A technician will call." in mails[1].body_text
    assert f"/support/{case.id}" in mails[1].body_text
    assert not any("Internal only" in m.body_text for m in mails)
    notices = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == world.customer.id)
    ).all()
    assert notices == [f"New reply on case {case.number}: A technician will call."]


def test_a_customer_who_turned_e_mails_off_gets_only_the_notice(
    session, world, scheduler, expand_events
):
    world.customer.email_notifications = False
    case = create_case(session, world.contact)
    set_status(session, case, "Waiting on customer", scheduler)
    expand_events()
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == "email")
        )
        == 0
    )
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == world.customer.id)
        )
        == 1
    )


def test_a_new_case_is_noted_for_the_contact_centre_members(
    session, world, scheduler, expand_events
):
    queue = contact_centre_queue(session)
    session.add(QueueMember(queue_id=queue.id, user_id=scheduler.id))
    case = create_case(session, world.contact)
    expand_events()
    notices = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == scheduler.id)
    ).all()
    assert notices == [f"New case {case.number}: {case.subject}"]


# -- who sees which case -------------------------------------------------------------


def test_a_customer_of_another_account_gets_not_found(session, world):
    case = create_case(session, world.contact)
    other, _, _ = create_customer(session)
    assert case_for_customer(session, world.customer, case.id) is case
    with pytest.raises(NotFound):
        case_for_customer(session, other, case.id)


def test_staff_on_the_ladder_see_every_case(session, world, scheduler):
    case = create_case(session, world.contact)
    assert case_for_team(session, scheduler, case.id) is case
    assert case_for_team(session, world.agent.user, case.id) is case


def test_back_office_sees_only_cases_of_its_queues_or_its_own(session, world, scheduler):
    finance_person = create_backoffice_user(session)
    outsider = create_backoffice_user(session)
    finance = create_queue(session, members=[finance_person])
    theirs = create_case(session, world.contact, owner_queue=finance)
    mine = create_case(session, world.contact, owner_user=finance_person)
    elsewhere = create_case(session, world.contact)
    assert case_for_team(session, finance_person, theirs.id) is theirs
    assert case_for_team(session, finance_person, mine.id) is mine
    for user, case in [(finance_person, elsewhere), (outsider, theirs)]:
        with pytest.raises(NotFound):
            case_for_team(session, user, case.id)
    page = list_cases_for_team(session, finance_person)
    assert {c.id for c in page.items} == {theirs.id, mine.id}


def test_team_list_filters_by_state_owner_and_search(session, world, scheduler):
    a = create_case(session, world.contact, subject="Invoice wrong")
    b = create_case(session, world.contact, subject="Boiler noise", owner_user=scheduler)
    set_status(session, b, "Waiting on customer", scheduler)
    c = create_case(session, world.contact, subject="Old thing")
    close_case(session, c, scheduler)

    def ids(**filters):
        return [x.id for x in list_cases_for_team(session, scheduler, **filters).items]

    assert ids(state="open") == [a.id]
    assert ids(state="waiting") == [b.id]
    assert ids(state="closed") == [c.id]
    assert ids(scope="mine") == [b.id]
    assert ids(search="invoice") == [a.id]
    assert ids(search=b.number) == [b.id]
    assert ids(search=str(c.id)) == [c.id]
    assert ids(search="100%_") == []


def test_the_customer_list_holds_its_account_only(session, world):
    mine = create_case(session, world.contact)
    _, _, other_contact = create_customer(session)
    create_case(session, other_contact)
    page = list_cases_for_customer(session, world.customer)
    assert [c.id for c in page.items] == [mine.id]


def test_the_customer_list_filters_by_state(session, world, scheduler):
    waiting = create_case(session, world.contact)
    set_status(session, waiting, "Waiting on customer", scheduler)
    create_case(session, world.contact)
    page = list_cases_for_customer(session, world.customer, state="waiting")
    assert [c.id for c in page.items] == [waiting.id]
