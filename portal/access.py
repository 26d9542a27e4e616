"""Guards for views: which role may open a page; records the viewer may not see are 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Log-in required, then 403 unless the user has one of `roles` (or outranks them)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


customer_required = role_required("customer")
staff_required = role_required("agent")
# Staff and back office: "My tasks", queues, cases.
team_required = role_required("agent", "backoffice")
