"""E-mail to case: a case's e-mails carry a reply address with the case's token
(case+TOKEN@PORTAL_INBOUND_MAIL_DOMAIN); a reply received by the inbound mail listener
lands on the case as the customer's comment."""

from __future__ import annotations

import re
import secrets

import sqlalchemy.orm as so
from flask import current_app

from portal.cases.models import Case

TOKEN_BYTES = 24  # 32 characters of URL-safe base64
_ADDRESS = re.compile(r"^case\+([A-Za-z0-9_-]{16,43})@", re.IGNORECASE)


def inbound_domain() -> str:
    """PORTAL_INBOUND_MAIL_DOMAIN, or the sender's domain (MAIL_FROM) when unset."""
    configured = current_app.config.get("INBOUND_MAIL_DOMAIN", "")
    if configured:
        return configured
    sender = current_app.config.get("MAIL_FROM", "")
    address = sender.rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or "portal.invalid"


def reply_address(session: so.Session, case: Case) -> str:
    """The case's reply address; its token is made on first use."""
    if not case.reply_token:
        case.reply_token = secrets.token_urlsafe(TOKEN_BYTES)
        session.flush()
    return f"case+{case.reply_token}@{inbound_domain()}"


def token_of(address: str) -> str | None:
    """The case token in a recipient address, or None when it is not a case address."""
    found = _ADDRESS.match(address.strip().strip("<>"))
    return found.group(1) if found else None
