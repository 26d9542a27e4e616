from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from portal.accounts.access import customer_required
from portal.booking import bp
from portal.booking.queries import list_account_appointments
from portal.db import get_session
from portal.timeutil import now_utc


def _account_id() -> int:
    if current_user.account_id is None:
        abort(403)
    return current_user.account_id


@bp.get("/appointments")
@customer_required
def home():
    appointments = list_account_appointments(get_session(), _account_id(), now_utc())
    return render_template("booking/home.html", appointments=appointments)
