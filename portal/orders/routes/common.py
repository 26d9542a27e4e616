"""What the team's order pages share: the guard (schedulers and up, and back-office
members of the Orders queue; anyone else 403) and loading the order (404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.db import get_session
from portal.orders.models import Order
from portal.orders.queries import may_handle_orders
from portal.orders.reading import order_for_team


def orders_team_required(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not may_handle_orders(get_session(), current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def order_handler() -> bool:
    """May the logged-in user work orders (the nav asks)."""
    return may_handle_orders(get_session(), current_user)


def load_order(order_id: int) -> Order:
    return order_for_team(get_session(), order_id)
