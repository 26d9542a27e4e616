"""Webhook endpoints and events, without HTTP: which URLs are refused, which events queue
a message for which endpoint, and what the message carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.booking import hooks as booking_hooks
from portal.booking.announce import announce
from portal.cases import hooks as case_hooks
from portal.errors import Invalid, NotAllowed
from portal.imports import services as import_services
from portal.notifications.models import OutboxMessage
from portal.orders import hooks as order_hooks
from portal.sla import hooks as sla_hooks
from portal.webhooks import services as webhooks
from portal.webhooks import urls
from portal.webhooks.models import WEBHOOK_EVENTS
from tests.factories import create_agent, create_appointment, create_customer, create_user

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://hooks.example.com/portal"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    """example.com names resolve to a public address without asking the network; the
    rest (localhost, IP literals) go to the real resolver."""
    real = urls.resolve

    def resolve(host, port):
        if host.endswith("example.com"):
            return ["93.184.215.14"]
        if host == "internal.example.net":
            return ["10.1.2.3"]
        return real(host, port)

    monkeypatch.setattr(urls, "resolve", resolve)


@pytest.fixture
def appointment(session):
    _user, _account, contact = create_customer(session)
    return create_appointment(session, start=START, contact=contact, agents=[create_agent(session)])


def endpoint(session, events=("appointment.booked",), url=PUBLIC_URL, **kwargs):
    return webhooks.create_endpoint(session, url=url, events=events, **kwargs)


def webhook_messages(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == "webhook")
            .order_by(OutboxMessage.id)
        )
    )


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://hooks.example.com/in", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://10.0.0.1/hook", "private network"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://127.0.0.1/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://internal.example.net/hook", "private network"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://[::ffff:10.0.0.1]/hook", "private network"),
        ("http://[2002:a00:1::1]/hook", "6to4 tunnel"),
        ("http://[2002:5db8:d70e::1]/hook", "6to4 tunnel"),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", "Teredo tunnel"),
        ("http://[fec0::1]/hook", "site-local"),
        ("https://user:pw@hooks.example.com/", "user name and password"),
        ("https:///no-host", "host name"),
        ("https://hooks.example.com:99999/", "cannot be read"),
    ],
)
def test_a_url_that_is_not_public_http_is_refused_naming_the_field(session, url, words):
    with pytest.raises(Invalid) as refused:
        endpoint(session, url=url)

    assert refused.value.field == "url"
    assert words in refused.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://[2002:a00:1::1]/",
        "http://[fec0::1]/",
    ],
)
def test_private_addresses_are_accepted_when_the_setting_allows_them(session, url):
    hook = endpoint(session, url=url, allow_private=True)

    assert hook.url == url


def test_a_non_ascii_path_and_query_are_percent_encoded_keeping_existing_escapes():
    target = urls.check_url(
        "https://hooks.example.com/hooks/café?name=Zoë&next=%2Fhome", allow_private=False
    )

    assert target.path == "/hooks/caf%C3%A9?name=Zo%C3%AB&next=%2Fhome"


def test_an_international_host_name_is_sent_in_its_ascii_form():
    target = urls.check_url("https://bücher.example.com/in", allow_private=False)

    assert target.host == "xn--bcher-kva.example.com"


def test_a_host_name_idna_cannot_encode_is_refused_naming_the_field():
    with pytest.raises(Invalid) as refused:
        urls.check_url(f"https://{'ü' * 70}.example.com/in", allow_private=False)

    assert refused.value.field == "url"
    assert "cannot be used" in refused.value.message


def test_a_host_that_does_not_resolve_is_refused(session):
    with pytest.raises(Invalid, match="could not be found"):
        endpoint(session, url="https://no-such-host.invalid/hook")


def test_a_public_https_url_is_accepted_with_a_secret(session):
    manager = create_user(session, role="manager")

    hook = endpoint(session, created_by=manager, description="  CRM  ")

    assert hook.secret.startswith("whsec_") and len(hook.secret) > 40
    assert hook.description == "CRM"
    assert hook.created_by == manager
    assert hook.active


def test_an_endpoint_needs_at_least_one_known_event(session):
    with pytest.raises(Invalid) as none:
        endpoint(session, events=())
    with pytest.raises(Invalid) as unknown:
        endpoint(session, events=("appointment.exploded",))

    assert none.value.field == unknown.value.field == "events"


def test_rotating_the_secret_replaces_it(session):
    hook = endpoint(session)
    old = hook.secret

    new = webhooks.rotate_secret(session, hook)

    assert new == hook.secret != old
    assert hook.secret_rotated_at is not None


# --- events ---------------------------------------------------------------------------------


def test_an_event_queues_one_message_per_subscribed_endpoint(session, appointment, expand_events):
    first = endpoint(session, events=("appointment.booked", "appointment.cancelled"))
    second = endpoint(session, url="https://other.example.com/in", events=("appointment.booked",))
    endpoint(session, url="https://third.example.com/in", events=("appointment.cancelled",))

    announce(session, "booked", appointment)
    expand_events()

    messages = webhook_messages(session)
    assert sorted(m.subject_id for m in messages) == [first.id, second.id]
    assert {m.subject for m in messages} == {"appointment.booked"}
    assert {m.recipient for m in messages} == {PUBLIC_URL, "https://other.example.com/in"}


def test_an_event_nobody_subscribes_to_queues_nothing(session, appointment, expand_events):
    endpoint(session, events=("appointment.cancelled",))

    announce(session, "booked", appointment)
    expand_events()
    announce(session, "assigned", appointment)
    expand_events()

    assert webhook_messages(session) == []


def test_a_paused_endpoint_is_not_sent_new_events(session, appointment, expand_events):
    hook = endpoint(session)
    webhooks.set_active(session, hook, False)

    announce(session, "booked", appointment)
    expand_events()

    assert webhook_messages(session) == []


def test_the_message_carries_the_event_and_the_appointment_in_the_api_shape(
    session, appointment, expand_events
):
    endpoint(session)

    announce(session, "booked", appointment)
    expand_events()

    (message,) = webhook_messages(session)
    body = json.loads(message.body_text)
    assert body["type"] == "appointment.booked"
    assert body["id"].startswith("evt_")
    assert body["occurred_at"].endswith("Z")
    assert body["data"]["appointment"]["number"] == appointment.number
    assert body["data"]["appointment"]["window_start"] == "2026-11-24T10:00:00Z"
    assert body["data"]["work_order"]["number"] == appointment.work_order.number


def test_the_customer_signing_off_sends_work_order_closed(session, appointment, expand_events):
    endpoint(session, events=("work_order.closed",))
    appointment.work_order.status = "closed"

    announce(session, "signed_off", appointment)
    expand_events()

    (message,) = webhook_messages(session)
    assert message.subject == "work_order.closed"
    assert json.loads(message.body_text)["data"]["work_order"]["status"] == "closed"


def test_every_subscribable_event_has_an_announced_source():
    sources = (
        set(booking_hooks.ANNOUNCED.values())
        | set(sla_hooks.ANNOUNCED.values())
        | set(case_hooks.ANNOUNCED.values())
        | set(order_hooks.ANNOUNCED)
        | {import_services.WEBHOOK_EVENT}
    )
    assert sources == set(WEBHOOK_EVENTS)


def test_a_ping_goes_to_one_active_endpoint_only(session):
    hook = endpoint(session)
    endpoint(session, url="https://other.example.com/in")

    message = webhooks.queue_ping(session, hook)

    assert webhook_messages(session) == [message]
    assert message.subject == "ping"


def test_a_paused_endpoint_cannot_be_pinged(session):
    hook = endpoint(session)
    webhooks.set_active(session, hook, False)

    with pytest.raises(NotAllowed):
        webhooks.queue_ping(session, hook)


def test_deleting_an_endpoint_removes_its_deliveries(session, appointment, expand_events):
    hook = endpoint(session)
    announce(session, "booked", appointment)
    expand_events()

    webhooks.delete_endpoint(session, hook)

    assert webhook_messages(session) == []
    assert webhooks.list_endpoints(session) == []
