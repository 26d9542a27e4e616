"""Webhooks: managers register URLs that hear of appointment and work-order events, see
each endpoint's secret once (and rotate it), pause, remove or ping it, and read what the
receiver answered to each delivery."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from portal.access import role_required
from portal.db import commit, get_session
from portal.errors import PortalError
from portal.notifications.services import MAX_ATTEMPTS
from portal.settings.forms import ActionForm
from portal.settings.helpers import check_action_form, load_or_404, me, refuse, status
from portal.webhooks import services as hooks
from portal.webhooks.delivery import DEADLINE_SECONDS
from portal.webhooks.forms import EndpointForm
from portal.webhooks.models import WEBHOOK_EVENTS, WebhookEndpoint


@role_required("manager")
def webhooks():
    form, error = EndpointForm(), None
    if form.validate_on_submit():
        try:
            endpoint = hooks.create_endpoint(
                get_session(),
                url=form.url.data,
                events=form.events.data,
                description=form.description.data or "",
                created_by=me(),
                allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE"],
            )
        except PortalError as err:
            error = refuse(form, err)
        else:
            commit()
            # The secret is shown on this answer; afterwards only its first characters.
            return _endpoint_page(endpoint, secret=endpoint.secret, status=201)
    return render_template(
        "settings/webhooks.html",
        endpoints=hooks.list_endpoints(get_session()),
        form=form,
        event_names=WEBHOOK_EVENTS,
        error=error,
    ), status(form, error)


def _load(endpoint_id: int) -> WebhookEndpoint:
    return load_or_404(WebhookEndpoint, endpoint_id)


def _endpoint_page(endpoint: WebhookEndpoint, *, secret: str | None = None, status: int = 200):
    return render_template(
        "settings/webhooks_endpoint.html",
        endpoint=endpoint,
        deliveries=hooks.recent_deliveries(get_session(), endpoint),
        event_names=WEBHOOK_EVENTS,
        action_form=ActionForm(formdata=None),
        secret=secret,
        timeout=DEADLINE_SECONDS,
        max_attempts=MAX_ATTEMPTS,
    ), status


@role_required("manager")
def webhook(endpoint_id: int):
    return _endpoint_page(_load(endpoint_id))


def _checked_action(endpoint_id: int) -> WebhookEndpoint:
    endpoint = _load(endpoint_id)
    check_action_form()
    return endpoint


@role_required("manager")
def webhook_rotate(endpoint_id: int):
    endpoint = _checked_action(endpoint_id)
    secret = hooks.rotate_secret(get_session(), endpoint, by=me())
    commit()
    return _endpoint_page(endpoint, secret=secret)


@role_required("manager")
def webhook_pause(endpoint_id: int):
    return _switch(endpoint_id, False, "paused: nothing is sent to it until you resume it")


@role_required("manager")
def webhook_resume(endpoint_id: int):
    return _switch(endpoint_id, True, "active again: new events are sent to it")


def _switch(endpoint_id: int, active: bool, now: str):
    endpoint = _checked_action(endpoint_id)
    hooks.set_active(get_session(), endpoint, active, by=me())
    commit()
    flash(f"The endpoint is {now}.", "success")
    return redirect(url_for("settings.webhook", endpoint_id=endpoint.id))


@role_required("manager")
def webhook_ping(endpoint_id: int):
    endpoint = _checked_action(endpoint_id)
    try:
        hooks.queue_ping(get_session(), endpoint)
    except PortalError as err:
        flash(err.message, "error")
    else:
        commit()
        flash(
            "A test ping is queued: it goes out within a minute; its answer shows below.", "success"
        )
    return redirect(url_for("settings.webhook", endpoint_id=endpoint.id))


@role_required("manager")
def webhook_delete(endpoint_id: int):
    endpoint = _checked_action(endpoint_id)
    url = endpoint.url
    hooks.delete_endpoint(get_session(), endpoint, by=me())
    commit()
    flash(f"The endpoint {url} was removed with its delivery log.", "success")
    return redirect(url_for("settings.webhooks"))


def register(bp: Blueprint) -> None:
    """Webhook endpoints and their actions."""
    bp.add_url_rule("/webhooks", view_func=webhooks, methods=["GET", "POST"])
    bp.add_url_rule("/webhooks/<int:endpoint_id>", view_func=webhook)
    bp.add_url_rule(
        "/webhooks/<int:endpoint_id>/rotate", view_func=webhook_rotate, methods=["POST"]
    )
    bp.add_url_rule("/webhooks/<int:endpoint_id>/pause", view_func=webhook_pause, methods=["POST"])
    bp.add_url_rule(
        "/webhooks/<int:endpoint_id>/resume", view_func=webhook_resume, methods=["POST"]
    )
    bp.add_url_rule("/webhooks/<int:endpoint_id>/ping", view_func=webhook_ping, methods=["POST"])
    bp.add_url_rule(
        "/webhooks/<int:endpoint_id>/delete", view_func=webhook_delete, methods=["POST"]
    )
