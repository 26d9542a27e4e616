"""The pages: /admin/mail lists the outbox for managers and admins, with each message
readable and its links clickable; /notifications shows a user's own notices."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.notifications.models import OutboxMessage
from portal.notifications.services import notify_user, queue_email
from tests.factories import create_agent, create_customer, create_user

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MANAGE = "http://127.0.0.1:5000/manage/abc.def"


def _make_user(session, role: str):
    if role == "customer":
        return create_customer(session)[0]
    if role == "agent":
        return create_agent(session).user
    return create_user(session, role=role)


def _queue(session, n: int = 1, **overrides):
    return [
        queue_email(
            session,
            **{
                "to": f"person{i}@example.com",
                "subject": f"Message number {i}",
                "text": f"Hello.\n\nManage it here:\n{MANAGE}\n",
                **overrides,
            },
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_managers_and_admins_see_every_queued_message(session, client, auth, role):
    _queue(session, 2)
    auth.login(_make_user(session, role).email)

    page = client.get("/admin/mail").get_data(as_text=True)

    assert page.index("Message number 1") < page.index("Message number 0")  # newest first
    assert "person0@example.com" in page
    assert "Pending" in page


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler"])
@pytest.mark.parametrize("url", ["/admin/mail", "/admin/mail/1"])
def test_other_roles_may_not_read_the_outbox(session, client, auth, role, url):
    _queue(session)
    auth.login(_make_user(session, role).email)

    assert client.get(url).status_code == 403


def test_a_stranger_is_sent_to_log_in_from_the_outbox(client):
    response = client.get("/admin/mail")

    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_message_shows_its_text_with_the_manage_link_clickable(app, session, client, auth):
    # Only under the development setting, and only to an admin (tests/integration/
    # test_mail_privacy.py): by default the manage link is redacted.
    app.config["MAIL_VIEWER_SHOWS_LINKS"] = True
    (message,) = _queue(session, subject="Confirm <your> visit")
    auth.login(create_user(session, role="admin").email)

    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert f'<a href="{MANAGE}">' in page
    assert "Confirm &lt;your&gt; visit" in page


def test_a_message_shows_its_other_links_clickable_and_its_manage_link_redacted(
    session, client, auth
):
    (message,) = _queue(session, text=f"Tasks: http://127.0.0.1:5000/staff/\n{MANAGE}\n")
    auth.login(create_user(session, role="admin").email)

    page = client.get(f"/admin/mail/{message.id}").get_data(as_text=True)

    assert '<a href="http://127.0.0.1:5000/staff/">' in page
    assert "abc.def" not in page
    assert "http://127.0.0.1:5000/manage/[redacted link]" in page


def test_an_unknown_message_is_not_found(session, client, auth):
    auth.login(create_user(session, role="admin").email)

    assert client.get("/admin/mail/999").status_code == 404


def test_the_outbox_is_paginated_on_the_server(session, client, auth):
    _queue(session, 30)
    auth.login(create_user(session, role="admin").email)

    first = client.get("/admin/mail").get_data(as_text=True)
    second = client.get("/admin/mail?page=2").get_data(as_text=True)

    assert first.count("Message number") == 25
    assert second.count("Message number") == 5
    assert "Page 2 of 2" in second


def test_the_outbox_can_be_filtered_by_status(session, client, auth):
    sent, _pending = _queue(session, 2)
    sent.status = "sent"
    auth.login(create_user(session, role="admin").email)

    page = client.get("/admin/mail?status=sent").get_data(as_text=True)

    assert "Message number 0" in page
    assert "Message number 1" not in page
    assert client.get("/admin/mail?status=bogus").status_code == 404


def test_notifications_show_the_users_own_notices_only(session, client, auth):
    me, other = create_customer(session)[0], create_customer(session)[0]
    notify_user(session, me.id, "Your visit is booked.", "/appointments/1")
    notify_user(session, other.id, "Somebody else's visit moved.")
    auth.login(me.email)

    page = client.get("/notifications").get_data(as_text=True)

    assert '<a href="/appointments/1">Your visit is booked.</a>' in page
    assert "Somebody else" not in page


def test_the_nav_counts_unread_notices_until_they_are_marked_read(
    session, client, auth, frozen_now
):
    frozen_now(T0)
    me = create_customer(session)[0]
    for minutes in (1, 2):
        frozen_now(T0 + timedelta(minutes=minutes))
        notify_user(session, me.id, f"Notice {minutes}")
    auth.login(me.email)

    assert "Notifications (2)" in client.get("/appointments").get_data(as_text=True)
    opened = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (2)" in opened  # reading the list changes nothing
    assert opened.count(">New</span>") == 2
    assert re.search(r"Notice 2.*Notice 1", opened, re.S)  # newest first
    assert "Mark all as read" in opened

    marked = client.post_form(
        "/notifications/read",
        {"up_to": _newest_id(opened)},
        form_url="/notifications",
        follow_redirects=True,
    )
    page = marked.get_data(as_text=True)
    assert marked.request.path == "/notifications"
    assert "Notifications (0)" in page
    assert ">New</span>" not in page
    assert "Mark all as read" not in page
    assert "Notifications (0)" in client.get("/appointments").get_data(as_text=True)
    assert ">New</span>" not in client.get("/notifications").get_data(as_text=True)


def _newest_id(page: str) -> str:
    return re.search(r'name="up_to" value="(\d+)"', page).group(1)


def test_opening_the_notifications_leaves_them_unread(session, client, auth):
    me = create_customer(session)[0]
    notify_user(session, me.id, "Your visit is booked.")
    auth.login(me.email)

    for _ in range(2):
        page = client.get("/notifications").get_data(as_text=True)
        assert page.count(">New</span>") == 1
        assert "Notifications (1)" in page


def test_marking_read_spares_a_notice_that_arrived_after_the_page_was_drawn(session, client, auth):
    me = create_customer(session)[0]
    notify_user(session, me.id, "Seen notice")
    auth.login(me.email)
    opened = client.get("/notifications").get_data(as_text=True)
    notify_user(session, me.id, "Later notice")

    client.post_form(
        "/notifications/read", {"up_to": _newest_id(opened)}, form_url="/notifications"
    )

    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (1)" in page
    assert re.search(r">New</span> Later notice", page)
    assert not re.search(r">New</span> Seen notice", page)


def test_mark_all_read_answers_htmx_with_the_list_and_the_nav_count(session, client, auth):
    me = create_customer(session)[0]
    other = create_customer(session)[0]
    notify_user(session, me.id, "Mine")
    notify_user(session, other.id, "Theirs")
    auth.login(me.email)
    opened = client.get("/notifications").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', opened).group(1)

    answer = client.post(
        "/notifications/read",
        data={"up_to": _newest_id(opened)},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<div id="notifications"' in fragment
    assert "<html" not in fragment
    assert ">New</span>" not in fragment
    assert 'id="nav-notifications"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "Notifications (0)" in fragment
    # Somebody else's notice is untouched, even with an up_to past its id.
    auth.logout()
    auth.login(other.email)
    assert "Notifications (1)" in client.get("/notifications").get_data(as_text=True)


def test_mark_all_read_needs_the_csrf_token(session, client, auth):
    me = create_customer(session)[0]
    notify_user(session, me.id, "Mine")
    auth.login(me.email)

    assert client.post("/notifications/read").status_code == 400
    assert "Notifications (1)" in client.get("/notifications").get_data(as_text=True)


def test_the_e_mails_link_shows_only_for_managers_and_admins(session, client, auth):
    auth.login(create_user(session, role="scheduler").email)
    assert ">E-mails</a>" not in client.get("/staff/").get_data(as_text=True)
    auth.logout()
    auth.login(create_user(session, role="manager").email)
    assert ">E-mails</a>" in client.get("/staff/").get_data(as_text=True)


def test_webhook_deliveries_are_not_listed_among_the_e_mails(session, client, auth):
    (mail,) = _queue(session)
    hook = OutboxMessage(
        channel="webhook", recipient="https://hooks.example.com/x", subject="Webhook 1"
    )
    session.add(hook)
    session.flush()
    auth.login(create_user(session, role="admin").email)

    page = client.get("/admin/mail").get_data(as_text=True)

    assert "Message number 0" in page
    assert "Webhook 1" not in page
    assert client.get(f"/admin/mail/{hook.id}").status_code == 404
    assert client.get(f"/admin/mail/{mail.id}").status_code == 200
