"""The outbox page in a real browser: an admin lists the demo's e-mails and opens one,
whose manage link is redacted (only its recipient may follow it, which works); the pages
pass axe's WCAG 2.1 AA checks on desktop and phone."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from portal.booking.models import Appointment
from portal.db import get_session
from portal.notifications.models import OutboxMessage
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots


def _booking_mail_of_an_open_appointment(live_app) -> int:
    with live_app.app_context():
        session = get_session()
        message_id = session.scalar(
            sa.select(OutboxMessage.id)
            .join(Appointment, Appointment.id == OutboxMessage.subject_id)
            .where(
                OutboxMessage.subject_type == "appointment",
                OutboxMessage.subject.like("Booked:%"),
                Appointment.status.in_(("requested", "accepted", "confirmed")),
            )
            .order_by(OutboxMessage.id.desc())
        )
        session.rollback()
    assert message_id is not None
    return message_id


def _manage_link_as_sent(live_app, message_id: int) -> str:
    with live_app.app_context():
        session = get_session()
        text = session.get(OutboxMessage, message_id).body_text
        session.rollback()
    match = re.search(r"https?://\S+/manage/[A-Za-z0-9_.\-]+", text)
    assert match, text
    return match.group(0)


def test_an_admin_reads_the_outbox_and_a_message(page: Page, live_app, screenshot_dir):
    log_in(page, "admin@demo.test")
    page.get_by_role("link", name="E-mails", exact=True).click()

    expect(page.get_by_role("heading", level=1, name="E-mails from the portal")).to_be_visible()
    expect(
        page.get_by_role("list", name=re.compile("All messages")).get_by_role("listitem")
    ).to_have_count(25)
    check_accessibility(page, "the outbox list")
    screenshots(page, screenshot_dir, "admin-mail")

    # Other browser tests close appointments (a closed one's link rightly opens
    # nothing), so open the booking e-mail of one that is still open.
    message_id = _booking_mail_of_an_open_appointment(live_app)
    page.goto(f"/admin/mail/{message_id}")

    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Booked: "))).to_be_visible()
    body = page.locator(".mail-body").first
    expect(body).to_contain_text(re.compile(r"http://127\.0\.0\.1:\d+/manage/\[redacted link\]"))
    expect(page.locator(".mail-body a", has_text="/manage/")).to_have_count(0)
    expect(page.get_by_text("Private links (password resets")).to_be_visible()
    manage = _manage_link_as_sent(live_app, message_id)
    for part in (manage.rpartition("/")[2], manage.rpartition(".")[2]):
        assert part not in page.content()
    check_accessibility(page, "an outbox message")
    screenshots(page, screenshot_dir, "admin-mail-message")

    # The recipient's copy (the outbox row, as sent) still opens the appointment. The
    # link names BASE_URL (port 5000 under `make run`); follow it on this server.
    response = page.goto(urlsplit(manage).path)
    assert response is not None and response.ok


def test_a_user_reads_their_notifications(page: Page, screenshot_dir):
    log_in(page, "customer@demo.test")
    unread = page.get_by_role("link", name=re.compile(r"^Notifications \([1-9]\d*\)$"))
    unread.click()

    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    expect(unread).to_be_visible()  # reading the list marks nothing read
    check_accessibility(page, "the notification list with unread notices")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("link", name=re.compile(r"^Notifications \(0\)$"))).to_be_visible()
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    check_accessibility(page, "the notification list")
    screenshots(page, screenshot_dir, "notifications")
