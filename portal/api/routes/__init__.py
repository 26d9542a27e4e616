"""The API's views, one module per area, and `init_app`, which the app factory calls to
register them with the token settings pages."""

from __future__ import annotations

from flask import Flask

from portal.api import bp
from portal.api.errors import register_api_error_handlers
from portal.api.pages import bp as pages_bp
from portal.api.routes import (  # noqa: F401  (views on bp)
    appointments,
    cases,
    catalogue,
    docs,
    imports,
    orders,
    staff,
)
from portal.extensions import csrf


def init_app(app: Flask) -> None:
    """Register the API (exempt from CSRF: it accepts no cookie) and the token pages."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    register_api_error_handlers(app)


@bp.after_request
def _never_cached(response):
    # Answers carry personal data and are made for one token: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
