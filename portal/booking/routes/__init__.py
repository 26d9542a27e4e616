"""The booking blueprint: a customer's pages (pages.py: the list, booking a window, adding
an address) and what a customer does to one appointment, logged in or through its signed
link (actions.py). Each module names its own URLs in `register(bp)`."""

from flask import Blueprint

from portal.booking.routes import actions, pages

bp = Blueprint("booking", __name__)
pages.register(bp)
actions.register(bp)
