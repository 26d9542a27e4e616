"""Private links are found by their look (portal/notifications/private_links.py): every
token the portal signs, wherever it sits in a text, and nothing an ordinary link needs."""

from __future__ import annotations

import secrets

import pytest
from itsdangerous import Signer, URLSafeTimedSerializer

from portal.notifications.private_links import (
    REDACTED_LINK,
    SECRET_ROUTES,
    holds_secret,
    redact,
    unfold,
    viewer_sees_links,
)

BASE = "http://127.0.0.1:5000"


def signed(payload, salt: str = "portal.reset-password") -> str:
    return URLSafeTimedSerializer(secrets.token_hex(32), salt=salt).dumps(payload)


def feed_token() -> str:
    return (
        Signer(secrets.token_hex(32), salt="portal.calendar-feed")
        .sign(secrets.token_urlsafe(24))
        .decode()
    )


@pytest.mark.parametrize("route", SECRET_ROUTES)
def test_a_secret_route_keeps_its_host_and_route_but_not_its_token(route):
    token = signed({"u": 1, "exp": 2_000_000_000})

    text = redact(f"Choose a new password here:\n\n{BASE}{route}{token}\n\nThanks.")

    assert token not in text
    assert f"{BASE}{route}{REDACTED_LINK}" in text
    assert text.startswith("Choose a new password here:") and text.endswith("Thanks.")


def test_a_manage_sub_page_and_a_calendar_feed_lose_all_after_the_route():
    token = feed_token()

    text = redact(f"{BASE}/manage/abc.def/move/confirm and {BASE}/calendar/{token}.ics")

    assert text == f"{BASE}/manage/{REDACTED_LINK} and {BASE}/calendar/{REDACTED_LINK}"


@pytest.mark.parametrize(
    "token",
    [
        signed({"u": 7, "exp": 2_000_000_000, "fp": "0" * 32}),
        signed({"appointment": 12}, salt="portal.manage"),
        signed({"blob": "x" * 400}),  # compressed: the token starts with a dot
        feed_token(),
        "pt_" + secrets.token_urlsafe(30),
        secrets.token_hex(32),
    ],
    ids=["reset", "manage", "compressed", "calendar-feed", "api-token", "hex-key"],
)
@pytest.mark.parametrize(
    "where",
    ["{base}/somewhere/new/{token}", "{base}/x?next=1&token={token}", "Your key: {token}."],
)
def test_a_token_is_redacted_under_any_route_or_none(token, where):
    text = redact(where.format(base=BASE, token=token))

    assert token not in text
    assert token[-10:] not in text
    assert holds_secret(where.format(base=BASE, token=token))


def test_a_credential_named_query_parameter_is_redacted():
    assert redact(f"{BASE}/api?key=short1&page=2") == f"{BASE}/api?key=[redacted]&page=2"


@pytest.mark.parametrize(
    "text",
    [
        f"Log in at {BASE}/login or ask for a new link at {BASE}/reset.",
        f"Your tasks: {BASE}/staff/ and {BASE}/appointments/1234",
        "Report: https://portal.example/reports/runs/17 (kept for 7 days)",
        "Work order WO-2026-000123 · appointment SA-2026-000456, ada@example.com",
        "UID:appointment-12@127.0.0.1\r\nSEQUENCE:3\r\nDTSTAMP:20261123T090000Z",
        "Boiler service at 12 Harbour Lane, London E1 6AN, 08:00–10:00 GMT",
    ],
)
def test_ordinary_text_and_links_are_left_alone(text):
    assert redact(text) == text
    assert not holds_secret(text)


def test_a_link_split_by_ics_folding_is_found_once_unfolded():
    token = signed({"appointment": 5}, salt="portal.manage")
    line = f"DESCRIPTION:Confirm\\, move or cancel: {BASE}/manage/{token}"
    folded = "\r\n ".join(line[i : i + 74] for i in range(0, len(line), 74))

    assert token not in folded  # folding cut it
    assert holds_secret(folded)
    assert redact(unfold(folded)) == f"DESCRIPTION:Confirm\\, move or cancel: {BASE}/manage/" + (
        REDACTED_LINK
    )


class _User:
    def __init__(self, role: str):
        self.role = role


@pytest.mark.parametrize(
    ("role", "setting", "sees"),
    [
        ("admin", False, False),
        ("manager", False, False),
        ("admin", True, True),
        ("manager", True, False),
    ],
)
def test_only_admins_see_links_and_only_under_the_development_setting(role, setting, sees):
    assert viewer_sees_links(_User(role), {"MAIL_VIEWER_SHOWS_LINKS": setting}) is sees
