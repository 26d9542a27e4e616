from __future__ import annotations

from flask import render_template

from portal.accounts.access import role_required
from portal.dispatch import bp


@bp.get("/")
@role_required("scheduler")
def board():
    return render_template("dispatch/board.html")
