"""The staff blueprint: "My tasks", every team user's home (home.py), and the scheduler's
console (console.py) with booking an existing work order on a contact's behalf
(work_order_booking.py), and the customer page's feed panel (feed.py); links.py gives every
template the team's shared links. Each module names its own URLs in `register(bp)`."""

from flask import Blueprint

from portal.staff.routes import console, feed, home, links, work_order_booking

bp = Blueprint("staff", __name__)
home.register(bp)
console.register(bp)
feed.register(bp)
work_order_booking.register(bp)
bp.app_context_processor(links.context)
