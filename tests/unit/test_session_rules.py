"""Session rules without a database: when a session ends, the session settings, a device
in words, which htmx requests are polls, and the log-in wait in words."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from portal import config
from portal.accounts.browser import POLLING_ELEMENTS
from portal.accounts.models import User, UserSession
from portal.accounts.sessions import REMEMBER_FOR, Limits, describe_device, ended_because
from portal.accounts.throttle import say_wait
from portal.config import ConfigError
from tests.conftest import ROOT
from tests.factories import NOW

LIMITS = Limits(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def row(**values) -> UserSession:
    values = {"created_at": NOW, "last_seen_at": NOW, "revoked_at": None, **values}
    return UserSession(user=User(active=True, role="customer"), **values)


@pytest.mark.parametrize(
    ("values", "at", "why"),
    [
        ({}, NOW + timedelta(minutes=29, seconds=59), None),
        ({}, NOW + timedelta(minutes=30), "idle"),
        (
            {"last_seen_at": NOW + timedelta(hours=11, minutes=50)},
            NOW + timedelta(hours=12),
            "lifetime",
        ),
        ({"revoked_at": NOW}, NOW, "revoked"),
        ({"remember_until": NOW + REMEMBER_FOR}, NOW + timedelta(days=29), None),
        ({"remember_until": NOW + REMEMBER_FOR}, NOW + REMEMBER_FOR, "remember"),
        ({"remember_until": NOW + REMEMBER_FOR, "revoked_at": NOW}, NOW, "revoked"),
        # A clock set back (tests, a corrected server) does not end a session.
        ({}, NOW - timedelta(hours=1), None),
    ],
    ids=[
        "idle-29m59",
        "idle-30m",
        "12h",
        "revoked",
        "remembered",
        "30-days",
        "remember-revoked",
        "clock-back",
    ],
)
def test_when_a_session_ends(values, at, why):
    assert ended_because(row(**values), at, LIMITS) == why


def test_a_deactivated_users_session_has_ended():
    session = row()
    session.user.active = False

    assert ended_because(session, NOW, LIMITS) == "revoked"


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


def test_the_session_limits_default_to_30_minutes_and_12_hours(env):
    settings = config.from_environment()

    assert (settings["SESSION_IDLE_MINUTES"], settings["SESSION_MAX_HOURS"]) == (30, 12)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_SESSION_IDLE_MINUTES", "half an hour"),
        ("PORTAL_SESSION_IDLE_MINUTES", "0"),
        ("PORTAL_SESSION_IDLE_MINUTES", "1441"),
        ("PORTAL_SESSION_MAX_HOURS", "-1"),
        ("PORTAL_SESSION_MAX_HOURS", "721"),
    ],
)
def test_a_bad_session_limit_stops_the_app_naming_the_variable(env, name, value):
    env.setenv(name, value)

    with pytest.raises(ConfigError, match=name):
        config.from_environment()


def test_an_idle_limit_longer_than_the_lifetime_is_refused(env):
    env.setenv("PORTAL_SESSION_IDLE_MINUTES", "180")
    env.setenv("PORTAL_SESSION_MAX_HOURS", "2")

    with pytest.raises(ConfigError, match="PORTAL_SESSION_IDLE_MINUTES"):
        config.from_environment()


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "Safari on a Mac",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
            "Chrome on an iPad",
        ),
        ("curl/8.5.0", "An unknown browser or program"),
        ("", "An unknown browser or program"),
    ],
)
def test_a_device_is_named_in_plain_words(agent, words):
    assert describe_device(agent) == words


_POLLING_TAG = re.compile(r"<[a-z]+\b[^>]*hx-trigger=\"every [^>]*>", re.S)


def test_every_element_that_polls_itself_is_known_as_polling():
    """The session's idle clock skips requests from these elements: a new poll whose id
    is missing here would keep sessions alive for ever."""
    found = {}
    for template in (ROOT / "templates").rglob("*.html"):
        for tag in _POLLING_TAG.findall(template.read_text(encoding="utf-8")):
            element_id = re.search(r'\bid="([^"]+)"', tag)
            found[template.name] = element_id.group(1) if element_id else None

    assert found, "no polling element found: has the polling markup changed?"
    assert set(found.values()) <= POLLING_ELEMENTS, found


@pytest.mark.parametrize(
    ("wait", "words"),
    [
        (timedelta(seconds=0.2), "1 second"),
        (timedelta(seconds=2), "2 seconds"),
        (timedelta(seconds=119), "119 seconds"),
        (timedelta(seconds=119.5), "2 minutes"),
        (timedelta(seconds=121), "3 minutes"),
        (timedelta(minutes=15), "15 minutes"),
    ],
)
def test_a_wait_is_said_in_whole_seconds_or_minutes_rounded_up(wait, words):
    assert say_wait(wait) == words
