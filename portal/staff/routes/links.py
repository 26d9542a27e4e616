"""Where a task is worked, for every template: `task_link(task)`."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user


def task_link(task) -> str | None:
    """A case's task: the case page; a case's or an order's back-office work order:
    its page; an appointment's task (for schedulers): the appointment; else None."""
    if task.case_id is not None:
        return url_for("cases.case_page", case_id=task.case_id)
    work_order = task.work_order
    if work_order is not None and work_order.owner_kind == "case":
        return url_for("cases.work_order_page", work_order_id=work_order.id)
    if (
        work_order is not None
        and work_order.owner_kind == "order"
        and task.agent_id is None
        and task.appointment_id is None
    ):
        return url_for("orders.order_work_page", work_order_id=work_order.id)
    if task.appointment_id is not None and current_user.has_role("scheduler"):
        return url_for("staff.appointment", appointment_id=task.appointment_id)
    return None


def context() -> dict:
    return {"task_link": task_link}
