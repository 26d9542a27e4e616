"""The order pages: the team's (`bp`: /orders, for schedulers and up and the Orders
queue's back office) and the customer's read-only view (`customer_bp`: /my-orders).
Each module names its own URLs in `register(bp)`."""

from flask import Blueprint

from portal.orders.routes import customer, lines, staff, work

bp = Blueprint("orders", __name__)
staff.register(bp)
lines.register(bp)
work.register(bp)

customer_bp = Blueprint("my_orders", __name__, url_prefix="/my-orders")
customer.register(customer_bp)
