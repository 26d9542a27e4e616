"""The settings blueprint, one module per area: the overview, services and the booking
policy (overview.py); agents; skills, territories and holidays (catalogues.py); staff
users; queues; webhooks; the scheduler's disruptions page; the audit log; business-hours
calendars and entitlement processes (calendars.py, entitlements.py); rules and their e-mail
templates (rules.py); products and the decision table (orders.py). Each module names its
own URLs in `register(bp)`."""

from flask import Blueprint

from portal.settings.routes import (
    agents,
    audit,
    calendars,
    catalogues,
    disruptions,
    entitlements,
    orders,
    overview,
    queues,
    rules,
    users,
    webhooks,
)

bp = Blueprint("settings", __name__)
for area in (
    overview,
    agents,
    audit,
    calendars,
    catalogues,
    disruptions,
    entitlements,
    orders,
    queues,
    rules,
    users,
    webhooks,
):
    area.register(bp)
