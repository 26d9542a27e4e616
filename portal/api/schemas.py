"""The shapes the API takes and gives: pydantic models, and functions that turn our
records into them. Input models only say what well-formed input looks like; every rule
that needs the database stays in the services. An appointment, its tasks and its work
order have the public shape webhooks send too (portal/booking/shapes.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from portal.availability.engine import Window
from portal.booking.models import APPOINTMENT_STATES
from portal.booking.shapes import AppointmentOut, WorkOrderOut
from portal.ids import MAX_ID
from portal.pagination import Page
from portal.timeutil import is_valid_zone, to_local
from portal.workorders.models import WORK_ORDER_STATES

MAX_RANGE_DAYS = 31
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
# The same years as patterns on the text, so the OpenAPI document says what _sane_instant
# and _sane_day refuse (JSON Schema cannot bound a date's value). Whole RFC 3339 values,
# not a prefix: a generator that draws from the pattern then draws real dates and times.
_DATE = r"(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DAY_PATTERN = rf"^{_DATE}$"
INSTANT_PATTERN = (
    rf"^{_DATE}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def _clean_text(value: str) -> str:
    """Text the database can store: no NUL and no lone surrogate (PostgreSQL refuses both)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _sane_instant(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _sane_day(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _zone_name(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError("must be an IANA time zone name, such as Europe/London")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, AfterValidator(_clean_text)]
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_sane_instant),
    Field(
        description=f"An instant with its UTC offset (RFC 3339), in the years "
        f"{EARLIEST_YEAR} to {LATEST_YEAR}.",
        json_schema_extra={"pattern": INSTANT_PATTERN},
    ),
]
Day = Annotated[
    date,
    AfterValidator(_sane_day),
    Field(json_schema_extra={"pattern": DAY_PATTERN}),
]
Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone_name)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- inputs ---------------------------------------------------------------------------------


class WindowsQuery(BaseModel):
    location: Id = Field(description="The service location (address) the work is at.")
    from_: Day = Field(
        alias="from",
        description="The first day: windows that start on it in `tz` are listed, and closed "
        "days are reported from this date at the location.",
    )
    to: Day = Field(
        description="The last day (at most 31 days after `from`), read as `from` is.",
    )
    tz: Zone | None = Field(
        default=None,
        description="The time zone for the windows' days and local times (closed days "
        "are always the location's dates); the location's own zone when left out.",
    )

    @model_validator(mode="after")
    def _range(self) -> WindowsQuery:
        if self.to < self.from_:
            raise ValueError("`to` must not come before `from`")
        if self.to - self.from_ > timedelta(days=MAX_RANGE_DAYS):
            raise ValueError(f"ask for at most {MAX_RANGE_DAYS} days at a time")
        return self


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=25, ge=1, le=100)


class AppointmentsQuery(PageQuery):
    status: Literal[APPOINTMENT_STATES] | None = None  # type: ignore[valid-type]
    account: Id | None = Field(default=None, description="Staff only: one customer account.")


class WorkOrdersQuery(PageQuery):
    status: Literal[WORK_ORDER_STATES] | None = None  # type: ignore[valid-type]


class SuggestionsQuery(BaseModel):
    days: int = Field(default=14, ge=1, le=28, description="How far ahead to look.")
    limit: int = Field(default=5, ge=1, le=20)


class PreferencesIn(Body):
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="0 is Monday, 6 is Sunday."
    )
    part_of_day: Literal["any", "morning", "afternoon", "evening"] = "any"
    earliest: Day | None = None
    agent_id: Id | None = None


class BookIn(Body):
    service_id: Id
    location_id: Id
    start: Instant = Field(description="The start of a window that GET .../windows offered.")
    note: Text = Field(default="", max_length=2000)
    contact_id: Id | None = Field(
        default=None, description="Schedulers: the customer contact to book for."
    )
    preferences: PreferencesIn | None = None


class RescheduleIn(Body):
    start: Instant = Field(description="The start of a free window.")
    reason: Text = Field(default="", max_length=1000, description="Staff: why (recorded).")


class CancelIn(Body):
    reason: Text = Field(min_length=1, max_length=1000)


class DeclineIn(Body):
    reason: Text = Field(default="", max_length=1000)


class SignOffIn(Body):
    full_name: Text = Field(
        min_length=2,
        max_length=120,
        description="Typed as a signature: at least 2 characters besides spaces.",
    )
    consent: bool = Field(description="That the work was done: must be true.")
    signature_png: str | None = Field(
        default=None,
        max_length=300_000,
        description="A drawn signature: a PNG, base64-encoded.",
    )


class AssignIn(Body):
    agent_id: Id
    note: Text = Field(default="", max_length=1000)


# --- outputs --------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class WindowOut(BaseModel):
    start: datetime = Field(description="Start of the arrival window, UTC.")
    end: datetime
    local_start: datetime = Field(description="The same instant in the asked time zone.")
    local_end: datetime
    capacity: int = Field(description="How many more bookings the window could take.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable: programs may switch on it.")
    detail: str = Field(description="For people.")
    field: str | None = Field(description="The input at fault, when one is.")
    errors: list[FieldError] = Field(default_factory=list)
    alternatives: list[WindowOut] | None = Field(
        default=None, description="window_taken: the nearest windows still free."
    )


class MeOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    account_id: int | None
    time_zone: str


class ServiceOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    duration_minutes: int
    agents_needed: int


class ServiceList(BaseModel):
    items: list[ServiceOut]


class LocationOut(BaseModel):
    id: int
    label: str
    street: str
    city: str
    postal_code: str
    country: str
    time_zone: str | None = Field(description="Where windows are shown; null if not served.")


class LocationList(BaseModel):
    items: list[LocationOut]


class ClosedDay(BaseModel):
    date: date
    reason: str = Field(description="Stable: past, holiday, notice, horizon, no_agent, ...")
    message: str = Field(description="The reason in words.")


class WindowList(BaseModel):
    service_id: int
    location_id: int
    time_zone: str = Field(description="The zone of the local times.")
    location_time_zone: str
    windows: list[WindowOut]
    closed_days: list[ClosedDay] = Field(
        description="The location's own dates from `from` to `to` that have no window in "
        "their whole day (in the location's zone, whatever `tz` is), and why."
    )
    next_free: WindowOut | None = Field(
        description="The first bookable window from the start of `from` (in `tz`) on, "
        "wherever it is before the booking horizon: the first of `windows`, or, when they "
        "are empty, the one after `to` to ask for next. Null when nothing is free before "
        "the horizon."
    )


class AppointmentPage(BaseModel):
    items: list[AppointmentOut]
    page: int
    pages: int
    total: int


class SuggestionOut(BaseModel):
    window: WindowOut
    score: float
    explanation: str
    keeps_agents: bool


class SuggestionList(BaseModel):
    appointment_id: int
    items: list[SuggestionOut]


class WorkOrderPage(BaseModel):
    items: list[WorkOrderOut]
    page: int
    pages: int
    total: int


Listing = TypeVar("Listing", AppointmentPage, WorkOrderPage)


class TimelineEntryOut(BaseModel):
    id: int
    at: datetime
    subject_type: str
    subject_id: int
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    note: str
    visibility: Literal["internal", "customer"]
    actor_name: str | None


class Timeline(BaseModel):
    work_order_id: int
    items: list[TimelineEntryOut]


# --- records to shapes ----------------------------------------------------------------------


def page_out(model: type[Listing], found: Page, shape: Callable[[Any], BaseModel]) -> Listing:
    """One page of a listing (`found`) in its API shape, each row through `shape`."""
    return model(
        items=[shape(row) for row in found.items],
        page=found.number,
        pages=found.pages,
        total=found.total,
    )


def window_out(window: Window, zone: str | None) -> WindowOut:
    zone = zone or "UTC"
    return WindowOut(
        start=window.starts_at,
        end=window.ends_at,
        local_start=to_local(window.starts_at, zone),
        local_end=to_local(window.ends_at, zone),
        capacity=window.capacity,
    )
