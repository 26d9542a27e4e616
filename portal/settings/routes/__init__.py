"""The settings blueprint, one module per area: the overview, services and the booking
policy (overview.py); agents; skills, territories and holidays (catalogues.py); staff
users; webhooks; the scheduler's disruptions page; the audit log; business-hours calendars
and entitlement processes (calendars.py, entitlements.py). Each module names its
own URLs in `register(bp)`."""

from flask import Blueprint

from portal.settings.routes import (
    agents,
    audit,
    calendars,
    catalogues,
    disruptions,
    entitlements,
    overview,
    users,
    webhooks,
)

bp = Blueprint("settings", __name__)
for area in (overview, agents, audit, catalogues, disruptions, users, webhooks):
    area.register(bp)
for area in (calendars, entitlements):  # #14: business hours and SLA processes
    area.register(bp)
