"""Who am I, what can be booked, where, and which windows are free."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import ServiceLocation, User
from portal.api.registry import ID, operation
from portal.api.routes.common import org_zone
from portal.api.schemas import (
    ClosedDay,
    LocationList,
    LocationOut,
    MeOut,
    ServiceList,
    ServiceOut,
    WindowList,
    WindowsQuery,
    window_out,
)
from portal.availability.engine import REASONS
from portal.booking.models import Service
from portal.booking.shapes import read_off
from portal.booking.windows import get_availability, location_zone, next_free_window
from portal.db import get_session
from portal.errors import NotFound
from portal.timeutil import local_day_bounds, now_utc


@operation("GET", "/me", summary="The token's user", tag="account", response=MeOut)
def me(user: User) -> MeOut:
    """Who this token acts as: its role and customer account decide what it may see."""
    return read_off(MeOut, user)


@operation(
    "GET", "/services", summary="List bookable services", tag="booking", response=ServiceList
)
def list_services(user: User) -> ServiceList:
    """Every service that can be booked now, by name."""
    services = get_session().scalars(
        sa.select(Service).where(Service.active).order_by(Service.name, Service.id)
    )
    return ServiceList(items=[read_off(ServiceOut, s) for s in services])


@operation(
    "GET",
    "/locations",
    summary="List your account's addresses",
    tag="booking",
    response=LocationList,
    roles=("customer",),
)
def list_locations(user: User) -> LocationList:
    """The service locations of the customer's account: book and query windows at these.
    A customer user without an account has none."""
    if user.account_id is None:
        return LocationList(items=[])
    locations = get_session().scalars(
        sa.select(ServiceLocation)
        .where(ServiceLocation.account_id == user.account_id)
        .order_by(ServiceLocation.id)
    )
    return LocationList(
        items=[
            read_off(LocationOut, loc, time_zone=loc.territory.time_zone if loc.territory else None)
            for loc in locations
        ]
    )


@operation(
    "GET",
    f"/services/<{ID}:service_id>/windows",
    summary="Free windows for a service",
    tag="booking",
    response=WindowList,
    roles=("customer", "scheduler"),
    query=WindowsQuery,
)
def list_windows(user: User, service_id: int, query: WindowsQuery) -> WindowList:
    """Bookable arrival windows for the service at the location that start from the first
    to the last day asked (whole days in `tz`), with local times in `tz`; and the closed
    days among the location's own dates `from` to `to`, each judged on its whole day in the
    location's zone (a day of service is the location's day). The same live availability
    the booking pages show. Customers ask for their own addresses; schedulers for any."""
    session = get_session()
    service = session.get(Service, service_id)
    if service is None or not service.active:
        raise NotFound("There is no such service.")
    location = session.get(ServiceLocation, query.location)
    if location is None or (not user.is_staff and location.account_id != user.account_id):
        raise NotFound("That address is not one of your account's addresses.")
    place_zone = location_zone(location)
    zone = query.tz or place_zone
    lo, hi = local_day_bounds(query.from_, zone)[0], local_day_bounds(query.to, zone)[1]
    # Closed days are judged on the location's whole days, which `tz`'s days cut across
    # when the zones differ: one engine pass over both spans, each answer then trimmed.
    place_lo = local_day_bounds(query.from_, place_zone)[0]
    place_hi = local_day_bounds(query.to, place_zone)[1]
    found = get_availability(
        session,
        service,
        location,
        range_start=min(lo, place_lo),
        range_end=max(hi, place_hi),
        now=now_utc(),
        org_zone=org_zone(),
    )
    windows = [w for w in found.windows if lo <= w.starts_at < hi]
    next_free = windows[0] if windows else None
    if next_free is None:
        next_free = next_free_window(
            session, service, location, after=hi, now=now_utc(), org_zone=org_zone()
        )
    return WindowList(
        service_id=service.id,
        location_id=location.id,
        time_zone=zone,
        location_time_zone=place_zone,
        windows=[window_out(w, zone) for w in windows],
        next_free=window_out(next_free, zone) if next_free else None,
        closed_days=[
            ClosedDay(date=d, reason=r, message=REASONS.get(r, r))
            for d, r in sorted(found.reasons.items())
            if query.from_ <= d <= query.to
        ],
    )
