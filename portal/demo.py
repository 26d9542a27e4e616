"""Demo data for `make run`: deterministic, realistic, made through the same services.

Two territories in two time zones (London and New York), five customer accounts with
contacts and locations, eight agents with varied skills and hours, four services, and
a month of bookings (two weeks back, two weeks ahead) booked through the booking
service with the clock set back for the past ones, so every rule holds.

Beside them, an API token for scripts (printed by `portal demo` beside the log-ins: a
fixed secret, so the demo stays the same everywhere, stored hashed like any other) and
a webhook endpoint pointing at the local receiver `make run` starts (`portal
webhook-sink`), with a test ping queued, so the webhook log shows real deliveries.
"""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.accounts.models import ServiceLocation, User
from portal.accounts.services import (
    add_contact,
    create_customer_account,
    create_user,
    territory_for_postal_code,
)
from portal.api.models import ApiToken
from portal.api.tokens import create_token, find_usable_token, hash_secret
from portal.booking.demo import book_demo_month
from portal.booking.models import BookingPolicy, Service
from portal.feed.demo import load_feed_demo
from portal.orders.demo_catalogue import load_catalogue_demo
from portal.queues.services import sync_scheduling_membership
from portal.rules.builtin import ensure_builtin
from portal.sla.demo import load_back_office_demo
from portal.webhooks.models import WEBHOOK_EVENTS, WebhookEndpoint
from portal.webhooks.services import create_endpoint, queue_ping
from portal.workforce.services import create_agent, create_territory, get_or_create_skill

DEMO_PASSWORD = "demo"  # nosec B105  # the demo's published log-in (README), demo data only
MARKER_EMAIL = "admin@demo.test"
# Demo data only, and public in README: never a secret anywhere else.
DEMO_API_TOKEN = "pt_demo_scheduler_token_for_the_local_demo_only"  # nosec B105  # published
DEMO_TOKEN_EMAIL = "scheduler@demo.test"  # nosec B105  # an e-mail address, not a secret
DEMO_TOKEN_NAME = "Demo script"  # nosec B105  # the token's label, not a secret
# Where `make run` starts `portal webhook-sink` (WEBHOOK_SINK_PORT in the Makefile).
DEMO_WEBHOOK_URL = "http://127.0.0.1:8026/portal-events"
DEMO_WEBHOOK_DESCRIPTION = "Demo: the local receiver make run starts (portal webhook-sink)"

WEEKDAYS_9_TO_5 = [(d, time(9), time(17)) for d in range(5)]
EARLY_SHIFT = [(d, time(7), time(15)) for d in range(5)]
LATE_SHIFT = [(d, time(11), time(19)) for d in range(5)]
TUE_TO_SAT = [(d, time(8), time(16)) for d in range(1, 6)]
SPLIT_DAYS = [(d, time(8), time(12)) for d in range(5)] + [
    (d, time(13), time(17)) for d in (0, 2, 4)
]

AGENTS = [
    # email, name, territory, zone, skills, hours
    (
        "agent@demo.test",
        "Sarah Okafor",
        "London",
        "Europe/London",
        ["gas", "plumbing"],
        WEEKDAYS_9_TO_5,
    ),
    (
        "will@demo.test",
        "Will Turner",
        "London",
        "Europe/London",
        ["gas", "electrical"],
        EARLY_SHIFT,
    ),
    (
        "priya@demo.test",
        "Priya Shah",
        "London",
        "Europe/London",
        ["network", "electrical"],
        WEEKDAYS_9_TO_5,
    ),
    ("tom@demo.test", "Tom Becker", "London", "Europe/London", ["network"], LATE_SHIFT),
    ("amara@demo.test", "Amara Mensah", "London", "Europe/London", ["plumbing", "gas"], TUE_TO_SAT),
    (
        "diego@demo.test",
        "Diego Alvarez",
        "New York",
        "America/New_York",
        ["electrical", "network"],
        WEEKDAYS_9_TO_5,
    ),
    (
        "mei@demo.test",
        "Mei Chen",
        "New York",
        "America/New_York",
        ["network", "plumbing"],
        SPLIT_DAYS,
    ),
    (
        "jamal@demo.test",
        "Jamal Brooks",
        "New York",
        "America/New_York",
        ["gas", "plumbing", "electrical"],
        EARLY_SHIFT,
    ),
]

SERVICES = [
    (
        "boiler-service",
        "Boiler service",
        "Annual service and safety check of a gas boiler.",
        90,
        30,
        1,
        "gas",
    ),
    (
        "electrical-inspection",
        "Electrical safety inspection",
        "Inspection and test of the fixed wiring, with a certificate.",
        120,
        30,
        1,
        "electrical",
    ),
    (
        "network-install",
        "Office network installation",
        "Two technicians cable and configure a small office network.",
        240,
        30,
        2,
        "network",
    ),
    (
        "leak-repair",
        "Leak repair",
        "Find and fix a leak in pipes, taps or radiators.",
        60,
        15,
        1,
        "plumbing",
    ),
]

ACCOUNTS = [
    # account, kind, contact, login, phone, locations (label, street, city, postcode, country)
    (
        "Harbour Lane Dental",
        "business",
        "Chloe Martin",
        "customer@demo.test",
        "+44 20 7946 0011",
        [
            ("Surgery", "12 Harbour Lane", "London", "SE1 9PG", "GB"),
            ("Head office", "3 Clerkenwell Road", "London", "EC1M 5PA", "GB"),
        ],
    ),
    (
        "Riverside Bakery",
        "business",
        "Oliver Grant",
        "oliver@demo.test",
        "+44 20 7946 0022",
        [("Shop", "88 Upper Street", "London", "N1 0NU", "GB")],
    ),
    (
        "Hudson Legal LLP",
        "business",
        "Grace Kim",
        "grace@demo.test",
        "+1 212 555 0143",
        [("Midtown office", "350 Fifth Avenue", "New York", "10118", "US")],
    ),
    (
        "Brooklyn Makerspace",
        "business",
        "Leo Rossi",
        "leo@demo.test",
        "+1 718 555 0190",
        [("Workshop", "45 Main Street", "Brooklyn", "11201", "US")],
    ),
    (
        "Ana Silva",
        "consumer",
        "Ana Silva",
        "ana@demo.test",
        "+44 7700 900123",
        [("Home", "27 Kensington Gardens Square", "London", "W2 4BA", "GB")],
    ),
]

STAFF = [
    ("scheduler@demo.test", "Sam Rivera", "scheduler"),
    ("manager@demo.test", "Morgan Lee", "manager"),
    (MARKER_EMAIL, "Alex Admin", "admin"),
]


def demo_loaded(session: so.Session) -> bool:
    return session.scalar(sa.select(User.id).where(User.email == MARKER_EMAIL)) is not None


def load_demo(
    session: so.Session,
    *,
    force: bool = False,
    bookings: bool = True,
    back_office: bool = True,
    webhook_url: str = DEMO_WEBHOOK_URL,
) -> bool:
    """Create the demo data unless it is there already; True when it was created.

    A demo loaded before it had an API token and a webhook endpoint gets them now."""
    if demo_loaded(session) and not force:
        add_demo_integrations(session, webhook_url=webhook_url)
        return False
    if session.get(BookingPolicy, 1) is None:
        session.add(BookingPolicy(id=1))
    london = create_territory(
        session,
        name="London",
        time_zone="Europe/London",
        prefixes=["E", "EC", "N", "NW", "SE", "SW", "W", "WC"],
    )
    new_york = create_territory(
        session,
        name="New York",
        time_zone="America/New_York",
        prefixes=["100", "101", "102", "104", "110", "111", "112", "113", "114"],
    )
    territories = {"London": london, "New York": new_york}
    skills = {
        code: get_or_create_skill(session, code, name)
        for code, name in [
            ("gas", "Gas safe engineer"),
            ("electrical", "Electrician"),
            ("network", "Network technician"),
            ("plumbing", "Plumber"),
        ]
    }
    for email, name, role in STAFF:
        sync_scheduling_membership(session, _demo_user(session, email, name, role))
    for email, name, territory, zone, skill_codes, hours in AGENTS:
        user = _demo_user(session, email, name, "agent", zone)
        create_agent(
            session,
            user,
            time_zone=zone,
            skills=[skills[c] for c in skill_codes],
            territories=[territories[territory]],
            hours=hours,
        )
    for code, name, description, duration, buffer, needed, skill in SERVICES:
        session.add(
            Service(
                code=code,
                name=name,
                description=description,
                duration_minutes=duration,
                buffer_minutes=buffer,
                agents_needed=needed,
                required_skill=skills[skill],
            )
        )
    for account_name, kind, contact_name, email, phone, locations in ACCOUNTS:
        account = create_customer_account(session, name=account_name, kind=kind)
        zone = "America/New_York" if locations[0][4] == "US" else "Europe/London"
        user = _demo_user(session, email, contact_name, "customer", zone)
        add_contact(session, account, full_name=contact_name, email=email, phone=phone, user=user)
        for label, street, city, postcode, country in locations:
            session.add(
                ServiceLocation(
                    account=account,
                    label=label,
                    street=street,
                    city=city,
                    postal_code=postcode,
                    country=country,
                    territory=territory_for_postal_code(session, postcode),
                )
            )
    session.flush()
    if bookings:
        book_demo_month(session)
    if back_office:
        load_back_office_demo(
            session, lambda email, name, role: _demo_user(session, email, name, role)
        )
        # The account feed: the built-in aging rules first, so that the demo's first
        # feed opens aging cases (and their tasks for aging@demo.test) as a real one does.
        ensure_builtin(session)
        load_feed_demo(session)
        # Orders: the product catalogue and the decision table's first version.
        load_catalogue_demo(session)
    add_demo_integrations(session, webhook_url=webhook_url)
    return True


def _demo_user(
    session: so.Session, email: str, name: str, role: str, zone: str | None = None
) -> User:
    """A demo log-in: every one shares DEMO_PASSWORD (below the password rule on purpose)."""
    return create_user(session, email, name, role, DEMO_PASSWORD, zone, check_password=False)


def add_demo_integrations(session: so.Session, *, webhook_url: str = DEMO_WEBHOOK_URL) -> None:
    """The demo's API token and webhook endpoint (with a test ping), each unless there."""
    user = session.scalar(sa.select(User).where(User.email == DEMO_TOKEN_EMAIL))
    token = session.scalar(
        sa.select(ApiToken.id).where(ApiToken.secret_hash == hash_secret(DEMO_API_TOKEN))
    )
    if user is not None and token is None:
        create_token(session, user, DEMO_TOKEN_NAME, secret=DEMO_API_TOKEN)
    endpoint = session.scalar(
        sa.select(WebhookEndpoint.id).where(WebhookEndpoint.description == DEMO_WEBHOOK_DESCRIPTION)
    )
    if endpoint is None:
        # Checked as a manager's URL is, loopback allowed here only: delivering to it
        # still needs PORTAL_WEBHOOKS_ALLOW_PRIVATE=1, which `make run` sets for itself.
        endpoint = create_endpoint(
            session,
            url=webhook_url,
            events=list(WEBHOOK_EVENTS),
            description=DEMO_WEBHOOK_DESCRIPTION,
            created_by=session.scalar(sa.select(User).where(User.email == MARKER_EMAIL)),
            allow_private=True,
        )
        queue_ping(session, endpoint)


def demo_token_works(session: so.Session) -> bool:
    """Whether DEMO_API_TOKEN opens the API (not revoked), so it is worth printing."""
    return find_usable_token(session, DEMO_API_TOKEN) is not None
