"""The settings blueprint, one module per area: the overview, services and the booking
policy (overview.py); agents; skills, territories and holidays (catalogues.py); staff
users; queues; webhooks; the scheduler's disruptions page; the audit log. Each module names its
own URLs in `register(bp)`."""

from flask import Blueprint

from portal.settings.routes import (
    agents,
    audit,
    catalogues,
    disruptions,
    overview,
    queues,
    users,
    webhooks,
)

bp = Blueprint("settings", __name__)
for area in (overview, agents, audit, catalogues, disruptions, queues, users, webhooks):
    area.register(bp)
