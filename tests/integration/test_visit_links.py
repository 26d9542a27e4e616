"""Visit links (issue #16): an order's work order waits for its site contact to pick a
time; the e-mailed single-use link books that same work order, and a scheduler can book
it on the contact's behalf. The services, without HTTP (the pages are in
test_visit_links_pages.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import Contact
from portal.booking.models import Appointment, VisitLink
from portal.booking.services import (
    AlreadyBooked,
    BookingRequest,
    WindowTaken,
    book_work_order,
)
from portal.booking.visit_links import (
    SUBJECT,
    VisitLinkClosed,
    book_from_link,
    issue_visit_link,
    send_visit_link,
    token_hash,
    visit_state,
)
from portal.errors import Conflict, NotAllowed
from portal.notifications.models import OutboxMessage
from portal.notifications.private_links import holds_secret
from portal.notifications.services import send_due
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask
from portal.workorders.watchers import StatusChange
from tests.factories import NOW, build_world, create_appointment, create_work_order

# NOW is Monday 1 June 2026, 07:00 in London. Tuesday's 08:00-10:00 London window.
WINDOW = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)  # Tuesday 10:00-12:00 London


@pytest.fixture
def world(session, frozen_now):
    frozen_now(NOW)
    world = build_world(
        session,
        service={"duration_minutes": 60, "buffer_minutes": 30},
        customer={"email": "site@example.com"},
        scheduler={"full_name": "Sam Scheduler", "email": "sam@example.com"},
    )
    work_order = create_work_order(
        session,
        account=world.account,
        contact=world.contact,
        location=world.location,
        owner_kind="order",
        summary="Fibre line installation",
    )
    return world.add(work_order=work_order)


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def link_of(session, path: str) -> VisitLink:
    return session.scalar(
        sa.select(VisitLink).where(VisitLink.token_hash == token_hash(token_of(path)))
    )


def issue(session, world, **kwargs) -> VisitLink:
    path = issue_visit_link(
        session, world["work_order"], world.contact, world.service, by=world.scheduler, **kwargs
    )
    return link_of(session, path)


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# --- issuing -----------------------------------------------------------------------------------


def test_a_link_keeps_only_the_hash_of_its_token(session, world):
    path = issue_visit_link(
        session, world["work_order"], world.contact, world.service, by=world.scheduler
    )

    assert path.startswith("/visit/")
    token = token_of(path)
    assert len(token) >= 40
    link = link_of(session, path)
    assert link.token_hash == token_hash(token) != token
    assert link.expires_at == NOW + timedelta(days=30)
    assert (link.used_at, link.revoked_at, link.appointment_id) == (None, None, None)


def test_a_newer_link_revokes_the_older(session, world):
    older = issue(session, world)
    newer = issue(session, world)
    session.refresh(older)

    assert older.revoked_at == NOW
    assert newer.revoked_at is None
    assert visit_state(session, older, NOW).state == "revoked"
    assert visit_state(session, newer, NOW).live


def test_a_link_for_a_work_order_already_scheduled_is_refused(session, world):
    world["work_order"].status = "scheduled"

    with pytest.raises(Conflict):
        issue(session, world)


# --- booking through the link ------------------------------------------------------------------


def test_the_link_books_the_existing_work_order(session, world):
    link = issue(session, world)
    work_orders_before = count(session, WorkOrder)

    appt = book_from_link(session, link, WINDOW, note="Ring twice")

    work_order = world["work_order"]
    assert count(session, WorkOrder) == work_orders_before  # no new work order
    assert appt.work_order_id == work_order.id
    assert work_order.status == "scheduled"
    assert appt.status == "requested" and appt.note == "Ring twice"
    assert appt.created_by_id == world.customer.id  # the contact's own user
    (task,) = session.scalars(sa.select(WorkOrderTask)).all()
    assert (task.work_order_id, task.appointment_id, task.agent_id) == (
        work_order.id,
        appt.id,
        world.agent.id,
    )
    assert [h.agent_id for h in appt.holds] == [world.agent.id]
    assert link.used_at == NOW and link.appointment_id == appt.id


def test_the_booking_goes_on_the_work_orders_timeline(session, world):
    appt = book_from_link(session, issue(session, world), WINDOW)

    entries = session.scalars(
        sa.select(TimelineEntry)
        .where(TimelineEntry.work_order_id == world["work_order"].id)
        .order_by(TimelineEntry.id)
    ).all()
    actions = [(e.subject_type, e.action, e.old_value, e.new_value) for e in entries]
    assert ("WorkOrder", "status", "new", "scheduled") in actions
    assert ("Appointment", "booked", None, "Tue 2 Jun, 08:00–10:00 BST") in actions
    assert ("VisitLink", "used", None, None) in actions
    assert ("WorkOrder", "created", None, appt.work_order.summary) not in actions


def test_the_status_change_reaches_the_work_orders_watchers(session, world, monkeypatch):
    seen: list[StatusChange] = []
    monkeypatch.setattr(
        "portal.workorders.status.status_changed", lambda _session, change: seen.append(change)
    )

    book_from_link(session, issue(session, world), WINDOW)

    assert [(c.work_order_id, c.old, c.new) for c in seen] == [
        (world["work_order"].id, "new", "scheduled")
    ]


def test_a_contact_without_a_log_in_books_through_the_link(session, world):
    contact = Contact(account=world.account, full_name="Pat Site", email="pat@example.com")
    session.add(contact)
    world["work_order"].contact = contact
    session.flush()
    path = issue_visit_link(
        session, world["work_order"], contact, world.service, by=world.scheduler
    )

    appt = book_from_link(session, link_of(session, path), WINDOW)

    assert appt.created_by_id is None
    assert appt.contact_id == contact.id


def test_a_second_use_is_refused_and_names_the_booking(session, world):
    link = issue(session, world)
    first = book_from_link(session, link, WINDOW)

    with pytest.raises(VisitLinkClosed) as refused:
        book_from_link(session, link, LATER)

    assert refused.value.state.state == "booked"
    assert refused.value.state.appointment.id == first.id
    assert refused.value.message == "This visit is booked: Tue 2 Jun, 08:00–10:00 BST."
    assert count(session, Appointment) == 1


def test_a_double_submit_books_once(session, world):
    link = issue(session, world)

    first = book_from_link(session, link, WINDOW, idempotency_key="k1")
    again = book_from_link(session, link, WINDOW, idempotency_key="k1")

    assert again.id == first.id
    assert count(session, Appointment) == 1


def test_an_expired_link_does_not_book(session, world, frozen_now):
    link = issue(session, world, days=2)
    frozen_now(NOW + timedelta(days=2))

    with pytest.raises(VisitLinkClosed) as refused:
        book_from_link(session, link, WINDOW + timedelta(days=2))

    assert refused.value.state.state == "expired"
    assert world["work_order"].status == "new"


def test_a_revoked_link_does_not_book(session, world):
    older = issue(session, world)
    issue(session, world)

    with pytest.raises(VisitLinkClosed) as refused:
        book_from_link(session, older, WINDOW)

    assert refused.value.state.state == "revoked"
    assert count(session, Appointment) == 0


def test_a_window_taken_meanwhile_offers_the_nearest(session, world):
    other = create_work_order(session, account=world.account)
    create_appointment(
        session,
        start=datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
        contact=world.contact,
        agents=[world.agent],
        work_order=other,
    )

    with pytest.raises(WindowTaken) as taken:
        book_from_link(session, issue(session, world), WINDOW)

    assert "just taken" in taken.value.message
    assert taken.value.alternatives


# --- the scheduler on the contact's behalf -----------------------------------------------------


def on_behalf(world, start=WINDOW, **overrides) -> BookingRequest:
    values = {
        "customer": world.customer,
        "contact": world.contact,
        "service": world.service,
        "location": world.location,
        "window_start": start,
        "work_order": world["work_order"],
        **overrides,
    }
    return BookingRequest(**values)


def test_a_scheduler_books_the_work_order_on_the_contacts_behalf(session, world):
    link = issue(session, world)

    appt = book_work_order(session, on_behalf(world), actor=world.scheduler)

    assert appt.work_order_id == world["work_order"].id
    assert world["work_order"].status == "scheduled"
    assert appt.created_by_id == world.scheduler.id
    booked = session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.subject_type == "Appointment", TimelineEntry.action == "booked"
        )
    )
    assert (booked.actor_id, booked.on_behalf_of_id) == (world.scheduler.id, world.customer.id)
    session.refresh(link)
    assert link.appointment_id == appt.id  # the contact's link now shows the booking
    assert visit_state(session, link, NOW).state == "booked"


def test_a_customer_cannot_book_a_work_order_as_a_scheduler(session, world):
    with pytest.raises(NotAllowed):
        book_work_order(session, on_behalf(world), actor=world.customer)


def test_a_booked_work_order_is_not_booked_twice(session, world):
    first = book_work_order(session, on_behalf(world), actor=world.scheduler)

    with pytest.raises(AlreadyBooked) as refused:
        book_work_order(session, on_behalf(world, LATER), actor=world.scheduler)

    assert refused.value.appointment.id == first.id


# --- the e-mail --------------------------------------------------------------------------------


def test_the_e_mail_holds_the_link_and_what_to_book(session, world):
    link = send_visit_link(
        session, world["work_order"], world.contact, world.service, by=world.scheduler
    )

    (mail,) = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "site@example.com")
    ).all()
    assert mail.subject == f"{SUBJECT}: {world.service.name}"
    url = re.search(r"https?://\S+/visit/(\S+)", mail.body_text)
    assert token_hash(url.group(1)) == link.token_hash
    assert url.group(0) in mail.body_html
    for words in (
        "Fibre line installation",
        world["work_order"].number,
        world.location.one_line,
        "Wed 1 Jul 2026, 07:00 BST",  # until when it works
        "Contact Sam Scheduler at sam@example.com",  # who to call
    ):
        assert words in mail.body_text
    assert mail.reply_to == "sam@example.com"
    assert mail.holds_secret
    assert holds_secret(mail.body_text)


def test_the_e_mails_body_leaves_the_database_once_sent(session, world, smtp_server):
    send_visit_link(session, world["work_order"], world.contact, world.service, by=world.scheduler)
    session.commit()

    send_due(session, NOW, smtp=smtp_server.settings)

    (sent,) = smtp_server.messages
    assert "/visit/" in sent.get_body(("plain",)).get_content()
    row = session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "site@example.com")
    )
    assert row.status == "sent"
    assert (row.body_text, row.body_html) == ("", "")
    assert row.body_removed_at == NOW


def test_a_link_of_a_work_order_cancelled_meanwhile_does_not_book(session, world):
    link = issue(session, world)
    world["work_order"].status = "cancelled"

    with pytest.raises(VisitLinkClosed) as refused:
        book_from_link(session, link, WINDOW)

    assert refused.value.state.state == "closed"
    assert count(session, Appointment) == 0


def test_the_contact_is_sent_the_usual_booking_e_mail(session, world, expand_events):
    book_from_link(session, issue(session, world), WINDOW)
    session.flush()

    expand_events()

    subjects = session.scalars(
        sa.select(OutboxMessage.subject).where(
            OutboxMessage.channel == "email", OutboxMessage.recipient == "site@example.com"
        )
    ).all()
    assert any(subject.startswith("Booked:") for subject in subjects)
