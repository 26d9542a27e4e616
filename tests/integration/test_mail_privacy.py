"""Nobody but its recipient ever sees a live private link (issue #12, finding 1).

/admin/mail shows every e-mail with its reset, invitation, verification and manage
links redacted, to managers and admins alike; only an admin under the development
setting MAIL_VIEWER_SHOWS_LINKS sees them, and the page says so. Once an e-mail holding
such a link is sent (or given up), its body leaves the database; what was queued still
goes to the SMTP server whole. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from portal import scheduler
from portal.accounts import credentials, emails, invitations, registration
from portal.booking.announce import EVENTS, announce
from portal.db import UTCDateTime, make_engine
from portal.migrate import upgrade
from portal.notifications import jobs
from portal.notifications.models import OutboxMessage
from portal.notifications.private_links import REDACTED_LINK
from portal.notifications.services import MAX_ATTEMPTS, queue_email, send_due
from portal.reports import services as reports
from tests.factories import create_agent, create_appointment, create_customer, create_user

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NEW_PASSWORD = "staple tide lantern"
# What the portal's secret routes look like in a body (read independently of the code
# under test): the route, then the token up to the end of the URL.
PRIVATE_LINK = re.compile(r"/(reset|invite|verify|manage|calendar)/([A-Za-z0-9_.\-]+)")
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_.\-]{16,}")
REMOVED = "Body removed after delivery: it held a private link."
DEV_NOTICE = "Development setting: links are shown to admins"
ACCOUNT_SUBJECTS = (
    emails.SUBJECT_VERIFY,
    emails.SUBJECT_SIGNUP_EXISTS,
    emails.SUBJECT_RESET,
    emails.SUBJECT_PASSWORD_CHANGED,
    emails.SUBJECT_TOKEN_CREATED,
    emails.SUBJECT_INVITE,
    emails.SUBJECT_STAFF_INVITE,
)


def outbox(session, to: str | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = sa.select(OutboxMessage).where(OutboxMessage.channel == "email")
    if to is not None:
        query = query.where(OutboxMessage.recipient == to)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def unfold(ics: str | None) -> str:
    return re.sub(r"\r?\n[ \t]", "", ics or "")


def private_links(message: OutboxMessage) -> set[tuple[str, str]]:
    """(route, token) of every private link in the body, text, HTML or attachment."""
    found = set()
    for part in (message.body_text, message.body_html, unfold(message.ics)):
        found |= {(m.group(1), m.group(2)) for m in PRIVATE_LINK.finditer(part or "")}
    return found


def assert_no_live_link(client, page: str, route: str, token: str) -> None:
    """The token is nowhere on the page, and nothing on it that looks like a token opens
    the route's page."""
    assert token not in page
    assert token[-12:] not in page  # not even its signature
    candidates = {m.group(2) for m in PRIVATE_LINK.finditer(page)}
    candidates |= set(TOKEN_LIKE.findall(page))
    for candidate in candidates:
        response = client.get(f"/{route}/{quote(candidate, safe='')}")
        assert response.status_code != 200, candidate


@pytest.fixture
def dev_setting(app):
    app.config["MAIL_VIEWER_SHOWS_LINKS"] = True
    yield
    app.config["MAIL_VIEWER_SHOWS_LINKS"] = False


@pytest.fixture
def appointment(session, frozen_now):
    frozen_now(T0)
    _user, _account, contact = create_customer(session, email="ada@example.com")
    agent = create_agent(session)
    return create_appointment(session, start=START, contact=contact, agents=[agent])


# --- the take-over path -----------------------------------------------------------------------


def test_a_manager_cannot_take_over_an_admin_with_a_reset_read_in_the_outbox(
    session, client, auth, frozen_now
):
    frozen_now(T0)
    create_user(session, role="admin", email="root@example.com")
    manager = create_user(session, role="manager")
    session.commit()
    client.post_form("/reset", {"email": "root@example.com"}, follow_redirects=True)
    (message,) = outbox(session, "root@example.com")
    ((route, token),) = private_links(message)
    assert route == "reset" and client.get(f"/reset/{token}").status_code == 200  # live

    auth.login(manager.email)
    listing = client.get("/admin/mail").get_data(as_text=True)
    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert "Reset your password" in listing and "root@example.com" in page
    assert_no_live_link(client, listing, "reset", token)
    assert_no_live_link(client, page, "reset", token)
    assert f"/reset/{REDACTED_LINK}" in page
    auth.logout()
    assert auth.login("root@example.com").status_code == 302  # the password is unchanged


def test_a_pending_admin_invitation_cannot_be_read_from_the_outbox(
    session, client, auth, frozen_now
):
    frozen_now(T0)
    admin = create_user(session, role="admin")
    manager = create_user(session, role="manager")
    invitations.invite_staff_user(
        session,
        admin,
        full_name="Second Admin",
        email="second@example.com",
        role="admin",
        time_zone="Europe/London",
    )
    session.commit()
    (message,) = outbox(session, "second@example.com")
    ((route, token),) = private_links(message)
    assert route == "invite" and client.get(f"/invite/{token}").status_code == 200  # live

    auth.login(manager.email)
    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert_no_live_link(client, page, "invite", token)
    assert f"/invite/{REDACTED_LINK}" in page


def test_a_customers_manage_link_cannot_be_read_from_the_outbox(
    session, client, auth, appointment, expand_events
):
    manager = create_user(session, role="manager")
    announce(session, "booked", appointment)
    expand_events()
    session.commit()
    (message,) = outbox(session, "ada@example.com")
    links = private_links(message)
    assert {route for route, _ in links} == {"manage"}
    (token,) = {token for _, token in links}  # the same link in the text and the .ics
    assert client.get(f"/manage/{token}").status_code == 200  # live

    auth.login(manager.email)
    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert "BEGIN:VCALENDAR" in page  # the attachment is shown, redacted
    assert_no_live_link(client, page, "manage", token)
    assert f"/manage/{REDACTED_LINK}" in page


# --- every e-mail the portal sends ------------------------------------------------------------


def every_kind_of_email(session, appointment) -> None:
    """Queue one of each e-mail the portal sends: accounts, invitations, every booking
    event (customer, agents, schedulers) and the weekly report."""
    admin = create_user(session, role="admin")
    manager = create_user(session, role="manager")
    create_user(session, role="scheduler")
    customer, account, _contact = create_customer(session, email="jo@example.com")
    fields = {
        "password": NEW_PASSWORD,
        "time_zone": "Europe/London",
        "street": "1 Quay Street",
        "city": "London",
        "postal_code": "E1 6AN",
    }
    registration.sign_up(session, full_name="New Person", email="new@example.com", **fields)
    registration.sign_up(session, full_name="Twin", email="jo@example.com", **fields)
    credentials.request_password_reset(session, "jo@example.com")
    (reset,) = [m for m in outbox(session, "jo@example.com") if m.subject == "Reset your password"]
    ((_route, token),) = private_links(reset)
    credentials.reset_password(session, token, "another staple tide lantern")
    emails.tell_token_created(session, customer, "laptop")
    invitations.invite_contact(
        session, account, full_name="Con Tact", email="contact@example.com", invited_by=admin
    )
    invitations.invite_staff_user(
        session, admin, full_name="Sec", email="sec@example.com", role="admin", time_zone="UTC"
    )
    reports.set_subscription(session, manager, "operations", True)
    reports.email_weekly(session, T0, "Europe/London", "http://127.0.0.1:5000")
    for event in EVENTS:
        announce(session, event, appointment, note="A note.")


def test_no_private_link_of_any_e_mail_survives_in_the_viewer(
    session, client, auth, appointment, expand_events
):
    every_kind_of_email(session, appointment)
    expand_events()
    session.commit()
    messages = outbox(session)
    found = {message.id: private_links(message) for message in messages}
    routes = {route for links in found.values() for route, _ in links}
    assert routes == {"reset", "invite", "verify", "manage"}
    subjects = {m.subject for m in messages}
    assert set(ACCOUNT_SUBJECTS) <= subjects
    assert any(subject.startswith("Operations report, week of") for subject in subjects)
    customer_events = [name for name, audience in EVENTS.items() if audience.customer]
    assert len([m for m in messages if m.recipient == "ada@example.com"]) == len(customer_events)
    # Every message holding one was found so by its content, whichever kind it is.
    assert {m.id for m in messages if m.holds_secret} == {i for i, links in found.items() if links}

    for role in ("manager", "admin"):
        auth.login(create_user(session, role=role).email)
        pages = [client.get("/admin/mail").get_data(as_text=True)]
        pages += [client.get(f"/admin/mail?page={n}").get_data(as_text=True) for n in (2, 3)]
        for message in messages:
            response = client.get(f"/admin/mail/{message.id}")
            assert response.status_code == 200
            pages.append(response.get_data(as_text=True))
        everything = "\n".join(pages)
        for links in found.values():
            for _route, token in links:
                assert token not in everything
                assert token[-12:] not in everything
        auth.logout()
    # Ordinary links stay links: the weekly report's page, the agent's tasks.
    assert re.search(r'<a href="http://127\.0\.0\.1:5000/reports/runs/\d+">', everything)
    assert '<a href="http://127.0.0.1:5000/staff/">' in everything


# --- the development setting ------------------------------------------------------------------


def test_an_admin_sees_links_under_the_development_setting_and_is_told(
    session, client, auth, frozen_now, dev_setting
):
    frozen_now(T0)
    create_user(session, email="jo@example.com")
    credentials.request_password_reset(session, "jo@example.com")
    session.commit()
    (message,) = outbox(session, "jo@example.com")
    ((_route, token),) = private_links(message)
    auth.login(create_user(session, role="admin").email)

    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)
    listing = client.get("/admin/mail").get_data(as_text=True)

    assert f'<a href="http://127.0.0.1:5000/reset/{token}">' in page
    assert DEV_NOTICE in page and DEV_NOTICE in listing


def test_a_manager_never_sees_links_even_under_the_development_setting(
    session, client, auth, frozen_now, dev_setting
):
    frozen_now(T0)
    create_user(session, email="jo@example.com")
    credentials.request_password_reset(session, "jo@example.com")
    session.commit()
    (message,) = outbox(session, "jo@example.com")
    ((_route, token),) = private_links(message)
    auth.login(create_user(session, role="manager").email)

    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert token not in page
    assert f"/reset/{REDACTED_LINK}" in page
    assert DEV_NOTICE not in page


def test_without_the_setting_the_page_says_links_are_redacted(session, client, auth):
    auth.login(create_user(session, role="admin").email)

    page = client.get("/admin/mail").get_data(as_text=True)

    assert "are redacted: only their recipient may open them" in page
    assert DEV_NOTICE not in page


# --- bodies removed after delivery ------------------------------------------------------------


def test_a_sent_reset_goes_out_whole_and_its_body_then_leaves_the_database(
    session, client, auth, smtp_server, frozen_now
):
    frozen_now(T0)
    create_user(session, email="jo@example.com")
    credentials.request_password_reset(session, "jo@example.com")
    session.commit()
    (queued,) = outbox(session, "jo@example.com")
    text, html, subject = queued.body_text, queued.body_html, queued.subject
    ((_route, token),) = private_links(queued)

    report = send_due(session, T0 + timedelta(seconds=5), smtp=smtp_server.settings)

    (mail,) = smtp_server.messages
    assert report.sent == 1
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.rstrip("\n") == text.rstrip("\n")  # the whole text, link and all
    assert token in mail.get_body(("html",)).get_content() and token in html
    (row,) = outbox(session, "jo@example.com")
    assert (row.subject, row.recipient, row.status) == (subject, "jo@example.com", "sent")
    assert row.sent_at == row.body_removed_at == T0 + timedelta(seconds=5)
    assert row.created_at == T0
    assert (row.body_text, row.body_html, row.ics) == ("", "", None)
    assert client.get(f"/reset/{token}").status_code == 200  # the recipient's copy works

    auth.login(create_user(session, role="admin").email)
    page = client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    assert REMOVED in page and subject in page


def test_a_sent_booking_e_mail_takes_its_calendar_attachment_to_the_server_then_drops_it(
    session, appointment, smtp_server, expand_events
):
    announce(session, "booked", appointment)
    expand_events()
    session.commit()
    (queued,) = outbox(session, "ada@example.com")
    ((_route, token),) = {link for link in private_links(queued)}

    send_due(session, T0, smtp=smtp_server.settings)

    (mail,) = [m for m in smtp_server.messages if m["To"] == "ada@example.com"]
    (ics,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert token in unfold(ics.get_content()) and token in mail.get_body(("plain",)).get_content()
    (row,) = outbox(session, "ada@example.com")
    assert (row.body_text, row.body_html, row.ics, row.status) == ("", "", None, "sent")
    # The agent's e-mail holds no private link: it keeps its body.
    (agent_mail,) = [m for m in outbox(session) if m.recipient != "ada@example.com"]
    assert agent_mail.status == "sent" and not agent_mail.holds_secret
    assert "/staff/" in agent_mail.body_text and agent_mail.body_removed_at is None


def test_an_e_mail_without_a_private_link_keeps_its_body_once_sent(
    session, smtp_server, frozen_now
):
    frozen_now(T0)
    queue_email(session, to="a@example.com", subject="Hi", text="See http://x.test/staff/")
    session.commit()

    send_due(session, T0, smtp=smtp_server.settings)

    (row,) = outbox(session)
    assert (row.status, row.body_text, row.body_removed_at) == (
        "sent",
        "See http://x.test/staff/",
        None,
    )


def test_a_private_e_mail_given_up_on_loses_its_body(session, smtp_server, frozen_now):
    frozen_now(T0)
    create_user(session, email="jo@example.com")
    credentials.request_password_reset(session, "jo@example.com")
    session.commit()
    smtp_server.stop()

    now = T0
    for _ in range(MAX_ATTEMPTS - 1):
        send_due(session, now, smtp=smtp_server.settings)
        (row,) = outbox(session, "jo@example.com")
        assert row.status == "pending" and "/reset/" in row.body_text  # still to go
        now = row.next_attempt_at
    send_due(session, now, smtp=smtp_server.settings)

    (row,) = outbox(session, "jo@example.com")
    assert (row.status, row.body_text, row.body_html) == ("failed", "", "")
    assert row.body_removed_at == now and row.subject == "Reset your password"


def test_the_development_setting_keeps_sent_bodies(session, smtp_server, frozen_now, dev_setting):
    frozen_now(T0)
    create_user(session, email="jo@example.com")
    credentials.request_password_reset(session, "jo@example.com")
    session.commit()

    send_due(session, T0, smtp=smtp_server.settings)

    (row,) = outbox(session, "jo@example.com")
    assert row.status == "sent" and "/reset/" in row.body_text and row.body_removed_at is None


# --- the purge job, for what was sent before ----------------------------------------------------


def _sent_before(session, text: str, *, holds_secret: bool, status: str = "sent"):
    """A row as an earlier version left it: sent with its body (and, after migration
    0014, marked when its body held a private link)."""
    row = OutboxMessage(
        channel="email",
        recipient="old@example.com",
        subject="Old message",
        body_text=text,
        body_html=f"<p>{text}</p>",
        status=status,
        sent_at=T0 - timedelta(days=30) if status == "sent" else None,
        created_at=T0 - timedelta(days=30),
        holds_secret=holds_secret,
    )
    session.add(row)
    session.flush()
    return row


def test_the_mail_body_purge_runs_hourly():
    (spec,) = [s for s in scheduler.JOBS if s.id == "purge-mail-bodies"]

    assert spec.func == "portal.notifications.jobs:purge_mail_bodies"
    assert spec.trigger_args == {"hours": 1}


def test_the_purge_job_removes_private_bodies_sent_before_and_keeps_the_rest(
    app, session, frozen_now, monkeypatch
):
    frozen_now(T0)
    old = _sent_before(session, "Reset: http://h/reset/abc.def.ghi", holds_secret=True)
    given_up = _sent_before(session, "http://h/invite/a.b.c", holds_secret=True, status="failed")
    plain = _sent_before(session, "Your tasks: http://h/staff/", holds_secret=False)
    waiting = _sent_before(session, "http://h/verify/x.y.z", holds_secret=True, status="pending")
    ids = (old.id, given_up.id, plain.id, waiting.id)
    session.commit()

    jobs.purge_mail_bodies(app)

    session.expire_all()
    old, given_up, plain, waiting = (session.get(OutboxMessage, i) for i in ids)
    assert (old.body_text, old.body_html, old.body_removed_at) == ("", "", T0)
    assert (old.subject, old.recipient, old.status) == ("Old message", "old@example.com", "sent")
    assert given_up.body_text == "" and given_up.body_removed_at == T0
    assert plain.body_text == "Your tasks: http://h/staff/" and plain.body_removed_at is None
    assert waiting.body_text == "http://h/verify/x.y.z"  # the sender removes it once sent


def test_the_purge_job_leaves_bodies_under_the_development_setting(
    app, session, frozen_now, monkeypatch, dev_setting
):
    frozen_now(T0)
    old = _sent_before(session, "Reset: http://h/reset/abc.def.ghi", holds_secret=True)
    session.commit()

    jobs.purge_mail_bodies(app)

    session.refresh(old)
    assert old.body_text == "Reset: http://h/reset/abc.def.ghi"


def test_the_upgrade_marks_e_mails_already_holding_private_links(fresh_database_url):
    upgrade(fresh_database_url, "0013_audit_log")
    outbox_0013 = sa.table(
        "outbox_messages",
        *(sa.column(name, sa.String) for name in ("channel", "recipient", "subject", "status")),
        *(sa.column(name, sa.Text) for name in ("body_text", "body_html", "ics", "last_error")),
        sa.column("attempts", sa.Integer),
        *(sa.column(name, UTCDateTime()) for name in ("next_attempt_at", "created_at")),
    )
    bodies = {
        "reset": ("Choose: http://h/reset/a.b.c", "", None),
        "manage-in-html": ("", '<a href="http://h/manage/a.b.c">', None),
        "feed-in-ics": ("", "", "URL:http://h/calendar/k.s.ics"),
        "plain": ("Your tasks: http://h/staff/", "", None),
    }
    engine = make_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            for subject, (text, html, ics) in bodies.items():
                connection.execute(
                    outbox_0013.insert().values(
                        channel="email",
                        recipient="old@example.com",
                        subject=subject,
                        status="sent",
                        body_text=text,
                        body_html=html,
                        ics=ics,
                        last_error="",
                        attempts=0,
                        next_attempt_at=T0,
                        created_at=T0,
                    )
                )
            connection.execute(
                outbox_0013.insert().values(
                    channel="webhook",
                    recipient="https://hooks.example",
                    subject="webhook",
                    status="sent",
                    body_text='{"url": "http://h/manage/x"}',
                    body_html="",
                    last_error="",
                    attempts=0,
                    next_attempt_at=T0,
                    created_at=T0,
                )
            )
        upgrade(fresh_database_url)
        with engine.connect() as connection:
            marked = dict(
                connection.execute(
                    sa.text("SELECT subject, holds_secret FROM outbox_messages")
                ).all()
            )
    finally:
        engine.dispose()

    assert {subject: bool(flag) for subject, flag in marked.items()} == {
        "reset": True,
        "manage-in-html": True,
        "feed-in-ics": True,
        "plain": False,
        "webhook": False,
    }
