"""Queues, for managers: list them, add one, edit its name, description, lead and
business-hours calendar, add and remove members (staff or back-office users)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from wtforms import SelectChoice

from portal.access import role_required
from portal.accounts.models import User
from portal.db import commit, get_session
from portal.errors import Invalid, PortalError
from portal.queues import services as queues
from portal.queues.models import Queue
from portal.settings.forms import ActionForm, MemberForm, QueueForm
from portal.settings.helpers import check_action_form, load_or_404, refuse, save_form, status

ROLE_LABELS = {
    "agent": "agent",
    "scheduler": "scheduler",
    "manager": "manager",
    "admin": "admin",
    "backoffice": "back office",
}


def _person(user: User) -> str:
    return f"{user.full_name} ({ROLE_LABELS.get(user.role, user.role)})"


def _queue_form(session, **kwargs) -> QueueForm:
    form = QueueForm(**kwargs)
    form.lead_id.choices = [SelectChoice("", "No lead")] + [
        SelectChoice(str(u.id), _person(u)) for u in queues.candidates(session)
    ]
    form.calendar_id.choices = [SelectChoice("", "No calendar (around the clock)")] + [
        SelectChoice(str(c.id), f"{c.name} ({c.time_zone})") for c in queues.calendars(session)
    ]
    return form


def _member_form(session, queue: Queue, **kwargs) -> MemberForm:
    form = MemberForm(**kwargs)
    inside = {m.user_id for m in queue.members}
    form.user_id.choices = [SelectChoice("", "Choose a person")] + [
        SelectChoice(str(u.id), _person(u))
        for u in queues.candidates(session)
        if u.id not in inside
    ]
    return form


@role_required("manager")
def queues_page():
    session = get_session()
    return render_template("settings/queues.html", queues=queues.list_queues(session))


@role_required("manager")
def queue_new():
    session = get_session()
    form = _queue_form(session)
    done, error = save_form(
        form,
        lambda: queues.create_queue(
            session,
            name=form.name.data,
            description=form.description.data or "",
            lead_id=form.lead_id.data,
            calendar_id=form.calendar_id.data,
        ),
        lambda queue: f"Queue {queue.name} added. Now add its members.",
        lambda queue: url_for("settings.queue", queue_id=queue.id),
    )
    if done:
        return done
    page = render_template("settings/queue_form.html", form=form, queue=None, error=error)
    return page, status(form, error)


def _queue_page(queue: Queue, *, form=None, member_form=None, error=None):
    session = get_session()
    form = form or _queue_form(
        session,
        formdata=None,
        data={
            "name": queue.name,
            "description": queue.description,
            "lead_id": queue.lead_id,
            "calendar_id": queue.calendar_id,
        },
    )
    member_form = member_form or _member_form(session, queue, formdata=None)
    page = render_template(
        "settings/queue_form.html",
        form=form,
        queue=queue,
        members=queues.members_of(session, queue),
        member_form=member_form,
        action_form=ActionForm(),
        error=error,
    )
    return page, 422 if error or form.errors or member_form.errors else 200


@role_required("manager")
def queue(queue_id: int):
    """The queue's page; a POST saves its name, description, lead and calendar."""
    session = get_session()
    queue = load_or_404(Queue, queue_id)
    form = _queue_form(session)
    if not form.is_submitted():
        return _queue_page(queue)
    done, error = save_form(
        form,
        lambda: queues.update_queue(
            session,
            queue,
            name=form.name.data,
            description=form.description.data or "",
            lead_id=form.lead_id.data,
            calendar_id=form.calendar_id.data,
        ),
        lambda _: f"Queue {queue.name} saved.",
        url_for("settings.queue", queue_id=queue.id),
    )
    if done:
        return done
    session.refresh(queue)
    return _queue_page(queue, form=form, error=error)


@role_required("manager")
def queue_member_add(queue_id: int):
    session = get_session()
    queue = load_or_404(Queue, queue_id)
    form = _member_form(session, queue)
    error = None
    if form.validate_on_submit():
        try:
            user = session.get(User, form.user_id.data) if form.user_id.data else None
            if user is None:
                raise Invalid("Choose a person to add.", field="user_id")
            queues.add_member(session, queue, user)
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            flash(f"{user.full_name} is now a member of {queue.name}.", "success")
            return redirect(url_for("settings.queue", queue_id=queue.id))
    session.refresh(queue)
    return _queue_page(queue, member_form=form, error=error)


@role_required("manager")
def queue_member_remove(queue_id: int, user_id: int):
    session = get_session()
    queue = load_or_404(Queue, queue_id)
    user = load_or_404(User, user_id)
    form = check_action_form()
    try:
        queues.remove_member(session, queue, user)
    except PortalError as err:
        return _queue_page(queue, error=refuse(form, err))
    commit()
    flash(f"{user.full_name} left {queue.name}; tasks they took stay theirs.", "success")
    return redirect(url_for("settings.queue", queue_id=queue.id))


def register(bp: Blueprint) -> None:
    """Queues: list, add, edit, members."""
    bp.add_url_rule("/queues", endpoint="queues", view_func=queues_page)
    bp.add_url_rule("/queues/new", view_func=queue_new, methods=["GET", "POST"])
    bp.add_url_rule("/queues/<int:queue_id>", view_func=queue, methods=["GET", "POST"])
    bp.add_url_rule("/queues/<int:queue_id>/members", view_func=queue_member_add, methods=["POST"])
    bp.add_url_rule(
        "/queues/<int:queue_id>/members/<int:user_id>/remove",
        view_func=queue_member_remove,
        methods=["POST"],
    )
