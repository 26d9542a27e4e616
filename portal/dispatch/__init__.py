"""The dispatch blueprint; its views live in routes.py, imported by the app factory."""

from flask import Blueprint

bp = Blueprint("dispatch", __name__)
