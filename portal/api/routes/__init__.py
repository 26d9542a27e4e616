"""The API's views, one module per area; importing this package registers them all."""

from portal.api import bp
from portal.api.routes import appointments, catalogue, docs, staff  # noqa: F401


@bp.after_request
def _never_cached(response):
    # Answers carry personal data and are made for one token: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
