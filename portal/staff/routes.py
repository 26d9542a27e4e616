from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.accounts.access import staff_required
from portal.db import get_session
from portal.staff import bp
from portal.workorders.services import list_my_tasks


@bp.get("/")
@staff_required
def home():
    return render_template("staff/home.html", my=list_my_tasks(get_session(), current_user))
