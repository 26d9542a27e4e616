from __future__ import annotations

from flask import render_template

from portal.accounts.access import role_required
from portal.settings import bp


@bp.get("/")
@role_required("manager")
def index():
    return render_template("settings/index.html")
