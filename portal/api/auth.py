"""Who is calling: a personal token in `Authorization: Bearer pt_...`, nothing else.

The API never reads the session cookie, so a logged-in browser cannot be made to call
it from another site (and the API needs no CSRF token). Requests are counted in fixed
windows kept in the database (an atomic upsert), so the limits hold however many worker
processes serve the API:

* every request of a user's tokens together, in one window per user (making more
  tokens gives no more requests);
* every request refused for want of a valid token (401), per client address
  (`request.remote_addr`, which ProxyFix sets from X-Forwarded-For behind a proxy). An
  address over that limit gets 429 without its token being looked at, so tokens
  cannot be guessed quickly, and a bad client cannot hammer the token lookup.
"""

from __future__ import annotations

from flask import current_app, request

from portal.accounts.models import User
from portal.api.errors import Unauthenticated
from portal.api.tokens import find_usable_token
from portal.db import get_session
from portal.ratelimit import RateLimited, count_request, current_count
from portal.timeutil import now_utc

DEFAULT_RATE_LIMIT = 120  # requests per user (all its tokens) per window
DEFAULT_AUTH_FAILURE_LIMIT = 30  # refused (401) requests per client address per window
DEFAULT_RATE_WINDOW_SECONDS = 60


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate_request() -> User:
    """The token's user, after counting this request; 401 or 429 otherwise.

    The counts and last_used_at are committed at once, in a transaction of their own, so
    a request that is later refused still counts, and business work starts afresh.
    """
    session = get_session()
    seconds = current_app.config.get("API_RATE_WINDOW_SECONDS", DEFAULT_RATE_WINDOW_SECONDS)
    failure_limit = current_app.config.get("API_AUTH_FAILURE_LIMIT", DEFAULT_AUTH_FAILURE_LIMIT)
    now = now_utc()
    address = f"addr:{request.remote_addr or 'unknown'}"[:80]
    refused, retry_after = current_count(session, address, now, window_seconds=seconds)
    if refused >= failure_limit:
        session.rollback()
        raise RateLimited(
            f"Too many requests without a valid token came from your address: at most "
            f"{failure_limit} every {seconds} seconds. Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    secret = bearer_secret()
    token = find_usable_token(session, secret) if secret is not None else None
    if token is None:
        session.rollback()
        count_request(session, address, now, window_seconds=seconds)
        session.commit()
        if secret is None:
            raise Unauthenticated("Send a personal API token: Authorization: Bearer pt_...")
        raise Unauthenticated("That API token is not valid, or it was revoked or has expired.")
    limit = current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    user_id = token.user_id
    count, retry_after = count_request(session, f"user:{user_id}", now, window_seconds=seconds)
    token.last_used_at = now
    session.commit()
    if count > limit:
        raise RateLimited(
            f"Your tokens may make {limit} requests every {seconds} seconds, all of them "
            f"together. Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    return session.get(User, user_id)
