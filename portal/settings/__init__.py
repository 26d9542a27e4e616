"""The settings blueprint; its views live in routes.py, imported by the app factory."""

from flask import Blueprint

bp = Blueprint("settings", __name__)
