"""The app factory: `create_app()` builds the Flask application.

This is the top of the house: the only module that imports every package's views and
binds them, with the watchers and event expanders each floor offers (README,
"Architecture"). Nothing imports it but the entry points (cli, scheduler, tests)."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import config as config_module
from portal import db, formatting
from portal.accounts import browser
from portal.accounts.routes import bp as accounts_bp
from portal.accounts.watchers import (
    add_profile_section,
    watch_access_revoked,
    watch_location_use,
)
from portal.api.routes import init_app as init_api
from portal.api.tokens import revoke_all_tokens
from portal.booking.announce import KIND, expand_appointment_event
from portal.booking.hooks import expand_webhooks
from portal.booking.queries import appointments_at
from portal.booking.routes import bp as booking_bp
from portal.booking.watchers import work_order_moved
from portal.calendar_feeds.routes import bp as calendar_feeds_bp
from portal.calendar_feeds.services import delete_feed
from portal.cases.events import KIND as CASE_KIND
from portal.cases.handoff import case_follows_its_work
from portal.cases.hooks import expand_case_webhooks
from portal.cases.notices import expand_case_event
from portal.cases.routes import bp as cases_bp
from portal.cases.routes import support_bp
from portal.cases.watchers import watch_case
from portal.cli import register_commands
from portal.dispatch.disruptions import apply_disruption
from portal.dispatch.routes import bp as dispatch_bp
from portal.errors import register_handlers
from portal.extensions import csrf, htmx, login_manager
from portal.feed import kind as feed_kind  # noqa: F401  (registers the account feed's import kind)
from portal.feed.watchers import watch as watch_fed_records
from portal.health import bp as health_bp
from portal.ids import MAX_ID
from portal.imports.routes import bp as imports_bp
from portal.notifications.events import register_expander
from portal.notifications.routes import bp as notifications_bp
from portal.orders.routes import bp as orders_bp
from portal.orders.routes import customer_bp as my_orders_bp
from portal.orders.routes.common import order_handler
from portal.orders.watchers import order_follows_its_work
from portal.privacy.routes import bp as privacy_bp
from portal.reports.routes import bp as reports_bp
from portal.rules.views import case_rule_firings
from portal.rules.watchers import rules_follow_fed_records
from portal.settings.routes import bp as settings_bp
from portal.sla.hooks import expand_milestone_webhooks
from portal.sla.services import EVENT_KIND as MILESTONE_EVENTS
from portal.sla.views import case_milestones, hours_minutes
from portal.sla.watchers import case_moved
from portal.sla.watchers import work_order_moved as sla_work_order_moved
from portal.staff.routes import bp as staff_bp
from portal.workforce.watchers import watch_availability
from portal.workorders.services import work_orders_at
from portal.workorders.watchers import watch


class RecordId(IntegerConverter):
    """Flask's int converter, bounded to the ids our INTEGER columns can hold."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding (tests pass one)."""
    settings = config_module.from_environment(config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(config_module.ROOT / "templates"),
        static_folder=str(config_module.ROOT / "static"),
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        LOGIN_MAX_FAILURES=5,
        LOGIN_LOCK_MINUTES=15,
        WINDOWS_REFRESH_SECONDS=15,
        MAIL_FROM="Portal <no-reply@portal.test>",
    )
    app.config.update(settings)

    if app.config.get("PROXY_COUNT"):
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    # Every <int:...> in a URL is a record id: ids past a 32-bit integer are 404 at the
    # router, instead of an overflow error from the database.
    app.url_map.converters["int"] = RecordId
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    _init_login(app)
    _register_blueprints(app)
    _register_event_expanders()
    _register_watchers()
    _register_security_headers(app)
    _register_template_helpers(app)

    register_handlers(app)
    init_api(app)  # after the page handlers: it answers /api/ paths in problem+json
    register_commands(app)
    return app


def _init_login(app: Flask) -> None:
    """Flask-Login for `current_user`, on sessions kept in the database: a request is
    logged in only through a live `user_sessions` row (portal/accounts/browser.py)."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(browser.loaded_user)
    login_manager.unauthorized_handler(browser.unauthorized)
    browser.init_app(app)  # before the blueprints: its hook runs before theirs


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(health_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(calendar_feeds_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(dispatch_bp, url_prefix="/dispatch")
    app.register_blueprint(settings_bp, url_prefix="/settings")
    app.register_blueprint(notifications_bp)
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(imports_bp, url_prefix="/imports")
    app.register_blueprint(privacy_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(my_orders_bp)

    @app.get("/")
    def index():
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        if current_user.is_team:  # staff and back office: "My tasks"
            return redirect(url_for("staff.home"))
        return redirect(url_for("booking.home"))


def _register_event_expanders() -> None:
    """Who expands the events services record (portal/notifications/events.py), in this
    order: an appointment's notices and e-mails, then its webhook deliveries
    (portal/booking/hooks.py); a case's likewise (portal/cases/notices.py, hooks.py)."""
    register_expander(KIND, expand_appointment_event)
    register_expander(KIND, expand_webhooks)
    register_expander(CASE_KIND, expand_case_event)
    register_expander(CASE_KIND, expand_case_webhooks)
    register_expander(MILESTONE_EVENTS, expand_milestone_webhooks)


def _register_watchers() -> None:
    """Who acts when a lower floor changes: a change to an agent's availability parks the
    bookings it can no longer keep (portal/workforce/watchers.py); a new password revokes
    the user's API tokens and calendar feed, an address stays while appointments or work
    orders use it, and the profile shows the features' sections (portal/accounts/watchers.py);
    booking follows the status changes of the work orders it owns
    (portal/workorders/watchers.py)."""
    watch_availability("park-unkeepable-bookings", apply_disruption)
    watch_access_revoked("api-tokens", revoke_all_tokens)
    watch_access_revoked("calendar-feed", delete_feed)
    watch_location_use("appointments", appointments_at)
    watch_location_use("work-orders", work_orders_at)
    add_profile_section("api-tokens", "api/_profile_panel.html")
    add_profile_section("calendar-feed", "calendar_feeds/_panel.html")
    add_profile_section("your-data", "privacy/_profile_panel.html")
    watch("booking", "booking-follows-its-work-orders", work_order_moved)
    watch("case", "case-follows-its-work", case_follows_its_work)
    # An order's work notes, points of no return and status follow its work orders.
    watch("order", "orders", order_follows_its_work)
    # The SLA clocks follow every case and the back-office work orders cases own.
    watch_case("sla-clocks", case_moved)
    watch("case", "sla-clocks", sla_work_order_moved)
    # The rules follow every change of fed records, fed or edited by hand (the module
    # registers itself on import; registering again is a no-op).
    watch_fed_records(rules_follow_fed_records)


# Only our own origin; htmx needs no inline script or eval. Inline styles are not
# allowed either: htmx's indicator styles are switched off in base.html's htmx-config.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if current_user and getattr(current_user, "is_authenticated", False):
            # Pages with personal data are never stored by shared caches or the back button.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(formatting.FILTERS)
    app.jinja_env.globals.update(formatting.GLOBALS)
    # The case page's SLA block (templates/cases/_milestones.html): cases cannot ask sla.
    app.jinja_env.globals.update(case_milestones=case_milestones, sla_hours=hours_minutes)
    # The case page's "why did this case open?" (templates/rules/_why.html).
    app.jinja_env.globals.update(case_rule_firings=case_rule_firings)
    # The nav's "Orders" for back office: the Orders queue's members only.
    app.jinja_env.globals.update(handles_orders=order_handler)
