"""Signed, expiring tokens for links sent by e-mail (manage an appointment, verify an
e-mail address, reset a password, accept an invitation).

Each purpose has its own salt, so a token made for one purpose opens nothing else. The
payload is signed, not encrypted: put ids in it, never secrets.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portal.timeutil import now_utc

PURPOSES = frozenset({"manage", "verify-email", "reset-password", "invite", "calendar", "device"})


class TokenInvalid(Exception):
    """The token is malformed, forged, for another purpose, or expired."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.message = message
        self.expired = expired


class _PortalClockSigner(TimestampSigner):
    """Stamps and ages tokens by the portal's clock, which tests can freeze."""

    def get_timestamp(self) -> int:
        return int(now_utc().timestamp())


def _serializer(purpose: str, secret: str | None = None) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(
        secret or current_app.config["SECRET_KEY"],
        salt=f"portal.{purpose}",
        signer=_PortalClockSigner,
    )


def make_token(purpose: str, payload: Any, *, secret: str | None = None) -> str:
    return _serializer(purpose, secret).dumps(payload)


def read_token(purpose: str, token: str, *, max_age: int, secret: str | None = None) -> Any:
    """The payload of a valid token younger than `max_age` seconds, else TokenInvalid."""
    return read_token_issued(purpose, token, max_age=max_age, secret=secret)[0]


def read_token_issued(
    purpose: str, token: str, *, max_age: int, secret: str | None = None
) -> tuple[Any, int]:
    """The payload of a valid token and when it was signed (Unix seconds, whole: a token
    made in the same second as something else cannot tell which came first)."""
    try:
        payload, signed_at = _serializer(purpose, secret).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise TokenInvalid("This link has expired.", expired=True) from None
    except BadSignature:
        raise TokenInvalid("This link is not valid.") from None
    return payload, int(signed_at.timestamp())
