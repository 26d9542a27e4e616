"""The JSON API under /api/v1: personal tokens, the same services and rules as the pages.

This package holds the blueprint every view registers on; the views themselves are in
`portal.api.routes`, whose `init_app` the app factory calls. Importing the package (or
its models) never drags the web layer in.
"""

from __future__ import annotations

from flask import Blueprint

API_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
