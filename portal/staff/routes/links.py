"""Links the team's pages share: a task's page, and links to pages other packages may or
may not have registered yet (the cases pages), found in the app's URL map instead of
assumed, so a page never breaks on a route that is not there."""

from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError


def url_if(endpoint: str, **values) -> str | None:
    """The endpoint's URL, or None when the app has no such route."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def path_if(path: str) -> str | None:
    """`path` when a GET route answers it, else None."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except HTTPException:
        return None
    return path


def task_link(task) -> str | None:
    """Where a task is worked: its case's page, a back-office work order's page, or (for
    schedulers) the appointment; None when there is no such page."""
    if task.case_id is not None:
        return url_if("cases.case_page", case_id=task.case_id) or path_if(f"/cases/{task.case_id}")
    work_order = task.work_order
    if work_order is not None and work_order.owner_kind == "case":
        return path_if(f"/back-office/work-orders/{work_order.id}")
    if task.appointment_id is not None and current_user.has_role("scheduler"):
        return url_for("staff.appointment", appointment_id=task.appointment_id)
    return None


def team_nav() -> dict[str, str | None]:
    """The pages the navigation offers a team user that may not exist yet."""
    found = url_if("cases.case_list") or url_if("cases.cases") or path_if("/cases")
    return {"cases": found}


def context() -> dict:
    return {"url_if": url_if, "task_link": task_link, "team_nav": team_nav}
