"""Every package's models, so the mapper registry and Alembic see the whole schema.

A new package with tables adds its models module to MODULES; `Base.metadata` then holds
its tables for `portal make-migration` and for the migration test that compares the
models with the migrated schema.
"""

from portal import ratelimit
from portal.accounts import models as accounts
from portal.api import models as api
from portal.audit import models as audit
from portal.booking import models as booking
from portal.calendar_feeds import models as calendar_feeds
from portal.calendars import models as calendars
from portal.cases import models as cases
from portal.db import Base
from portal.imports import models as imports
from portal.notifications import models as notifications
from portal.orders import models as orders
from portal.queues import models as queues
from portal.reports import models as reports
from portal.rules import models as rules
from portal.sla import models as sla
from portal.webhooks import models as webhooks
from portal.workforce import models as workforce
from portal.workorders import models as workorders

MODULES = (
    accounts,
    api,
    audit,
    booking,
    calendar_feeds,
    calendars,
    cases,
    imports,
    notifications,
    orders,
    queues,
    ratelimit,
    reports,
    rules,
    sla,
    webhooks,
    workforce,
    workorders,
)

__all__ = ["MODULES", "Base"]
