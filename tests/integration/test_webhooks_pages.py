"""The webhook settings pages over HTTP: managers only; add an endpoint and see its secret
once, refuse a bad URL naming the field, rotate, pause, ping, remove, read the log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.notifications.models import OutboxMessage
from portal.webhooks import services as webhooks
from portal.webhooks import urls
from portal.webhooks.models import WebhookAttempt, WebhookEndpoint
from tests.factories import NOW, create_agent, create_customer, create_user

URL = "https://hooks.example.com/portal"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    """example.com resolves to a public address without the network."""
    real = urls.resolve
    monkeypatch.setattr(
        urls,
        "resolve",
        lambda host, port: ["93.184.215.14"] if host.endswith("example.com") else real(host, port),
    )


@pytest.fixture
def manager(session, frozen_now, auth):
    frozen_now(NOW)
    user = create_user(session, role="manager", email="boss@example.com")
    session.commit()
    auth.login("boss@example.com")
    return user


@pytest.fixture
def endpoint(session):
    hook = webhooks.create_endpoint(session, url=URL, events=["appointment.booked"])
    session.commit()
    return hook


def add_form(**changes) -> dict:
    return {
        "url": URL,
        "description": "CRM",
        "events": ["appointment.booked", "work_order.closed"],
        **changes,
    }


def endpoints(session) -> list[WebhookEndpoint]:
    return list(session.scalars(sa.select(WebhookEndpoint)))


ACTIONS = ["rotate", "pause", "resume", "ping", "delete"]


@pytest.mark.parametrize("role", ["customer", "agent", "scheduler"])
def test_only_managers_open_the_webhook_pages(session, client, auth, endpoint, role):
    if role == "customer":
        create_customer(session, email="someone@example.com")
    elif role == "agent":
        create_agent(session, email="someone@example.com")
    else:
        create_user(session, role=role, email="someone@example.com")
    session.commit()
    auth.login("someone@example.com")
    token = client.csrf_token("/profile" if role == "customer" else "/staff/")

    pages = ["/settings/webhooks", f"/settings/webhooks/{endpoint.id}"]
    assert [client.get(url).status_code for url in pages] == [403, 403]
    posts = [f"/settings/webhooks/{endpoint.id}/{action}" for action in ACTIONS]
    answers = [client.post(url, data={"csrf_token": token}).status_code for url in posts]
    assert answers == [403] * len(ACTIONS)
    assert (
        client.post("/settings/webhooks", data={**add_form(), "csrf_token": token}).status_code
        == 403
    )
    assert len(endpoints(session)) == 1


def test_someone_logged_out_is_sent_to_log_in(client):
    response = client.get("/settings/webhooks")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(session, client, manager):
    response = client.post_form("/settings/webhooks", add_form())

    (hook,) = endpoints(session)
    page = response.get_data(as_text=True)
    assert response.status_code == 201
    assert hook.secret in page
    assert hook.events == ["appointment.booked", "work_order.closed"]
    assert hook.created_by_id == manager.id
    later = client.get(f"/settings/webhooks/{hook.id}").get_data(as_text=True)
    assert hook.secret not in later
    assert hook.secret_hint in later
    assert URL in client.get("/settings/webhooks").get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://hooks.example.com/in", "Use an http:// or https:// URL."),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://127.0.0.1:8080/", "loopback"),
    ],
)
def test_a_refused_url_is_shown_on_its_field_and_nothing_is_saved(
    session, client, manager, url, words
):
    response = client.post_form("/settings/webhooks", add_form(url=url))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="url-error"' in page and words in page
    assert endpoints(session) == []


def test_choosing_no_event_is_refused(session, client, manager):
    response = client.post_form("/settings/webhooks", add_form(events=[]))

    assert response.status_code == 422
    assert "Choose at least one event to send." in response.get_data(as_text=True)
    assert endpoints(session) == []


def test_loopback_is_accepted_when_the_setting_allows_it(app, session, client, manager):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True

    response = client.post_form("/settings/webhooks", add_form(url="http://127.0.0.1:9/in"))

    assert response.status_code == 201
    assert [e.url for e in endpoints(session)] == ["http://127.0.0.1:9/in"]


def test_rotating_shows_the_new_secret(session, client, manager, endpoint):
    old = endpoint.secret
    url = f"/settings/webhooks/{endpoint.id}"

    response = client.post_form(f"{url}/rotate", form_url=url)

    session.refresh(endpoint)
    assert endpoint.secret != old
    assert endpoint.secret in response.get_data(as_text=True)


def test_pausing_and_resuming_an_endpoint(session, client, manager, endpoint):
    url = f"/settings/webhooks/{endpoint.id}"

    client.post_form(f"{url}/pause", form_url=url)
    session.refresh(endpoint)
    assert not endpoint.active

    client.post_form(f"{url}/resume", form_url=url)
    session.refresh(endpoint)
    assert endpoint.active


def test_a_test_ping_is_queued_for_the_endpoint(session, client, manager, endpoint):
    url = f"/settings/webhooks/{endpoint.id}"

    response = client.post_form(f"{url}/ping", form_url=url, follow_redirects=True)

    (message,) = session.scalars(sa.select(OutboxMessage))
    assert (message.channel, message.subject, message.subject_id) == (
        "webhook",
        "ping",
        endpoint.id,
    )
    assert "A test ping is queued" in response.get_data(as_text=True)


def test_removing_an_endpoint(session, client, manager, endpoint):
    url = f"/settings/webhooks/{endpoint.id}"

    response = client.post_form(f"{url}/delete", form_url=url)

    assert response.status_code == 302
    assert endpoints(session) == []


def test_an_unknown_endpoint_is_404(client, manager):
    assert client.get("/settings/webhooks/999").status_code == 404


@pytest.mark.parametrize("endpoint_id", ["2147483648", "99999999999999999999"])
def test_an_id_too_large_for_the_database_is_404(client, manager, endpoint_id):
    assert client.get(f"/settings/webhooks/{endpoint_id}").status_code == 404


def test_an_action_on_an_id_too_large_for_the_database_is_404(client, manager):
    response = client.post_form("/settings/webhooks/2147483648/pause", {})

    assert response.status_code == 404


def test_the_endpoint_page_shows_each_attempt_with_its_answer(session, client, manager, endpoint):
    message = webhooks.queue_ping(session, endpoint)
    message.attempts = 2
    session.add_all(
        [
            WebhookAttempt(
                message_id=message.id,
                endpoint_id=endpoint.id,
                attempted_at=NOW,
                status_code=500,
                response_excerpt="Database is down",
            ),
            WebhookAttempt(
                message_id=message.id,
                endpoint_id=endpoint.id,
                attempted_at=NOW,
                status_code=None,
                error="TimeoutError: timed out",
            ),
        ]
    )

    page = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)

    assert "HTTP 500" in page and "Database is down" in page
    assert "no answer" in page and "TimeoutError: timed out" in page
    assert "2 attempts" in page
