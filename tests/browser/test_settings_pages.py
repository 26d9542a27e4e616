"""Settings in a real browser: a manager's change to a service shows in a customer's live
windows; time off parks a booking that the scheduler moves on; every settings page
passes axe and is photographed (artifacts/screenshots/settings-*.png).

The live data is shared by every browser test: each test here puts back what it changed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from portal.accounts.models import User
from portal.booking import lifecycle as lc
from portal.booking import steps
from portal.booking.models import Appointment, Service
from portal.booking.services import BookingRequest, book_window
from portal.booking.windows import get_availability
from portal.db import get_session
from portal.notifications.models import Notification, OutboxMessage
from portal.timeutil import local_day_bounds, now_utc
from portal.workforce.models import Agent, Skill, Territory, TimeOff
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

PHONE = {"width": 390, "height": 844}


def _slots(page: Page) -> list[str]:
    return page.locator("a.slot").evaluate_all("els => els.map(e => e.dataset.start)")


def _leak_repair(live_app) -> tuple[int, int]:
    with live_app.app_context():
        session = get_session()
        service = session.scalar(sa.select(Service).where(Service.code == "leak-repair"))
        found = service.id, service.duration_minutes
        session.rollback()
    return found


def _set_duration(live_app, service_id: int, minutes: int) -> None:
    with live_app.app_context():
        session = get_session()
        session.get(Service, service_id).duration_minutes = minutes
        session.commit()


def test_a_manager_changes_a_services_duration_and_the_customers_windows_follow(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    service_id, original = _leak_repair(live_app)
    customer = browser.new_context(base_url=base_url).new_page()
    manager = browser.new_context(base_url=base_url).new_page()
    try:
        log_in(customer, "customer@demo.test")
        customer.get_by_role("link", name="Book an appointment").first.click()
        customer.get_by_label("Service").select_option(label=f"Leak repair ({original} min)")
        customer.get_by_label("Where is the work?").select_option(index=1)
        customer.get_by_role("button", name="Show free windows").click()
        customer.get_by_role("link", name="Next week →").click()  # a week with few bookings
        expect(customer.locator("a.slot").first).to_be_visible()
        before = _slots(customer)

        log_in(manager, "manager@demo.test")
        manager.get_by_role("link", name="Settings", exact=True).click()
        sections = manager.get_by_role("navigation", name="Settings sections")
        sections.get_by_role("link", name="Services").click()
        check_accessibility(manager, "the services list")
        manager.screenshot(path=screenshot_dir / "settings-services-desktop.png", full_page=True)
        manager.get_by_role("link", name="Leak repair").click()
        manager.get_by_label("Duration (minutes)").fill("300")
        manager.get_by_role("button", name="Save the service").click()
        expect(manager.get_by_text("Leak repair was saved")).to_be_visible()
        expect(manager.get_by_role("cell", name="300 min")).to_be_visible()

        customer.reload()
        expect(customer.locator("a.slot").first).to_be_visible()
        after = _slots(customer)
        customer.screenshot(path=screenshot_dir / "settings-windows-after-longer-job.png")
        # A five-hour job fits fewer windows: afternoons go, and nothing new appears.
        assert set(after) < set(before)

        manager.get_by_role("link", name="Leak repair").click()
        manager.get_by_label("Duration (minutes)").fill(str(original))
        manager.get_by_role("button", name="Save the service").click()
        expect(manager.get_by_text("Leak repair was saved")).to_be_visible()
        customer.reload()
        expect(customer.locator("a.slot").first).to_be_visible()
        assert _slots(customer) == before
    finally:
        _set_duration(live_app, service_id, original)
        customer.context.close()
        manager.context.close()


def test_a_bad_service_edit_is_shown_next_to_the_field(page: Page, live_app, screenshot_dir):
    service_id, original = _leak_repair(live_app)
    log_in(page, "manager@demo.test")
    page.goto(f"/settings/services/{service_id}")

    page.get_by_label("Duration (minutes)").fill("0")
    page.get_by_role("button", name="Save the service").click()

    expect(page.get_by_text("Enter a whole number from 1 to 1440.")).to_be_visible()
    expect(page.get_by_label("Duration (minutes)")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, "the service form with an error")
    page.screenshot(path=screenshot_dir / "settings-service-error-desktop.png", full_page=True)
    assert _leak_repair(live_app) == (service_id, original)


def _book_far_ahead(live_app) -> tuple[int, int, str]:
    """A leak repair for Ana three weeks out (past the demo bookings): (id, agent, day)."""
    with live_app.app_context():
        session = get_session()
        ana = session.scalar(sa.select(User).where(User.email == "ana@demo.test"))
        service = session.scalar(sa.select(Service).where(Service.code == "leak-repair"))
        location = ana.contact.account.locations[0]
        zone = ZoneInfo("Europe/London")
        day = now_utc().astimezone(zone).date() + timedelta(days=21)
        while day.weekday() > 4:
            day -= timedelta(days=1)
        start, end = local_day_bounds(day, "Europe/London")
        windows = get_availability(
            session, service, location, range_start=start, range_end=end, now=now_utc()
        ).windows
        appointment = book_window(
            session,
            BookingRequest(
                customer=ana, service=service, location=location, window_start=windows[0].starts_at
            ),
        )
        found = appointment.id, appointment.holds[0].agent_id, day.isoformat()
        session.commit()
    return found


def _clean_up(live_app, appointment_id: int) -> None:
    """Free the agent again and leave no e-mail behind: other browser tests open the
    newest ones, and a cancelled appointment's link opens nothing."""
    with live_app.app_context():
        session = get_session()
        session.execute(sa.delete(TimeOff).where(TimeOff.reason == "Browser test leave"))
        appointment = session.get(Appointment, appointment_id)
        if appointment.status not in ("cancelled", "in_progress", "completed"):
            admin = session.scalar(sa.select(User).where(User.email == "admin@demo.test"))
            lc.cancel_appointment(session, appointment, steps.Actor(admin), "Browser test over")
        session.execute(
            sa.delete(OutboxMessage).where(
                OutboxMessage.subject_type == "appointment",
                OutboxMessage.subject_id == appointment_id,
            )
        )
        session.commit()


def test_time_off_parks_a_booking_and_the_scheduler_moves_it_on(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    appointment_id, agent_id, day = _book_far_ahead(live_app)
    number = f"SA-{appointment_id:06d}"
    manager = browser.new_context(base_url=base_url).new_page()
    scheduler = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    try:
        log_in(manager, "manager@demo.test")
        manager.goto(f"/settings/agents/{agent_id}")
        manager.get_by_label("From", exact=True).fill(f"{day}T00:00")
        manager.get_by_label("Until", exact=True).fill(
            f"{datetime.fromisoformat(day).date() + timedelta(days=1)}T00:00"
        )
        manager.get_by_label("Reason").fill("Browser test leave")
        manager.get_by_role("button", name="Add time off").click()
        expect(
            manager.get_by_text(re.compile(r"needs? a new time; (it is|they are) in the"))
        ).to_be_visible()
        check_accessibility(manager, "an agent's settings after adding time off")
        manager.screenshot(path=screenshot_dir / "settings-agent-time-off.png", full_page=True)

        log_in(scheduler, "scheduler@demo.test")
        scheduler.goto("/settings/disruptions")
        card = scheduler.locator("li.parked-card").filter(has_text=number)
        expect(card.locator(".suggestions li")).to_have_count(3)
        check_accessibility(scheduler, "the disruptions page")
        scheduler.screenshot(path=screenshot_dir / "settings-disruptions-phone.png", full_page=True)
        card.get_by_label(f"Select {number}").check()
        scheduler.get_by_role("button", name="Move each ticked booking").click()
        expect(scheduler.get_by_text(re.compile(rf"Moved 1: {number} to"))).to_be_visible()
        scheduler.screenshot(path=screenshot_dir / "settings-disruptions-moved-phone.png")
        with live_app.app_context():
            moved = get_session().get(Appointment, appointment_id)
            assert moved.status == "requested" and moved.holds
            get_session().rollback()
    finally:
        _clean_up(live_app, appointment_id)
        manager.context.close()
        scheduler.context.close()


def _ids(live_app) -> dict[str, int]:
    with live_app.app_context():
        session = get_session()
        found = {
            "service": session.scalar(sa.select(Service.id).order_by(Service.id)),
            "agent": session.scalar(sa.select(Agent.id).order_by(Agent.id)),
            "skill": session.scalar(sa.select(Skill.id).order_by(Skill.id)),
            "territory": session.scalar(sa.select(Territory.id).order_by(Territory.id)),
            "user": session.scalar(sa.select(User.id).where(User.email == "scheduler@demo.test")),
        }
        session.rollback()
    return found


MANAGER_PAGES = [
    ("overview", "/settings/", "Settings"),
    ("service-new", "/settings/services/new", "New service"),
    ("service", "/settings/services/{service}", "Boiler service"),
    ("agents", "/settings/agents", "Agents"),
    ("agent", "/settings/agents/{agent}", "Sarah Okafor"),
    ("skills", "/settings/skills", "Skills"),
    ("skill", "/settings/skills/{skill}", "Rename Gas safe engineer"),
    ("territories", "/settings/territories", "Territories"),
    ("territory", "/settings/territories/{territory}", "London"),
    ("holidays", "/settings/holidays", "Holidays"),
    ("policy", "/settings/policy", "Booking policy"),
    ("disruptions", "/settings/disruptions", "Bookings that need a new time"),
]
ADMIN_PAGES = [
    ("users", "/settings/users", "Staff users"),
    ("user-new", "/settings/users/new", "Invite a staff user"),
    ("user", "/settings/users/{user}", "Sam Rivera"),
]


def _visit_each(page: Page, pages, ids, screenshot_dir, suffix: str) -> None:
    for name, url, heading in pages:
        page.goto(url.format(**ids))
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        check_accessibility(page, f"the settings page {url}")
        page.screenshot(path=screenshot_dir / f"settings-{name}-{suffix}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        assert width <= viewport, f"{url} is {width}px wide in a {viewport}px window"


def test_every_manager_settings_page_is_accessible(page: Page, live_app, screenshot_dir):
    log_in(page, "manager@demo.test")

    _visit_each(page, MANAGER_PAGES, _ids(live_app), screenshot_dir, "desktop")


def test_every_admin_settings_page_is_accessible(page: Page, live_app, screenshot_dir):
    log_in(page, "admin@demo.test")

    _visit_each(page, ADMIN_PAGES, _ids(live_app), screenshot_dir, "desktop")


def test_the_settings_work_on_a_phone(browser: Browser, base_url: str, live_app, screenshot_dir):
    page = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    log_in(page, "manager@demo.test")
    phone_pages = [p for p in MANAGER_PAGES if p[0] in ("overview", "agents", "agent", "policy")]

    _visit_each(page, phone_pages, _ids(live_app), screenshot_dir, "phone")

    page.context.close()


def _invitation_mail(live_app, email: str) -> int:
    with live_app.app_context():
        session = get_session()
        message_id = session.scalar(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        )
        session.rollback()
    assert message_id is not None, f"no e-mail to {email}"
    return message_id


def _emailed_path(live_app, message_id: int, route: str) -> str:
    """The path of the private link in an e-mail, read from its outbox row: what its
    recipient gets (/admin/mail shows it redacted)."""
    with live_app.app_context():
        session = get_session()
        text = session.get(OutboxMessage, message_id).body_text
        session.rollback()
    match = re.search(rf"https?://\S+/{route}/[A-Za-z0-9_.\-]+", text)
    assert match, text
    return urlsplit(match.group(0)).path


def _remove_user(live_app, email: str) -> None:
    """Take the invited user out again (its agent record and e-mails with it)."""
    with live_app.app_context():
        session = get_session()
        user = session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            session.execute(
                sa.delete(OutboxMessage).where(
                    OutboxMessage.subject_type == "User", OutboxMessage.subject_id == user.id
                )
            )
            session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
            session.execute(sa.delete(Agent).where(Agent.user_id == user.id))
            session.delete(user)
        session.commit()


def test_an_admin_invites_a_staff_member_who_sets_a_password_and_logs_in(
    browser: Browser, base_url: str, live_app, screenshot_dir
):
    email = "robin.browser@example.com"
    admin = browser.new_context(base_url=base_url).new_page()
    newcomer = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    try:
        log_in(admin, "admin@demo.test")
        admin.goto("/settings/users")
        admin.get_by_role("link", name="Invite a staff user").click()
        admin.get_by_label("Full name").fill("Robin Browser")
        admin.get_by_label("E-mail").fill(email)
        admin.get_by_label("Role").select_option("scheduler")
        admin.get_by_role("button", name="Send the invitation").click()
        expect(admin.get_by_text(f"We sent Robin Browser an invitation at {email}")).to_be_visible()
        expect(admin.get_by_role("heading", name="Invitation")).to_be_visible()
        check_accessibility(admin, "an invited staff user's page")
        screenshots(admin, screenshot_dir, "settings-user-invited")
        admin.goto("/settings/users")
        row = admin.get_by_role("row").filter(has_text="Robin Browser")
        expect(row.get_by_text("Invited", exact=True)).to_be_visible()
        expect(row.get_by_text(re.compile(r"Invitation sent"))).to_be_visible()
        check_accessibility(admin, "the staff users list with an invited user")
        screenshots(admin, screenshot_dir, "settings-users-invited")

        # Not before accepting: there is no password to log in with.
        log_in(newcomer, email, "lighthouse keeper 42", succeed=False)
        expect(newcomer.get_by_role("button", name="Log out")).to_have_count(0)

        # The admin sees the invitation in the portal's mail, its link redacted; the
        # newcomer follows the link in their own copy (the outbox row, as it is sent).
        message_id = _invitation_mail(live_app, email)
        admin.goto(f"/admin/mail/{message_id}")
        expect(admin.locator(".mail-body")).to_contain_text("/invite/[redacted link]")
        expect(admin.locator(".mail-body a", has_text="/invite/")).to_have_count(0)
        invite_path = _emailed_path(live_app, message_id, "invite")
        newcomer.goto(invite_path)
        expect(newcomer.get_by_role("heading", name="Welcome, Robin Browser")).to_be_visible()
        check_accessibility(newcomer, "the staff invitation page on a phone")
        newcomer.screenshot(path=screenshot_dir / "accounts-staff-invite-phone.png", full_page=True)
        newcomer.get_by_label("Choose a password").fill("lighthouse keeper 42")
        newcomer.get_by_role("button", name="Set my password").click()
        expect(newcomer.get_by_role("button", name="Log out")).to_be_visible()

        # Used once, the link is refused with a clear message; the password now works.
        newcomer.get_by_role("button", name="Log out").click()
        newcomer.goto(invite_path)
        expect(newcomer.get_by_text("This invitation has already been used")).to_be_visible()
        check_accessibility(newcomer, "a used invitation link")
        log_in(newcomer, email, "lighthouse keeper 42")
        newcomer.goto("/dispatch/")
        expect(newcomer.get_by_role("heading", name="Dispatch board")).to_be_visible()

        admin.goto("/settings/users")
        admin.get_by_role("link", name="Robin Browser").click()
        expect(admin.locator(".page-head").get_by_text("Active", exact=True)).to_be_visible()
        admin.get_by_role("button", name="Deactivate").click()
        expect(admin.get_by_text("Robin Browser can no longer log in.")).to_be_visible()
        newcomer.goto("/staff/")
        expect(newcomer.get_by_label("Password")).to_be_visible()  # sent back to log in
    finally:
        admin.context.close()
        newcomer.context.close()
        _remove_user(live_app, email)
