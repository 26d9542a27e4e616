"""Calendar feeds: each customer and agent may subscribe to an .ics URL of their
appointments; the secret in the URL is the credential, and it can be reset."""

from flask import Blueprint

bp = Blueprint("calendar_feeds", __name__)
