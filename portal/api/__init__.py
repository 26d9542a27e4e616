"""The JSON API under /api/v1: personal tokens, the same services and rules as the pages.

`init_app` (called by the app factory) registers the API and the token settings pages;
importing this package never drags the web layer in, so models can import it freely.
"""

from __future__ import annotations

from flask import Blueprint, Flask

API_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def init_app(app: Flask) -> None:
    """Register the API (exempt from CSRF: it accepts no cookie) and the token pages."""
    from portal.api import routes  # noqa: F401  (registers the views on bp)
    from portal.api.errors import register_api_error_handlers
    from portal.api.pages import bp as pages_bp

    app.extensions["csrf"].exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    register_api_error_handlers(app)
