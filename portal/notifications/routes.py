"""The user's notification list, and the outbox for admins: every e-mail the portal
queued, readable with its links, so a newcomer running `make run` can follow them."""

from __future__ import annotations

from flask import abort, g, has_request_context, render_template, request
from flask_login import current_user, login_required

from portal.accounts.access import role_required
from portal.db import commit, get_session
from portal.notifications import bp
from portal.notifications.models import OUTBOX_STATES, OutboxMessage
from portal.notifications.rendering import linkify
from portal.notifications.services import (
    list_notifications,
    list_outbox,
    mark_all_read,
    outbox_counts,
    unread_count,
)

PER_PAGE = 25


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/notifications")
@login_required
def index():
    session = get_session()
    page = list_notifications(session, current_user.id, page=_page_number(), per_page=PER_PAGE)
    # Opening the list reads it: the page still marks which ones were new.
    unread_ids = {n.id for n in page.items if n.read_at is None}
    if unread_notifications():
        mark_all_read(session, current_user.id)
        commit()
        g.unread_notifications = 0
    return render_template("notifications/index.html", page=page, unread_ids=unread_ids)


@bp.get("/admin/mail")
@role_required("manager")
def mail_list():
    status = request.args.get("status", "")
    if status and status not in OUTBOX_STATES:
        abort(404)
    session = get_session()
    page = list_outbox(session, status=status or None, page=_page_number(), per_page=PER_PAGE)
    return render_template(
        "admin/mail_list.html", page=page, status=status, counts=outbox_counts(session)
    )


@bp.get("/admin/mail/<int:message_id>")
@role_required("manager")
def mail_detail(message_id: int):
    message = get_session().get(OutboxMessage, message_id)
    if message is None or message.channel != "email":
        abort(404)
    return render_template("admin/mail_detail.html", message=message)


@bp.app_template_filter("linkify")
def linkify_filter(text: str):
    return linkify(text, breakable=True)


@bp.app_context_processor
def notification_helpers() -> dict:
    return {"unread_notifications": unread_notifications}


def unread_notifications() -> int:
    """The viewer's unread count: one COUNT per request, only when a page shows it."""
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(get_session(), current_user.id)
    return g.unread_notifications
