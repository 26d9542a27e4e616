"""What floors above accounts keep for a user or at an address, asked for by name.

Accounts knows nothing of API tokens, calendar feeds, appointments or work orders, yet a
new password must end the lasting access a stolen one made (tokens, feed links), an
address must not be removed while bookings or work orders point at it, and the profile
page shows what the features offer a person. A floor above registers here (from the app
factory, portal/app.py): a revoker that ends its kind of access for a user, a counter
that says how many of its records use an address, a section of the profile page.
Registration is by name, so building the app twice does not register anything twice;
watchers run in the caller's transaction, so the change and its consequences commit or
roll back together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

if TYPE_CHECKING:
    from portal.accounts.models import ServiceLocation, User


@dataclass(frozen=True)
class LocationUse:
    """How many records of one kind use an address: those still under way, and all."""

    unfinished: int = 0
    total: int = 0

    def __add__(self, other: LocationUse) -> LocationUse:
        return LocationUse(self.unfinished + other.unfinished, self.total + other.total)


# revoker(session, user, now): ends one kind of access that outlives a session
AccessRevoker = Callable[[so.Session, "User", datetime], None]
# counter(session, location) -> how many of one kind of record use the address
LocationCounter = Callable[[so.Session, "ServiceLocation"], LocationUse]

_revokers: dict[str, AccessRevoker] = {}
_location_counters: dict[str, LocationCounter] = {}
_profile_sections: dict[str, str] = {}


def watch_access_revoked(name: str, revoker: AccessRevoker) -> None:
    """Call `revoker` whenever every way into a user's account must end (new password)."""
    _revokers[name] = revoker


def access_revoked(session: so.Session, user: User, now: datetime) -> None:
    """Tell every revoker, in registration order."""
    for revoker in _revokers.values():
        revoker(session, user, now)


def watch_location_use(name: str, counter: LocationCounter) -> None:
    """Ask `counter` before an address is removed whether its records still use it."""
    _location_counters[name] = counter


def location_use(session: so.Session, location: ServiceLocation) -> LocationUse:
    """What every counter found, added up."""
    use = LocationUse()
    for counter in _location_counters.values():
        use = use + counter(session, location)
    return use


def records_at(model: Any, finished_states: frozenset[str]) -> LocationCounter:
    """A counter of `model`'s rows at an address, for a model with `location_id` and
    `status` columns; rows in `finished_states` no longer need the address."""

    def count(session: so.Session, location: ServiceLocation) -> LocationUse:
        def rows(*where: Any) -> int:
            query = sa.select(sa.func.count()).select_from(model)
            return session.scalar(query.where(model.location_id == location.id, *where))

        return LocationUse(rows(model.status.not_in(finished_states)), rows())

    return count


def add_profile_section(name: str, template: str) -> None:
    """Show `template` on the profile page, after the sessions, in registration order
    (it is included with the page's context, and decides itself whom it is for)."""
    _profile_sections[name] = template


def profile_sections() -> list[str]:
    """The templates of the profile's sections from the floors above."""
    return list(_profile_sections.values())
