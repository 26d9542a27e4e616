"""The access matrix (#12, point 10): every route in the URL map, visited by every kind of
visitor with the ids of records that belong to somebody else, answers as its rule says,
and no GET changes the database.

Each endpoint's rule is declared once, in RULES below; the matrix reads the app's URL map
at test time, so a route added anywhere without a rule fails the test, naming the route
and how to declare it. (A table here rather than an attribute on each view: the views
live in a dozen modules that several people edit at once, and one table shows the whole
policy side by side; the test, not the author's memory, is what keeps it complete.)

The world: account A (customer `owner`, its address, appointment, work order and task,
assigned to agent X) and account B (customer `other`, with a booking of its own); a
second agent Y; a scheduler, a manager and an admin; a webhook, a report run, an e-mail,
a time-off entry, a holiday, API tokens and sessions. Every `<int:...>` in a URL is
filled with the id of A's record (or X's, or the owner's own token and session), so
`other`, Y and the lower roles always ask for somebody else's record; `owner` and X are
the controls that show each id is real (a 404 for a missing record would prove nothing).

What is checked:
* anonymous: pages redirect to /login, the API answers 401;
* a role below the rule's: 403 (404 where the code hides the record: a customer of
  another account always gets 404, as does any user asking for another user's token or
  session);
* a role the rule lets in: a GET answers without 401/403/404/405/5xx; a POST is not
  sent (it would change the shared world; the feature tests cover allowed writes);
* a denied POST (with a valid CSRF token) changes nothing, and no GET changes anything:
  the database is digested (every row of every table) after each request.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from portal.accounts.models import ROLE_RANK, UserSession
from portal.api.registry import OPERATIONS
from portal.api.tokens import create_token
from portal.booking.visit_links import issue_visit_link
from portal.calendar_feeds.services import feed_token, reset_feed
from portal.calendars import editing as calendar_editing
from portal.db import Base
from portal.imports.models import Import
from portal.imports.storage import store_stream
from portal.notifications.services import notify_user, queue_email
from portal.orders import catalogue, tables
from portal.orders.models import Order, OrderLine, OrderLineItem
from portal.queues.services import create_queue, scheduling_queue_id
from portal.reports.models import ReportRun
from portal.rules.builtin import AGING_OPEN_RULE, AGING_TEMPLATE, ensure_builtin
from portal.rules.models import Rule as RuleRow
from portal.sla import settings as sla_settings
from portal.tokens import make_token
from portal.webhooks.models import WebhookEndpoint
from portal.workforce.services import add_holiday
from tests.case_factories import create_case
from tests.conftest import SECRET_KEY, AuthActions
from tests.factories import (
    NOW,
    add_time_off,
    create_agent,
    create_appointment,
    create_customer,
    create_location,
    create_service,
    create_skill,
    create_task,
    create_territory,
    create_user,
    create_work_order,
    ensure_policy,
)

VISIT = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)

# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint.

    kind: "public" (anyone), "token" (anyone holding the secret in the URL; a wrong one
    is 404 or 410), "login" (any logged-in user; ids in the URL name the user's own rows,
    so anybody else's id is 404) or "role".
    role: for "role", the lowest staff role let in (higher ones too), None for no staff.
    customer: for "role", customers are let in, to their own account's records only
    (another account's id is 404).
    assigned: agents below `role` are let in to the records of their own tasks; other
    agents get 404.
    hidden: refused staff get 404 rather than 403 (the code hides the record).
    backoffice: how a back-office user (outside the ladder, in no queue here) is met:
    None refused like any role below the rule's, "ok" let in, "404" let in to pages
    without ids and refused records (a case of a queue it is not in, an appointment the
    API hides from anyone but staff and its customer), "403" refused outright.
    """

    kind: str
    role: str | None = None
    customer: bool = False
    assigned: bool = False
    hidden: bool = False
    backoffice: str | None = None


PUBLIC = Rule("public")
TOKEN = Rule("token")
LOGGED_IN = Rule("login")
CUSTOMER = Rule("role", customer=True)


def staff(
    role: str | None,
    *,
    customer: bool = False,
    assigned: bool = False,
    hidden: bool = False,
    backoffice: str | None = None,
) -> Rule:
    return Rule("role", role, customer, assigned, hidden, backoffice)


# Only the agent holding the task; other staff get 404, customers and back office 403.
TASK_AGENT = staff(None, assigned=True, hidden=True, backoffice="403")


# One line per endpoint. A new route needs a line here (see `missing_rule_message`).
RULES: dict[str, Rule] = {
    "static": PUBLIC,
    "index": LOGGED_IN,  # sends each visitor to its own home
    "health.healthz": PUBLIC,
    # accounts
    "accounts.login": PUBLIC,
    "accounts.logout": LOGGED_IN,
    "accounts.signup": PUBLIC,
    "accounts.signup_sent": PUBLIC,
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_sent": PUBLIC,
    "accounts.reset_password": TOKEN,
    "accounts.verify": TOKEN,
    "accounts.new_verification_link": PUBLIC,
    "accounts.accept_invitation": TOKEN,
    "accounts.invite": staff("scheduler"),
    "accounts.profile": LOGGED_IN,
    "accounts.update_profile": LOGGED_IN,
    "accounts.add_location": CUSTOMER,
    "accounts.remove_location": CUSTOMER,
    "accounts.change_password": LOGGED_IN,
    "accounts.end_one_session": LOGGED_IN,
    "accounts.end_all_sessions": LOGGED_IN,
    "api_tokens.tokens": LOGGED_IN,
    "api_tokens.create": LOGGED_IN,
    "api_tokens.revoke": LOGGED_IN,
    # booking (customers)
    "booking.home": CUSTOMER,
    "booking.book": CUSTOMER,
    "booking.windows": CUSTOMER,
    "booking.confirm": CUSTOMER,
    "booking.add_location": CUSTOMER,
    "booking.appointment": CUSTOMER,
    "booking.act": CUSTOMER,
    "booking.move": CUSTOMER,
    "booking.move_windows": CUSTOMER,
    "booking.move_confirm": CUSTOMER,
    "booking.manage": TOKEN,
    "booking.manage_act": TOKEN,
    "booking.manage_move": TOKEN,
    "booking.manage_move_windows": TOKEN,
    "booking.manage_move_confirm": TOKEN,
    "booking.manage_done": PUBLIC,  # a thank-you page naming a state, nothing else
    # an order's visit, booked through the site contact's e-mailed link (#16)
    "booking.visit": TOKEN,
    "booking.visit_windows": TOKEN,
    "booking.visit_confirm": TOKEN,
    "calendar_feeds.feed": TOKEN,
    "calendar_feeds.reset": LOGGED_IN,
    "notifications.index": LOGGED_IN,
    "notifications.mark_read": LOGGED_IN,
    "notifications.mail_list": staff("manager"),
    "notifications.mail_detail": staff("manager"),
    # staff console
    "staff.home": staff("agent", backoffice="ok"),
    "staff.appointments": staff("scheduler"),
    "staff.appointment": staff("scheduler", assigned=True),
    "staff.appointment_action": staff("scheduler", assigned=True),
    "staff.customers": staff("scheduler"),
    "staff.customer": staff("scheduler"),
    "staff.edit_aging": staff("manager"),
    "staff.edit_details": staff("manager"),
    "staff.book_for": staff("scheduler"),
    "staff.book_for_confirm": staff("scheduler"),
    "staff.work_order_book": staff("scheduler"),
    "staff.work_order_book_confirm": staff("scheduler"),
    "staff.work_order_send_link": staff("scheduler"),
    "staff.task_action": TASK_AGENT,
    "staff.take": staff(
        "agent", backoffice="ok"
    ),  # team_required; a queue the user does not work is 404
    "staff.work_orders": staff("scheduler"),
    "dispatch.board": staff("scheduler"),
    "dispatch.assign": staff("scheduler"),
    "dispatch.close_panel": staff("scheduler"),
    "dispatch.reassign": staff("scheduler"),
    # settings
    "settings.index": staff("manager"),
    "settings.agents": staff("manager"),
    "settings.agent": staff("manager"),
    "settings.agent_active": staff("manager"),
    "settings.agent_hours": staff("manager"),
    "settings.agent_profile": staff("manager"),
    "settings.agent_time_off": staff("manager"),
    "settings.agent_time_off_remove": staff("manager"),
    "settings.disruptions_page": staff("scheduler"),
    "settings.disruption_move_one": staff("scheduler"),
    "settings.disruptions_move": staff("scheduler"),
    "settings.holidays": staff("manager"),
    "settings.holiday_remove": staff("manager"),
    "settings.policy": staff("manager"),
    "settings.services": staff("manager"),
    "settings.service_edit": staff("manager"),
    "settings.service_new": staff("manager"),
    "settings.skills": staff("manager"),
    "settings.skill_edit": staff("manager"),
    "settings.territories": staff("manager"),
    "settings.territory_edit": staff("manager"),
    "settings.territory_new": staff("manager"),
    "settings.queues": staff("manager"),
    "settings.queue": staff("manager"),
    "settings.queue_new": staff("manager"),
    "settings.queue_member_add": staff("manager"),
    "settings.queue_member_remove": staff("manager"),
    "settings.users": staff("admin"),
    "settings.user": staff("admin"),
    "settings.user_active": staff("admin"),
    "settings.user_invitation": staff("admin"),
    "settings.user_role": staff("admin"),
    "settings.user_new": staff("admin"),
    "settings.audit_log": staff("admin"),
    "settings.webhooks": staff("manager"),
    "settings.webhook": staff("manager"),
    "settings.webhook_delete": staff("manager"),
    "settings.webhook_pause": staff("manager"),
    "settings.webhook_ping": staff("manager"),
    "settings.webhook_resume": staff("manager"),
    "settings.webhook_rotate": staff("manager"),
    # business-hours calendars and SLA processes (#14)
    "settings.calendars": staff("manager"),
    "settings.calendar": staff("manager"),
    "settings.calendar_week": staff("manager"),
    "settings.calendar_week_preview": staff("manager"),
    "settings.calendar_hours_remove": staff("manager"),
    "settings.calendar_holidays": staff("manager"),
    "settings.calendar_holiday_remove": staff("manager"),
    "settings.calendar_delete": staff("manager"),
    "settings.entitlements": staff("manager"),
    "settings.entitlement_new": staff("manager"),
    "settings.entitlement": staff("manager"),
    "settings.entitlement_delete": staff("manager"),
    "settings.milestone_add": staff("manager"),
    "settings.milestone_edit": staff("manager"),
    "settings.milestone_remove": staff("manager"),
    "settings.milestone_action_add": staff("manager"),
    "settings.milestone_action_remove": staff("manager"),
    # products and the decision table (#16)
    "settings.products": staff("manager"),
    "settings.product_new": staff("manager"),
    "settings.product_edit": staff("manager"),
    "settings.product_deactivate": staff("manager"),
    "settings.product_reactivate": staff("manager"),
    "settings.decision_table": staff("manager"),
    "settings.decision_draft_start": staff("manager"),
    "settings.decision_draft_discard": staff("manager"),
    "settings.decision_publish": staff("manager"),
    "settings.decision_row_new": staff("manager"),
    "settings.decision_row_edit": staff("manager"),
    "settings.decision_row_delete": staff("manager"),
    "settings.decision_row_move": staff("manager"),
    "settings.decision_versions": staff("manager"),
    "settings.decision_version": staff("manager"),
    "settings.rules": staff("manager"),
    "settings.rules_builtin": staff("manager"),
    "settings.rule": staff("manager"),
    "settings.rule_simulate": staff("manager"),
    "settings.rule_enable": staff("manager"),
    "settings.rule_disable": staff("manager"),
    "settings.rule_firings": staff("manager"),
    "settings.rule_template": staff("manager"),
    # reports
    "reports.index": staff("manager"),
    "reports.create": staff("manager"),
    "reports.run": staff("manager"),
    "reports.download": staff("manager"),
    "reports.subscription": staff("manager"),
    # the live SLA panel's fragment: every team user (204 unless a lead or a manager)
    "reports.sla_panel_fragment": staff("agent", backoffice="ok"),
    # imports (#15): managers and admins
    "imports.index": staff("manager"),
    "imports.new_import": staff("manager"),
    "imports.detail": staff("manager"),
    "imports.apply": staff("manager"),
    "imports.discard": staff("manager"),
    "imports.download": staff("manager"),
    # personal data (the customer's own export; anonymising is the admin's)
    "privacy.download_data": CUSTOMER,
    "privacy.anonymise": staff("admin"),
    # the API (roles as declared to the registry; see test_api_rules_match_the_registry)
    "api.docs_page": PUBLIC,
    "api.openapi_json": PUBLIC,
    "api.me": LOGGED_IN,
    "api.list_services": LOGGED_IN,
    "api.list_windows": staff("scheduler", customer=True),
    "api.list_locations": CUSTOMER,
    "api.list_appointments": staff("scheduler", customer=True),
    "api.book": staff("scheduler", customer=True),
    "api.get_appointment": staff("scheduler", customer=True, assigned=True, backoffice="404"),
    "api.cancel": staff("scheduler", customer=True, assigned=True, backoffice="404"),
    "api.confirm": CUSTOMER,
    "api.decline": CUSTOMER,
    "api.reschedule": staff("scheduler", customer=True, assigned=True, backoffice="404"),
    "api.sign_off": CUSTOMER,
    "api.suggestions": staff("scheduler", assigned=True),
    "api.assign": staff("scheduler"),
    "api.list_work_orders": staff("scheduler"),
    "api.timeline": staff("scheduler"),
    # Back office: its queues' cases (none here), so a list and a 404 for this case.
    "api.list_cases": staff("agent", customer=True, backoffice="ok"),
    "api.create_case": staff("scheduler", customer=True),
    "api.get_case": staff("agent", customer=True, backoffice="404"),
    "api.list_case_comments": staff("agent", customer=True, backoffice="404"),
    "api.add_case_comment": staff("agent", customer=True, backoffice="404"),
    "api.import_file": staff("manager"),
    "api.get_import": staff("manager"),
    # cases: the team (staff on the ladder see every case) and the customer's Support area
    "cases.list_cases": staff("agent", backoffice="ok"),
    "cases.new_case": staff("scheduler"),
    "cases.case_page": staff("agent", backoffice="404"),
    "cases.case_work": staff("agent", backoffice="404"),
    "cases.case_action": staff("agent", backoffice="404"),
    # members of the work order's queue only: A's work order is nobody's queue work
    "cases.work_order_page": staff(None, hidden=True),
    "cases.work_order_action": staff(None, hidden=True),
    "support.index": CUSTOMER,
    "support.new_case": CUSTOMER,
    "support.case": CUSTOMER,
    "support.comment": CUSTOMER,
    # orders: schedulers up and the Orders queue's back office (this one is in no queue);
    # managers approve and reject; the customer's read-only view of its account's orders
    "orders.list_orders_page": staff("scheduler", backoffice="403"),
    "orders.new_order": staff("scheduler", backoffice="403"),
    "orders.order_page": staff("scheduler", backoffice="403"),
    "orders.order_work_page": staff(None, hidden=True),
    "orders.order_work_action": staff(None, hidden=True),
    "orders.order_action": staff("scheduler", backoffice="403"),
    "orders.add_line": staff("scheduler", backoffice="403"),
    "orders.edit_line": staff("scheduler", backoffice="403"),
    "orders.remove_line": staff("scheduler", backoffice="403"),
    "orders.set_ponr": staff("scheduler", backoffice="403"),
    "my_orders.index": CUSTOMER,
    "my_orders.order": CUSTOMER,
    "api.list_orders": staff("scheduler", backoffice="403"),
    "api.create_order": staff("scheduler", backoffice="403"),
    "api.get_order": staff("scheduler", backoffice="403"),
    "api.add_order_line": staff("scheduler", backoffice="403"),
    "api.place_order": staff("scheduler", backoffice="403"),
    "api.approve_order": staff("manager", backoffice="403"),
    "api.close_order": staff("scheduler", backoffice="403"),
}


def missing_rule_message(endpoint: str, rules: Iterable[str]) -> str:
    return (
        f"{endpoint} ({', '.join(rules)}) has no access rule: add a line "
        f'"{endpoint}": PUBLIC | TOKEN | LOGGED_IN | CUSTOMER | staff("scheduler") ... '
        f"to RULES in {__name__.replace('.', '/')}.py, saying who may use it"
    )


# --- the world ---------------------------------------------------------------------------------


@dataclass
class Visitor:
    name: str
    role: str | None  # None: anonymous
    owner: bool = False  # customer A, or agent X: the records in the URLs are theirs
    client: object = None
    csrf: str = ""
    bearer: str = ""


@dataclass
class World:
    ids: dict[str, int]
    words: dict[str, dict[str, str]]  # endpoint -> non-integer URL arguments
    queries: dict[str, dict[str, object]]  # endpoint -> query string (naming A's records)
    visitors: list[Visitor]
    engine: sa.Engine = None
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def build_world(app, session, frozen_now) -> World:
    """Two accounts and everyone around them, through the factories and the services."""
    frozen_now(NOW)
    # Every visitor comes from one address, and each tries a wrong visit link on each of
    # its pages: more than the limit of wrong links one address may try in a minute.
    app.config["VISIT_LINK_REFUSAL_LIMIT"] = 1000
    ensure_policy(session)
    service = create_service(session)
    skill = create_skill(session)
    territory = create_territory(session)
    owner, account, contact = create_customer(session)
    other, _other_account, other_contact = create_customer(session)
    location = create_location(session, account)
    agent_x = create_agent(session)
    agent_y = create_agent(session)
    scheduler = create_user(session, role="scheduler")
    manager = create_user(session, role="manager")
    admin = create_user(session, role="admin")
    appointment = create_appointment(
        session, start=VISIT, contact=contact, service=service, location=location, agents=[agent_x]
    )
    task = create_task(
        session, work_order=appointment.work_order, agent=agent_x, appointment_id=appointment.id
    )
    # B's own booking, so `other` is a customer with a life of its own.
    create_appointment(session, start=VISIT + timedelta(days=1), contact=other_contact)
    time_off = add_time_off(
        session, agent_x, NOW + timedelta(days=20), NOW + timedelta(days=21), "Leave"
    )
    holiday = add_holiday(session, date(2026, 8, 31), "Summer bank holiday")
    webhook = WebhookEndpoint(
        url="https://hooks.example.com/portal",
        secret="whsec_matrix",
        events=["appointment.booked"],
        created_by_id=manager.id,
    )
    run = ReportRun(
        kind="operations",
        fmt="csv",
        date_from=date(2026, 5, 1),
        date_to=date(2026, 5, 31),
        requested_by_id=manager.id,
        status="done",
        progress=100,
        finished_at=NOW,
        expires_at=NOW + timedelta(days=7),
        file_name="operations.csv",
        size=4,
        content=b"a,b\n",
    )
    session.add_all([webhook, run])
    message = queue_email(session, to=owner.email, subject="Your visit", text="Booked.")
    notify_user(session, owner.id, "Your visit is booked.", f"/appointments/{appointment.id}")
    feed = reset_feed(session, owner)
    calendar = calendar_editing.create_calendar(session, "Support desk", "Europe/London")
    calendar_editing.set_week(session, calendar, {0: "09:00-17:00"})
    closure = calendar_editing.add_holiday(session, calendar, date(2026, 12, 25), "Christmas")
    process = sla_settings.create_process(
        session, sla_settings.ProcessData("Support", "case", 100, True, calendar.id)
    )
    milestone = sla_settings.add_milestone(
        session, process, sla_settings.MilestoneData("resolution", "", 960, 480, 240, 60)
    )
    sla_action = sla_settings.add_action(
        session, milestone, trigger="warning", action="notify_owner"
    )
    case = create_case(session, contact, by=owner)
    ensure_builtin(session)
    rule = session.scalar(sa.select(RuleRow).where(RuleRow.slug == AGING_OPEN_RULE))
    imported = _an_import(app, session, manager)
    product, published, draft_row = _a_catalogue(session)
    order = _an_order(session, account, location, contact, scheduler, product)
    session.flush()

    people = {
        "customer (another account)": ("customer", other, False),
        "customer (owner)": ("customer", owner, True),
        "agent (another agent)": ("agent", agent_y.user, False),
        "agent (assigned)": ("agent", agent_x.user, True),
        "scheduler": ("scheduler", scheduler, False),
        "manager": ("manager", manager, False),
        "admin": ("admin", admin, False),
        "back office": ("backoffice", create_user(session, role="backoffice"), False),
    }
    visitors = [Visitor("anonymous", None, client=app.test_client())]
    tokens = {}
    for name, (role, user, owns) in people.items():
        token, secret = create_token(session, user, "matrix")
        tokens[name] = token
        visitors.append(Visitor(name, role, owns, app.test_client(), bearer=secret))
    for visitor in visitors:
        if visitor.role is not None:
            user = people[visitor.name][1]
            response = AuthActions(visitor.client).login(user.email)
            assert response.status_code == 302, f"{visitor.name} could not log in"
            visitor.csrf = visitor.client.csrf_token("/notifications")
        else:
            visitor.csrf = visitor.client.csrf_token("/login")
    owner_session = session.scalar(sa.select(UserSession.id).where(UserSession.user_id == owner.id))

    manage = make_token("manage", {"appointment": appointment.id})
    # An order's work order waiting for its contact to book the visit (#16).
    waiting = create_work_order(
        session, account=account, contact=contact, location=location, owner_kind="order"
    )
    visit = issue_visit_link(session, waiting, contact, service, by=scheduler).rsplit("/", 1)[1]
    ids = {
        "appointment_id": appointment.id,
        "work_order_id": appointment.work_order_id,
        "task_id": task.id,
        "account_id": account.id,
        "location_id": location.id,
        "agent_id": agent_x.id,
        "entry_id": time_off.id,
        "user_id": agent_x.user_id,
        "service_id": service.id,
        "skill_id": skill.id,
        "territory_id": territory.id,
        "holiday_id": holiday.id,
        "endpoint_id": webhook.id,
        "run_id": run.id,
        "message_id": message.id,
        "token_id": tokens["customer (owner)"].id,
        "session_id": owner_session,
        "queue_id": scheduling_queue_id(session),
        "calendar_id": calendar.id,
        "hours_id": calendar.hours[0].id,
        "calendar_holiday_id": closure.id,
        "process_id": process.id,
        "definition_id": milestone.id,
        "action_id": sla_action.id,
        "case_id": case.id,
        "rule_id": rule.id,
        "import_id": imported.id,
        "product_id": product.id,
        "row_id": draft_row.id,
        "version": published.version,
        "order_id": order.id,
        "line_id": order.lines[0].id,
    }
    words = {
        "static": {"filename": "css/portal.css"},
        "booking.act": {"action": "cancel"},
        "booking.manage_act": {"action": "cancel", "token": manage},
        "booking.manage": {"token": manage},
        "booking.manage_move": {"token": manage},
        "booking.manage_move_windows": {"token": manage},
        "booking.manage_move_confirm": {"token": manage},
        "booking.manage_done": {"status": "cancelled"},
        "calendar_feeds.feed": {"token": feed_token(feed, SECRET_KEY)},
        "booking.visit": {"token": visit},
        "booking.visit_windows": {"token": visit},
        "booking.visit_confirm": {"token": visit},
        "staff.appointment_action": {"action": "cancel"},
        "staff.task_action": {"action": "accept"},
        "cases.case_action": {"action": "comment"},
        "cases.work_order_action": {"action": "take"},
        "settings.agent_active": {"action": "deactivate"},
        "settings.user_active": {"action": "deactivate"},
        "settings.rule_template": {"slug": AGING_TEMPLATE},
        "privacy.anonymise": {"user_id": owner.id},  # customers only: a staff id is 404
        "api.import_file": {"kind": "account_feed"},
        "orders.order_action": {"action": "place"},
        "orders.order_work_action": {"action": "take"},
        # No real secret for these: the bogus one must be refused.
        "accounts.reset_password": {"token": "bogus"},
        "accounts.verify": {"token": "bogus"},
        "accounts.accept_invitation": {"token": "bogus"},
    }
    start = (VISIT + timedelta(days=1)).isoformat()
    choice = {"service": service.id, "location": location.id}
    on_behalf = {**choice, "contact": contact.id}
    queries = {
        "booking.book": choice,
        "booking.windows": choice,
        "booking.confirm": {**choice, "start": start},
        "staff.book_for": on_behalf,
        "staff.book_for_confirm": {**on_behalf, "start": start},
        "booking.visit_confirm": {"start": start},
        "staff.work_order_book_confirm": {"service": service.id, "start": start},
        "staff.work_order_send_link": {"service": service.id},
        "api.list_windows": {"location": location.id, "from": "2026-06-01", "to": "2026-06-07"},
        "orders.new_order": {"account": account.id},
    }
    return World(ids, words, queries, visitors, engine=app.extensions["portal.engine"])


def _a_catalogue(session):
    """A product, version 1 of the decision table published, and a draft with its row."""
    product = catalogue.create_product(session, catalogue.ProductData("MATRIX", "Matrix"))
    queue = create_queue(session, name="Orders")
    row = tables.RowData(product_id=product.id, queue_id=queue.id, tasks="Check access")
    first = tables.start_draft(session)
    tables.add_row(session, first, row)
    tables.publish(session, first)
    draft = tables.start_draft(session)
    return product, first, draft.rows[0]


def _an_import(app, session, manager) -> Import:
    """A checked import with its file kept, as an upload leaves it."""
    kept = store_stream(
        io.BytesIO(b"account,days\n"), Path(app.config["IMPORT_DIR"]), max_bytes=1024
    )
    imported = Import(
        kind="account_feed",
        source="upload",
        filename="feed.csv",
        sha256=kept.sha256,
        size_bytes=kept.size,
        stored_path=kept.path,
        status="checked",
        created_by_id=manager.id,
        checked_at=NOW,
    )
    session.add(imported)
    return imported


def _an_order(session, account, location, contact, scheduler, product) -> Order:
    """A placed order of account A: one line at its address, one product."""
    order = Order(account=account, status="placed", fulfilment_user=scheduler, placed_at=NOW)
    order.lines = [
        OrderLine(
            position=1,
            location=location,
            contact=contact,
            items=[OrderLineItem(product=product, quantity=1)],
        )
    ]
    session.add(order)
    session.flush()
    return order


# Ids of records somebody owns: account A's (the customer pages, the API), agent X's
# tasks, the owner's own tokens and sessions. The others (services, skills, settings'
# rows) belong to the organisation, and only the role decides.
OWNED_ARGS = {
    "appointment_id",
    "work_order_id",
    "task_id",
    "account_id",
    "location_id",
    "token_id",
    "session_id",
    "case_id",
    "order_id",
}

# Bodies that pass validation, so that a refusal is the record check's, not a 422.
API_BODIES = {
    "api.cancel": {"reason": "Checking access"},
    "api.decline": {"reason": "Checking access"},
    "api.reschedule": {"start": (VISIT + timedelta(days=1)).isoformat()},
    "api.sign_off": {"full_name": "Checking Access", "consent": True},
    "api.add_case_comment": {"text": "Checking access"},
    "api.create_order": {"account_id": 1, "fulfilment_user_id": 1},
    "api.add_order_line": {
        "location_id": 1,
        "contact_id": 1,
        "items": [{"product_code": "MATRIX", "quantity": 1}],
    },
}


# --- the database digest -----------------------------------------------------------------------

# Bookkeeping a read may write, each for a reason:
IGNORED_COLUMNS = {
    # A session's last activity, address and browser: the idle timeout and the
    # profile's device list are made of them (portal/accounts/browser.py).
    "user_sessions": {"last_seen_at", "ip", "user_agent"},
    # When a token was last used: shown on the API tokens page.
    "api_tokens": {"last_used_at"},
}
IGNORED_TABLES = {
    # Request counters of the rate limiter (the API and calendar feeds count reads).
    "api_rate_counters",
}


def _watched() -> list[tuple[str, list[sa.Column]]]:
    return [
        (
            table.name,
            [c for c in table.columns if c.name not in IGNORED_COLUMNS.get(table.name, ())],
        )
        for table in Base.metadata.sorted_tables
        if table.name not in IGNORED_TABLES
    ]


def digest(engine: sa.Engine) -> dict[str, str]:
    """A checksum of every row of every table (bar the bookkeeping above)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # One round trip, the server hashing each table: a query per table after
            # each of the thousand requests took the matrix past a minute.
            parts = []
            for name, columns in _watched():
                listed = ", ".join(f'"{c.name}"' for c in columns)
                parts.append(
                    "(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
                    f'FROM (SELECT {listed} FROM "{name}") AS r) AS "{name}"'
                )
            row = connection.exec_driver_sql("SELECT " + ", ".join(parts)).mappings().one()
            return dict(row)
        sums = {}
        for name, columns in _watched():
            rows = connection.execute(sa.select(*columns)).all()
            text = "\n".join(sorted(repr(tuple(row)) for row in rows))
            sums[name] = hashlib.sha256(text.encode()).hexdigest()
        return sums


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


# --- what each visitor should get --------------------------------------------------------------

OK, LOGIN, DENIED, HIDDEN, REFUSED_TOKEN = "ok", "login", "403", "404", "404/410"


def expected(rule: Rule, visitor: Visitor, has_ids: bool) -> str:
    if rule.kind == "public":
        return OK
    if rule.kind == "token":
        return OK
    if visitor.role is None:
        return LOGIN
    if rule.kind == "login":
        # The ids are the owner's own rows: anybody else asking for them gets 404.
        return OK if (not has_ids or visitor.name == "customer (owner)") else HIDDEN
    if visitor.role == "customer":
        if not rule.customer:
            return DENIED
        return OK if (visitor.owner or not has_ids) else HIDDEN
    if visitor.role == "backoffice":
        if rule.backoffice == OK or (rule.backoffice == HIDDEN and not has_ids):
            return OK
        if rule.backoffice in (HIDDEN, DENIED):
            return rule.backoffice
        return HIDDEN if (rule.hidden and has_ids) else DENIED
    if rule.role is not None and ROLE_RANK[visitor.role] >= ROLE_RANK[rule.role]:
        return OK
    if rule.assigned and visitor.role == "agent" and has_ids:
        return OK if visitor.owner else HIDDEN
    return HIDDEN if (rule.hidden and has_ids) else DENIED


def verdict(want: str, response, api: bool) -> bool:
    status = response.status_code
    if want == LOGIN:
        if api:
            return status == 401
        return status == 302 and response.location.split("?")[0].endswith("/login")
    if want == DENIED:
        return status == 403
    if want == HIDDEN:
        return status == 404
    if want == REFUSED_TOKEN:
        # 404/410; the account links (reset, verify, invite) answer 400 with a page
        # saying the link is not valid, which tells nothing either.
        return status in (400, 404, 410)
    # OK: let in. Anything but a refusal, a missing record or a crash.
    if status in (401, 403, 404, 405, 410) or status >= 500:
        return False
    return not (status == 302 and response.location.split("?")[0].endswith("/login"))


# --- the matrix --------------------------------------------------------------------------------


def routes(app, endpoints: Iterable[str] | None = None):
    """(endpoint, method, rule) for every route, or for `endpoints` only."""
    wanted = None if endpoints is None else set(endpoints)
    for url_rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if wanted is not None and url_rule.endpoint not in wanted:
            continue
        for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
            yield url_rule.endpoint, method, url_rule


def check_matrix(app, world: World, endpoints: Iterable[str] | None = None) -> World:
    """Visit the routes as every visitor; collect failures in `world.failures`."""
    adapter = app.url_map.bind("localhost")
    before = digest(world.engine)
    for endpoint, method, url_rule in routes(app, endpoints):
        rule = RULES.get(endpoint)
        if rule is None:
            world.failures.append(missing_rule_message(endpoint, [url_rule.rule]))
            continue
        values = dict(world.words.get(endpoint, {}))
        int_args = [a for a in url_rule.arguments if a not in values]
        owned = bool(OWNED_ARGS.intersection(int_args)) or endpoint in world.queries
        for name in int_args:
            if name not in world.ids:
                world.failures.append(
                    f"{endpoint}: no record for <{name}> in the world's ids: add one "
                    f"(a record of account A, agent X or the owner) to build_world"
                )
                break
            values[name] = world.ids[name]
        else:
            query = world.queries.get(endpoint, {})
            url = adapter.build(endpoint, {**values, **query}, method=method)
            api = url.startswith("/api/")
            variants = [(url, None)]
            if rule.kind == "token" and values["token"] != "bogus":
                bogus = {**values, **query, "token": "x" + str(values["token"])[::-1][:40]}
                variants.append((adapter.build(endpoint, bogus, method=method), REFUSED_TOKEN))
            for target, override in variants:
                for visitor in world.visitors:
                    if rule.kind == "token" and override is None and values["token"] == "bogus":
                        want = REFUSED_TOKEN
                    else:
                        want = override or expected(rule, visitor, owned)
                    if method != "GET" and want == OK:
                        continue  # an allowed write would change the shared world
                    body = API_BODIES.get(endpoint, {})
                    before = _visit(world, visitor, method, target, want, api, body, before)
    return world


def _visit(world, visitor, method, url, want, api, body, before):
    headers = {}
    if api and visitor.bearer and visitor.role is not None:
        headers["Authorization"] = f"Bearer {visitor.bearer}"
    kwargs = {"headers": headers}
    if method != "GET":
        if api:
            kwargs["json"] = body
        else:
            kwargs["data"] = {"csrf_token": visitor.csrf}
    response = visitor.client.open(url, method=method, **kwargs)
    response.close()  # a static file's handle, say
    world.cases += 1
    where = f"{method} {url} as {visitor.name}"
    if not verdict(want, response, api):
        world.failures.append(
            f"{where}: wanted {want}, got {response.status_code}"
            + (f" -> {response.location}" if response.location else "")
        )
    after = digest(world.engine)
    moved = changed(before, after)
    if moved and (method == "GET" or want != OK):
        world.failures.append(f"{where} changed the database: {', '.join(moved)}")
    return after


# --- the tests ---------------------------------------------------------------------------------

# The matrix visits 8 visitors x about 145 routes (denied writes, every read, and a wrong
# secret for each token route); fewer means routes or visitors went missing unseen.
MINIMUM_CASES = 900


def test_every_route_answers_every_visitor_as_its_rule_says(app, session, frozen_now):
    # Every visitor calls every API operation once, the clock frozen in one rate-limit
    # window: past the limits (30 refused requests an address, 120 a user) the limit, not
    # the rule, would answer 429.
    app.config.update(API_RATE_LIMIT=1000, API_AUTH_FAILURE_LIMIT=1000)
    world = build_world(app, session, frozen_now)
    session.commit()

    check_matrix(app, world)

    print(f"\naccess matrix: {world.cases} route x visitor x record cases checked")
    assert not world.failures, "\n".join(world.failures)
    assert world.cases >= MINIMUM_CASES


def test_every_rule_names_a_route_that_exists(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}

    assert sorted(set(RULES) - endpoints) == []


def test_api_rules_match_the_registry(app):
    """The API's roles are declared to its registry too: the two must agree."""
    for op in OPERATIONS:
        rule = RULES[f"api.{op.endpoint}"]
        declared = set(op.roles)
        if not declared:  # every token passes the registry; the view checks the record
            assert rule.kind == "login" or (rule.customer and rule.assigned), op.endpoint
            continue
        assert ("customer" in declared) == rule.customer, op.endpoint
        # Back office is outside the ladder: the matrix has no back-office visitor
        # (tests/integration/test_api_cases.py covers its tokens).
        staff_roles = declared - {"customer", "backoffice"}
        lowest = min(staff_roles, key=ROLE_RANK.get) if staff_roles else None
        assert lowest == ("agent" if rule.assigned else rule.role), op.endpoint


def test_a_route_without_a_rule_fails_the_matrix(app, session, frozen_now):
    @app.get("/matrix-probe/<int:appointment_id>")  # before the first request, as Flask wants
    def matrix_probe(appointment_id):
        return "anyone"

    world = build_world(app, session, frozen_now)
    session.commit()

    check_matrix(app, world, endpoints=["matrix_probe"])

    assert world.failures == [
        missing_rule_message("matrix_probe", ["/matrix-probe/<int:appointment_id>"])
    ]


def test_removing_the_account_check_from_an_appointment_page_fails_the_matrix(
    app, session, frozen_now, monkeypatch
):
    """The matrix catches a lost object-level check: with the account check taken out
    of the loader the customer pages use, another account's customer opens the page."""
    import portal.booking.routes.actions as actions
    from portal.booking.models import Appointment

    world = build_world(app, session, frozen_now)
    session.commit()
    check_matrix(app, world, endpoints=["booking.appointment"])
    assert world.failures == []

    def any_account(db_session, user, appointment_id):
        return db_session.get(Appointment, appointment_id)

    monkeypatch.setattr(actions, "get_customer_appointment", any_account)
    world.failures.clear()
    check_matrix(app, world, endpoints=["booking.appointment"])

    url = f"/appointments/{world.ids['appointment_id']}"
    assert world.failures == [f"GET {url} as customer (another account): wanted 404, got 200"]


def test_a_get_that_writes_fails_the_matrix(app, session, frozen_now, monkeypatch):
    """The digest catches a read that changes state: the notifications list as it was
    before "Mark all as read" became a POST (#12, finding 8)."""
    import portal.notifications.routes as routes
    from portal.db import commit
    from portal.notifications.services import mark_all_read

    world = build_world(app, session, frozen_now)
    session.commit()
    drawn = routes._list_context

    def marking_context():
        context = drawn()
        mark_all_read(routes.get_session(), routes.current_user.id)
        commit()
        return context

    monkeypatch.setattr(routes, "_list_context", marking_context)
    check_matrix(app, world, endpoints=["notifications.index"])

    assert world.failures == [
        "GET /notifications as customer (owner) changed the database: notifications"
    ]


def test_another_agents_task_is_not_found_and_left_alone(session, client, auth, frozen_now):
    """Regression: any staff user could post to /staff/tasks/<id>/<action> for somebody
    else's task and got a flash and a redirect (the services refused), telling a task
    that exists from one that does not; now it is 404, as a missing task is."""
    from portal.workorders.models import WorkOrderTask

    frozen_now(NOW)
    _, _, contact = create_customer(session)
    holder, stranger = create_agent(session), create_agent(session)
    appointment = create_appointment(
        session, start=VISIT, contact=contact, agents=[holder], status="requested"
    )
    task = create_task(
        session, work_order=appointment.work_order, agent=holder, appointment_id=appointment.id
    )
    for user in (stranger.user, create_user(session, role="scheduler")):
        auth.login(user.email)
        for task_id in (task.id, task.id + 100):
            answer = client.post_form(f"/staff/tasks/{task_id}/accept", form_url="/staff/")
            assert answer.status_code == 404
        auth.logout()

    assert session.get(WorkOrderTask, task.id).status == "assigned"
