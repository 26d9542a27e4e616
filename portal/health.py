"""`/healthz`: answers 200 only when the database answers a query."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from portal.db import get_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        get_session().execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="error", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
