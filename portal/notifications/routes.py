"""The user's notification list, and the outbox for managers and admins: every e-mail
the portal queued, readable with its private links (reset, invitation, manage...)
redacted: only the recipient may ever hold one (issue #12, finding 1). Under the
development setting MAIL_VIEWER_SHOWS_LINKS admins see them, so a newcomer running
`make run` can follow them."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal.access import role_required
from portal.db import commit, get_session
from portal.extensions import htmx
from portal.notifications import bp
from portal.notifications.models import OUTBOX_STATES, OutboxMessage
from portal.notifications.private_links import is_redacted, redact, unfold, viewer_sees_links
from portal.notifications.rendering import linkify
from portal.notifications.services import (
    list_notifications,
    list_outbox,
    mark_all_read,
    newest_notification_id,
    outbox_counts,
    unread_count,
)

PER_PAGE = 25


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/notifications")
@login_required
def index():
    """The list, read only: a GET changes nothing (a prefetch or a crawler following
    the nav link must not mark anything read); "Mark all as read" is a POST."""
    return render_template("notifications/index.html", **_list_context())


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark read what the viewer was shown: notices up to the newest one when the page
    was drawn (`up_to`), so one that arrived since stays new. htmx gets the list back."""
    up_to = request.form.get("up_to", type=int)
    mark_all_read(get_session(), current_user.id, up_to_id=up_to)
    commit()
    g.pop("unread_notifications", None)  # counted again for the nav
    if htmx:
        return render_template("notifications/_read_response.html", **_list_context())
    return redirect(url_for("notifications.index", page=_page_number()))


def _list_context() -> dict:
    session = get_session()
    page = list_notifications(session, current_user.id, page=_page_number(), per_page=PER_PAGE)
    return {
        "page": page,
        "unread_ids": {n.id for n in page.items if n.read_at is None},
        "newest_id": newest_notification_id(session, current_user.id),
    }


@bp.get("/admin/mail")
@role_required("manager")
def mail_list():
    status = request.args.get("status", "")
    if status and status not in OUTBOX_STATES:
        abort(404)
    session = get_session()
    page = list_outbox(session, status=status or None, page=_page_number(), per_page=PER_PAGE)
    return render_template(
        "admin/mail_list.html",
        page=page,
        status=status,
        counts=outbox_counts(session),
        links_shown=viewer_sees_links(current_user, current_app.config),
    )


@bp.get("/admin/mail/<int:message_id>")
@role_required("manager")
def mail_detail(message_id: int):
    message = get_session().get(OutboxMessage, message_id)
    if message is None or message.channel != "email":
        abort(404)
    return render_template(
        "admin/mail_detail.html",
        message=message,
        links_shown=viewer_sees_links(current_user, current_app.config),
    )


@bp.app_template_filter("linkify")
def linkify_filter(text: str):
    return linkify(text, breakable=True, link_if=lambda url: not is_redacted(url))


@bp.app_template_filter("private")
def private_filter(text: str | None, shown: bool = False) -> str:
    """The text with its private links redacted, unless this viewer may see them."""
    return (text or "") if shown else redact(text or "")


@bp.app_template_filter("unfold")
def unfold_filter(ics: str | None) -> str:
    return unfold(ics or "")


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
