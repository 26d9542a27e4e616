"""The notifications blueprint (the user's notices, the admin's view of sent mail); its
views live in routes.py, imported by the app factory, so that importing a model or a
service never drags the web layer in."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)
