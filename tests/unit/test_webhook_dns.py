"""The DNS lookup before a webhook has a deadline of its own: getaddrinfo has none."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from portal.webhooks import urls
from portal.webhooks.urls import LookupTimeout, check_url, resolve_within


@pytest.fixture
def silent_dns(monkeypatch):
    """A resolver that answers nothing until the test ends."""
    answer = threading.Event()

    def hang(host, port):
        answer.wait(10)
        return ["93.184.215.14"]

    monkeypatch.setattr(urls, "resolve", hang)
    yield
    answer.set()


def test_a_lookup_that_hangs_is_given_up_at_the_deadline(silent_dns):
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        resolve_within("hooks.example.com", 443, 0.2)

    assert time.monotonic() - started < 2


def test_check_url_says_the_host_did_not_resolve_in_time(silent_dns):
    with pytest.raises(LookupTimeout) as slow:
        check_url("https://hooks.example.com/in", allow_private=False, resolve_timeout=0.2)

    assert slow.value.message == "The host hooks.example.com did not resolve within 0.2 seconds."
    assert slow.value.field == "url"


def test_a_lookup_in_time_gives_its_addresses(monkeypatch):
    monkeypatch.setattr(urls, "resolve", lambda host, port: ["93.184.215.14"])

    target = check_url("https://hooks.example.com/in", allow_private=False, resolve_timeout=1)

    assert target.address == "93.184.215.14"


def test_a_failed_lookup_is_still_a_host_not_found(monkeypatch):
    def unknown(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(urls, "resolve", unknown)

    with pytest.raises(urls.Invalid) as refused:
        check_url("https://nowhere.example/in", allow_private=False)

    assert not isinstance(refused.value, LookupTimeout)
    assert refused.value.message == "The host nowhere.example could not be found."
