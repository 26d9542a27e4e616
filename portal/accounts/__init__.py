"""The accounts blueprint; its views live in routes.py, imported by the app factory so that
importing a model or a service never drags the web layer (and its import cycles) in."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
