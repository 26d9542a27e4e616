"""`/healthz`: answers 200 only when the database answers a query.

It also says what the app's clock reads (`now`), so clock skew between machines (or a
fake clock in a test run) shows at a glance.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from portal.db import get_session
from portal.timeutil import now_utc

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        get_session().execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="error", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", now=now_utc().isoformat(timespec="seconds"))
