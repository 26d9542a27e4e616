"""Imports every model so the mapper registry and Alembic see the whole schema."""

from portal.accounts.models import (
    Contact,
    CustomerAccount,
    LoginAttempt,
    ServiceLocation,
    User,
    UserSession,
)
from portal.api.models import ApiToken
from portal.audit.models import AuditEntry
from portal.booking.models import Appointment, AppointmentHold, BookingPolicy, Service, SignOff
from portal.calendar_feeds.models import CalendarFeed
from portal.db import Base
from portal.notifications.models import Notification, OutboxMessage
from portal.ratelimit import RateCounter
from portal.reports.models import ReportRun, ReportSubscription
from portal.webhooks.models import WebhookAttempt, WebhookEndpoint
from portal.workforce.models import (
    Agent,
    Holiday,
    PostalPrefix,
    Skill,
    Territory,
    TimeOff,
    WorkingHours,
)
from portal.workorders.models import TimelineEntry, WorkOrder, WorkOrderTask

__all__ = [
    "Agent",
    "ApiToken",
    "Appointment",
    "AppointmentHold",
    "AuditEntry",
    "Base",
    "BookingPolicy",
    "CalendarFeed",
    "Contact",
    "CustomerAccount",
    "Holiday",
    "LoginAttempt",
    "Notification",
    "OutboxMessage",
    "PostalPrefix",
    "RateCounter",
    "ReportRun",
    "ReportSubscription",
    "Service",
    "ServiceLocation",
    "SignOff",
    "Skill",
    "Territory",
    "TimeOff",
    "TimelineEntry",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WorkOrder",
    "WorkOrderTask",
    "WorkingHours",
]
