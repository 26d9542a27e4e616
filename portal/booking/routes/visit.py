"""The visit link's pages (no log-in: the secret in the URL is the credential): the work
order's free windows, a confirm step, and the booking of that same work order. A link
that no longer books (unknown, expired, revoked, used) gets a page saying so, with the
booking when there is one. Every request is counted against the link (and an unknown
token against the address) by the rate limiter."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from portal.booking.forms import VisitConfirmForm
from portal.booking.models import Service, VisitLink
from portal.booking.queries import parse_week, week_view
from portal.booking.services import WindowTaken
from portal.booking.visit_links import (
    RATE_LIMIT,
    RATE_WINDOW_SECONDS,
    REFUSAL_LIMIT,
    VisitLinkClosed,
    book_from_link,
    open_visit_link,
    visit_state,
)
from portal.booking.windows import location_zone, window_end
from portal.db import commit, get_session, rollback_request_session
from portal.errors import PortalError
from portal.formatting import org_zone
from portal.ratelimit import RateLimited
from portal.timeutil import now_utc, parse_instant
from portal.workorders.models import WorkOrder


def _open(token: str) -> VisitLink | Response:
    """The token's link after counting the request, or the page that refuses it."""
    config = current_app.config
    try:
        link = open_visit_link(
            get_session(),
            token,
            client=request.remote_addr or "unknown",
            now=now_utc(),
            limit=config.get("VISIT_LINK_RATE_LIMIT", RATE_LIMIT),
            refusal_limit=config.get("VISIT_LINK_REFUSAL_LIMIT", REFUSAL_LIMIT),
            window_seconds=config.get("VISIT_LINK_RATE_WINDOW_SECONDS", RATE_WINDOW_SECONDS),
        )
    except RateLimited as err:
        commit()  # a refused request counts too
        response = _closed(err.message, status=429)
        response.headers["Retry-After"] = str(err.retry_after)
        return response
    commit()
    if link is None:
        return _closed("This link is not valid. Check that you copied all of it.", status=404)
    return link


def _closed(message: str, *, status: int, appointment=None) -> Response:
    page = render_template("booking/visit_closed.html", message=message, appt=appointment)
    return Response(page, status=status)


def _live(token: str, *, partial: bool = False):
    """(link, work order, service), or the page (or, for the windows list, the
    `partial`) saying why the link no longer books."""
    link = _open(token)
    if isinstance(link, Response):
        return link
    session = get_session()
    state = visit_state(session, link, now_utc())
    if not state.live:
        if partial:  # swapped in for the list (htmx swaps only a 200), which stops polling
            page = render_template(
                "booking/visit_windows_closed.html", message=state.message, token=token
            )
            return Response(page)
        status = 200 if state.state == "booked" else 410
        return _closed(state.message, status=status, appointment=state.appointment)
    return link, session.get(WorkOrder, link.work_order_id), session.get(Service, link.service_id)


def _links(token: str) -> dict:
    return {
        "week_url": lambda week: url_for("booking.visit", token=token, week=str(week)),
        "refresh_url": lambda week: url_for("booking.visit_windows", token=token, week=str(week)),
        "slot_url": lambda w: url_for(
            "booking.visit_confirm", token=token, start=w.starts_at.isoformat()
        ),
    }


def _week(work_order: WorkOrder, service: Service):
    asked = parse_week(request.args.get("week"))
    return week_view(
        get_session(), service, work_order.location, asked, now_utc(), org_zone=org_zone()
    )


def visit(token: str):
    opened = _live(token)
    if isinstance(opened, Response):
        return opened
    link, work_order, service = opened
    return render_template(
        "booking/visit.html",
        link=link,
        work_order=work_order,
        service=service,
        location=work_order.location,
        week=_week(work_order, service),
        **_links(token),
    )


def visit_windows(token: str):
    """The live list alone: htmx polls this, and it replaces itself."""
    opened = _live(token, partial=True)
    if isinstance(opened, Response):
        return opened
    _link, work_order, service = opened
    return render_template(
        "booking/_windows.html",
        service=service,
        location=work_order.location,
        week=_week(work_order, service),
        **_links(token),
    )


def visit_confirm(token: str):
    opened = _live(token)
    if isinstance(opened, Response):
        return opened
    link, work_order, service = opened
    start = parse_instant(request.values.get("start"))
    if start is None:
        return redirect(url_for("booking.visit", token=token))
    form = VisitConfirmForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    taken: WindowTaken | None = None
    refused: str | None = None
    if form.validate_on_submit():
        try:
            book_from_link(
                get_session(),
                link,
                start,
                note=form.note.data or "",
                idempotency_key=form.idempotency_key.data,
                org_zone=org_zone(),
            )
        except WindowTaken as err:
            rollback_request_session()  # the link's claim goes with it
            taken = err
        except VisitLinkClosed:
            rollback_request_session()
            return redirect(url_for("booking.visit", token=token))
        except PortalError as err:
            rollback_request_session()
            refused = err.message
        else:
            commit()
            return redirect(url_for("booking.visit", token=token))
        session = get_session()
        work_order = session.get(WorkOrder, work_order.id)
        service = session.get(Service, service.id)
    return _confirm_page(token, form, work_order, service, start, taken, refused)


def _confirm_page(token, form, work_order, service, start: datetime, taken, refused):
    location = work_order.location
    zone = location_zone(location)
    status = 409 if taken else (422 if form.errors or refused else 200)
    return render_template(
        "booking/visit_confirm.html",
        token=token,
        form=form,
        refused=refused,
        taken=taken,
        work_order=work_order,
        service=service,
        location=location,
        start=start,
        zone=zone,
        end=window_end(get_session(), start, zone),
        slot_url=_links(token)["slot_url"],
    ), status


def _no_store_for_visit_pages(response):
    # The pages open a booking without a password: no cache or history may keep them.
    if (request.endpoint or "").startswith("booking.visit"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def register(bp: Blueprint) -> None:
    """The visit link's pages: the windows, the list alone (htmx), the confirm step."""
    bp.after_request(_no_store_for_visit_pages)
    bp.add_url_rule("/visit/<token>", view_func=visit)
    bp.add_url_rule("/visit/<token>/windows", view_func=visit_windows)
    bp.add_url_rule("/visit/<token>/confirm", view_func=visit_confirm, methods=["GET", "POST"])
