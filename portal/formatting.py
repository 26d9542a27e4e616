"""Template filters: every instant is shown in a zone that is named on the page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_login import current_user

from portal.timeutil import to_local


def org_zone() -> str:
    """The organisation's time zone, from configuration (PORTAL_TIME_ZONE)."""
    return current_app.config["ORG_TIME_ZONE"]


def viewer_zone() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.time_zone
    return org_zone()


def local(moment: datetime | None, tz: str | None = None) -> datetime | None:
    return None if moment is None else to_local(moment, tz or viewer_zone())


def fmt_datetime(moment: datetime | None, tz: str | None = None) -> str:
    if moment is None:
        return ""
    m = local(moment, tz)
    return f"{m:%a %-d %b %Y, %H:%M} {m:%Z}"


def fmt_date(moment, tz: str | None = None) -> str:
    if isinstance(moment, datetime):
        moment = local(moment, tz)
    return f"{moment:%A %-d %B %Y}"


def fmt_day(day) -> str:
    """'Tue 24 Nov': short enough for a column of days on a phone."""
    return f"{day:%a %-d %b}"


def fmt_time(moment: datetime, tz: str | None = None) -> str:
    return f"{local(moment, tz):%H:%M}"


def fmt_window(start: datetime, end: datetime, tz: str) -> str:
    """'Tue 3 Mar, 08:00–10:00 GMT' for an arrival window in the location's zone.

    A window across a clock change names each end's own zone ('Sun 28 Mar, 00:00 GMT–02:00
    BST'): one name for both would put the start an hour out. Where both ends share an
    abbreviation but not an offset, each end gets its offset too.
    """
    s, e = local(start, tz), local(end, tz)
    return f"{s:%a %-d %b}, {_span(s, e, name_zone=True)}"


def fmt_slot(start: datetime, end: datetime, tz: str) -> str:
    """'08:00–10:00' for a window in a day's list, whose zone the page names once; a
    window across a clock change names each end's zone ('00:00 GMT–02:00 BST')."""
    return _span(local(start, tz), local(end, tz), name_zone=False)


def _span(s: datetime, e: datetime, *, name_zone: bool) -> str:
    """'08:00–10:00' (' GMT' after it with `name_zone`); each end with its own zone where
    the offset changes between them."""
    if s.utcoffset() != e.utcoffset():
        return f"{s:%H:%M} {_zone_label(s, e)}–{e:%H:%M} {_zone_label(e, s)}"
    times = f"{s:%H:%M}" if s == e else f"{s:%H:%M}–{e:%H:%M}"
    return f"{times} {e:%Z}" if name_zone else times


def _zone_label(moment: datetime, other: datetime) -> str:
    """The zone abbreviation of `moment`, with its UTC offset when `other` has the same
    abbreviation (it alone would not tell the two ends apart)."""
    name = moment.tzname() or ""
    if name != other.tzname():
        return name
    offset = f"{moment:%z}"
    return f"{name} (UTC{offset[:3]}:{offset[3:5]})"


def iso_utc(moment: datetime) -> str:
    """'2026-03-03T08:00:00Z': an instant for a `<time datetime>` attribute, in UTC to
    the second (isoformat()'s microseconds are not a valid HTML datetime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def local_date_iso(moment: datetime, tz: str) -> str:
    return to_local(moment, tz).date().isoformat()


FILTERS = {
    "localdate": local_date_iso,
    "day": fmt_day,
    "datetime": fmt_datetime,
    "date": fmt_date,
    "time": fmt_time,
    "status": status_label,
    "iso_utc": iso_utc,
}
# No timedelta here: a template that adds minutes to an instant gets a window's end wrong
# across a clock change (Grid.window_end is the one definition).
GLOBALS = {"fmt_window": fmt_window, "fmt_slot": fmt_slot, "viewer_zone": viewer_zone}
