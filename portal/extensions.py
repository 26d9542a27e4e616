"""The Flask extensions every floor may use, created once and bound by the app factory."""

from __future__ import annotations

from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()
