"""The case pages: the team's (`bp`: /cases, and /back-office for the work handed to a
queue) and the customer's Support area (`support_bp`: /support). Each module names its
own URLs in `register(bp)`."""

from flask import Blueprint

from portal.cases.routes import backoffice, customer, team

bp = Blueprint("cases", __name__)
team.register(bp)
backoffice.register(bp)

support_bp = Blueprint("support", __name__, url_prefix="/support")
customer.register(support_bp)
