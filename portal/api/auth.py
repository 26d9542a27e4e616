"""Who is calling: a personal token in `Authorization: Bearer pt_...`, nothing else.

The API never reads the session cookie, so a logged-in browser cannot be made to call
it from another site (and the API needs no CSRF token). Each request is counted against
its token in a fixed window kept in the database (an atomic upsert), so the limit holds
however many worker processes serve the API.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, request
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import User
from portal.api.errors import RateLimited, Unauthenticated
from portal.api.models import ApiRateWindow, ApiToken
from portal.api.tokens import find_usable_token
from portal.db import get_session
from portal.timeutil import now_utc

DEFAULT_RATE_LIMIT = 120  # requests per token per window
DEFAULT_RATE_WINDOW_SECONDS = 60


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate_request() -> User:
    """The token's user, after counting this request; 401 or 429 otherwise.

    The count and last_used_at are committed at once, in a transaction of their own, so
    a request that is later refused still counts, and business work starts afresh.
    """
    secret = bearer_secret()
    if secret is None:
        raise Unauthenticated("Send a personal API token: Authorization: Bearer pt_...")
    session = get_session()
    token = find_usable_token(session, secret)
    if token is None:
        session.rollback()
        raise Unauthenticated("That API token is not valid, or it was revoked or has expired.")
    limit = current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    seconds = current_app.config.get("API_RATE_WINDOW_SECONDS", DEFAULT_RATE_WINDOW_SECONDS)
    now = now_utc()
    count, retry_after = count_request(session, token, now, window_seconds=seconds)
    token.last_used_at = now
    user_id = token.user_id
    session.commit()
    if count > limit:
        raise RateLimited(
            f"This token may make {limit} requests every {seconds} seconds. "
            f"Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    return session.get(User, user_id)


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def count_request(
    session: so.Session, token: ApiToken, now: datetime, *, window_seconds: int
) -> tuple[int, int]:
    """Add one request to the token's current window: (requests in it, seconds left)."""
    start = window_start(now, window_seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = ApiRateWindow.__table__
    statement = (
        insert(table)
        .values(token_id=token.id, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.token_id, table.c.window_start],
            set_={"count": table.c.count + 1},
        )
        .returning(table.c.count)
    )
    count = session.scalar(statement)
    # Past windows are of no further use: drop them as we go.
    session.execute(
        sa.delete(ApiRateWindow).where(
            ApiRateWindow.token_id == token.id, ApiRateWindow.window_start < start
        )
    )
    left = (start + timedelta(seconds=window_seconds) - now).total_seconds()
    return count, max(1, math.ceil(left))
