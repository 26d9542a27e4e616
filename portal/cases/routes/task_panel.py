"""The case page's task panel: the open task (for whom, when due, overdue marked), its
Complete and "Complete and create the next task" forms, the Take button for a task that
waits in a queue, and the tasks done. The services are portal/cases/tasks.py; the case
page's one action route (portal/cases/routes/team.py) posts here."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from wtforms import SelectChoice

from portal.accounts.models import User
from portal.cases import tasks
from portal.cases.models import Case
from portal.cases.task_forms import CompleteTaskForm, NextTaskForm, TakeTaskForm
from portal.errors import Conflict, Invalid, NotFound
from portal.ids import parse_id
from portal.queues.services import may_work
from portal.timeutil import now_utc
from portal.workorders.models import WorkOrderTask
from portal.workorders.queue_tasks import take_task

ACTIONS = ("complete_task", "next_task", "take_task")


@dataclass(frozen=True)
class Panel:
    task: WorkOrderTask | None
    holder: str = ""
    overdue: bool = False
    may_work: bool = False
    may_take: bool = False
    done: list[WorkOrderTask] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # user id -> name, for the done list


def context(session: so.Session, case: Case, user: User) -> Panel:
    task = tasks.open_task(session, case)
    done = list(
        session.scalars(
            sa.select(WorkOrderTask)
            .where(WorkOrderTask.case_id == case.id, WorkOrderTask.status == "done")
            .order_by(WorkOrderTask.completed_at.desc(), WorkOrderTask.id.desc())
        )
    )
    ids = {t.completed_by_id for t in done if t.completed_by_id}
    names = (
        dict(session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    if task is None:
        return Panel(None, done=done, names=names)
    return Panel(
        task,
        holder=holder_name(task),
        overdue=task.due_at is not None and task.due_at < now_utc(),
        may_work=tasks.may_work_task(session, case, task, user),
        may_take=task.queue is not None and may_work(session, task.queue, user),
        done=done,
        names=names,
    )


def holder_name(task: WorkOrderTask) -> str:
    if task.user is not None:
        return task.user.full_name
    return f"{task.queue.name} (queue)" if task.queue is not None else ""


def forms(session: so.Session, case: Case, user: User, formdata, only: str | None) -> dict:
    task = tasks.open_task(session, case)
    task_id = str(task.id) if task is not None else ""

    def make(name, cls):
        form = cls(formdata=formdata if only == name else None)
        if only != name:
            form.task.data = task_id
        return form

    made = {name: make(name, cls) for name, cls in _FORMS.items()}
    made["next_task"].assignee.choices = [
        SelectChoice(value, label)
        for value, label in tasks.next_task_choices(session, case, task, user)
    ]
    if only != "next_task":
        made["next_task"].assignee.data = tasks.FOR_ME
    return made


_FORMS = {"complete_task": CompleteTaskForm, "next_task": NextTaskForm, "take_task": TakeTaskForm}


def perform(session: so.Session, case: Case, action: str, form, user: User) -> str:
    task = _the_task(session, case, form.task.data)
    if action == "take_task":
        if task.queue is None or not may_work(session, task.queue, user):
            raise NotFound("There is no such task.")
        take_task(session, task, user)
        return f"You took “{task.title}”: it is in your tasks now."
    if not tasks.may_work_task(session, case, task, user):
        raise NotFound("There is no such task.")
    if action == "complete_task":
        tasks.complete_task(session, task, by=user, note=form.note.data or "")
        return f"“{task.title}” completed."
    due_at = tasks.due_at_end_of_day(form.due.data, user.time_zone)
    if due_at < now_utc():
        raise Invalid("Choose today or a later day.", field="due")
    created = tasks.complete_task(
        session,
        task,
        by=user,
        note=form.note.data or "",
        next=tasks.NextTask(form.title.data, due_at, form.assignee.data),
    )
    return f"“{task.title}” completed; “{created.title}” is for {holder_name(created)} now."


def _the_task(session: so.Session, case: Case, raw: str | None) -> WorkOrderTask:
    """The case's open task, when it is the one the page showed."""
    task = tasks.open_task(session, case)
    if task is None:
        raise Conflict("This case has no open task now (it was completed meanwhile).")
    if parse_id(raw or "") != task.id:
        raise Conflict("The case's task changed since the page was shown: see it now.")
    return task
