"""The booking blueprint: a customer's pages (pages.py: the list, booking a window, adding
an address) and what a customer does to one appointment, logged in or through its signed
link (actions.py), and the pages a site contact books an order's visit on through the
e-mailed visit link (visit.py). Each module names its own URLs in `register(bp)`."""

from flask import Blueprint

from portal.booking.routes import actions, pages, visit

bp = Blueprint("booking", __name__)
pages.register(bp)
actions.register(bp)
visit.register(bp)
