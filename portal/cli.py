"""The commands of `portal <command>` (portal/__main__.py; or `flask --app portal.app <command>`),
bound to the app by the app factory."""

from __future__ import annotations

import logging
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app

from portal import demo
from portal import migrate as migrations
from portal.accounts import services as accounts
from portal.accounts.emails import tell_token_created
from portal.accounts.models import User
from portal.accounts.services import normalise_email
from portal.api.tokens import create_token, revoke_tokens_named
from portal.cases.mail_listener import run_inbound_mail
from portal.db import get_session
from portal.errors import PortalError
from portal.formatting import org_zone
from portal.mail import run_mail_sink
from portal.queues.services import sync_scheduling_membership
from portal.scheduler import run_scheduler
from portal.timeutil import now_utc
from portal.webhooks.sink import run_webhook_sink


def register_commands(app) -> None:
    @app.cli.command("migrate")
    def migrate_command():
        """Upgrade the database to the newest schema."""
        migrations.upgrade(current_app.config["DATABASE_URL"])
        click.echo("Database is at the newest schema.")

    @app.cli.command("make-migration")
    @click.option("-m", "--message", required=True)
    def make_migration_command(message: str):
        """Autogenerate a migration from the models (read and fix it before committing)."""
        migrations.revision(current_app.config["DATABASE_URL"], message)

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", required=True)
    @click.option(
        "--role",
        type=click.Choice(["customer", "agent", "scheduler", "manager", "admin", "backoffice"]),
        required=True,
    )
    @click.option(
        "--account",
        default=None,
        help="For a customer: the account's number (as in /staff/customers/<number>) or name.",
    )
    @click.option("--time-zone", default=None)
    @click.password_option()
    def create_user_command(email, full_name, role, account, time_zone, password):
        """Create a user with a password: staff, or a customer of an existing account."""

        if role == "customer" and account is None:
            raise click.UsageError(
                "A customer logs in as a contact of a customer account: give --account "
                "with the account's number or name. (People who book for themselves sign "
                "up at /signup; staff can invite a contact from the account's page.)"
            )
        if role != "customer" and account is not None:
            raise click.UsageError(f"--account is for customers only; {role}s are staff.")
        session = get_session()
        fallback_zone = org_zone()
        try:
            if role == "customer":
                customer_account = accounts.find_account(session, account)
                user = accounts.create_customer_user(
                    session,
                    customer_account,
                    email=email,
                    full_name=full_name,
                    password=password,
                    time_zone=time_zone
                    or accounts.account_time_zone(customer_account, fallback_zone),
                )
                created = f"customer {user.email} of {customer_account.name}"
            else:
                user = accounts.create_user(
                    session,
                    email=email,
                    full_name=full_name,
                    role=role,
                    password=password,
                    time_zone=time_zone or fallback_zone,
                )
                sync_scheduling_membership(session, user)
                created = f"{user.role} {user.email}"
        except PortalError as err:
            raise click.ClickException(err.message) from None
        session.commit()
        click.echo(f"Created {created}.")

    @app.cli.command("create-token")
    @click.option("--email", required=True, help="The user the token acts as.")
    @click.option("--name", required=True, help="What the token is for.")
    @click.option("--expires-days", type=click.IntRange(min=1), default=None)
    def create_token_command(email: str, name: str, expires_days: int | None):
        """Make a personal API token and print its secret (shown this once only)."""

        session, user = _user_by_email(email)
        expires_at = now_utc() + timedelta(days=expires_days) if expires_days else None
        try:
            token, secret = create_token(session, user, name, expires_at=expires_at)
        except PortalError as err:
            raise click.ClickException(err.message) from None
        tell_token_created(session, user, token.name)  # as from the tokens page
        session.commit()
        click.echo(secret)

    @app.cli.command("revoke-token")
    @click.option("--email", required=True)
    @click.option("--name", required=True, help="Revokes every working token of this name.")
    def revoke_token_command(email: str, name: str):
        """Revoke a user's API tokens by name."""

        session, user = _user_by_email(email)
        count = revoke_tokens_named(session, user, name)
        if not count:
            raise click.ClickException(f"{user.email} has no working token named {name!r}.")
        session.commit()
        click.echo(f"Revoked {count} token{'s' if count != 1 else ''}.")

    @app.cli.command("demo")
    @click.option("--force", is_flag=True, help="Load even when demo data is already there.")
    @click.option(
        "--webhook-url",
        default=None,
        help="Where the demo webhook endpoint sends events (default: portal webhook-sink "
        "on 127.0.0.1:8026).",
    )
    def demo_command(force: bool, webhook_url: str | None):
        """Load the demo data once: accounts, agents, services and a month of bookings."""

        session = get_session()
        created = demo.load_demo(
            session, force=force, webhook_url=webhook_url or demo.DEMO_WEBHOOK_URL
        )
        session.commit()
        if created:
            click.echo("Demo data loaded.")
        else:
            click.echo("Demo data is already loaded.")
        click.echo("Demo log-ins (password 'demo'):")
        for email in (
            "customer@demo.test",
            "agent@demo.test",
            "scheduler@demo.test",
            "manager@demo.test",
            "admin@demo.test",
            "finance@demo.test",
            "orders@demo.test",
            "aging@demo.test",
            "sales@demo.test",
        ):
            click.echo(f"  {email}")
        if demo.demo_token_works(session):
            click.echo(f"Demo API token (acts as {demo.DEMO_TOKEN_EMAIL}):")
            click.echo(f"  {demo.DEMO_API_TOKEN}")

    @app.cli.command("scheduler")
    def scheduler_command():
        """Run the background jobs (send e-mail, reminders) until stopped; run only one."""

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        run_scheduler(current_app._get_current_object())

    @app.cli.command("mail-sink")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8025, show_default=True, type=int)
    def mail_sink_command(host: str, port: int):
        """A local SMTP server that accepts mail and discards it (for `make run`)."""

        run_mail_sink(host, port, echo=lambda line: click.echo(line, err=True))

    @app.cli.command("inbound-mail")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8027, show_default=True, type=int)
    def inbound_mail_command(host: str, port: int):
        """The inbound mail listener: replies to case+TOKEN@ addresses land on the case."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command
        app = current_app._get_current_object()
        run_inbound_mail(app, host, port, echo=lambda line: click.echo(line, err=True))

    @app.cli.command("webhook-sink")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8026, show_default=True, type=int, help="0: any free port.")
    def webhook_sink_command(host: str, port: int):
        """A local webhook receiver that answers 200 to every POST and logs it (for `make run`)."""

        run_webhook_sink(host, port, echo=lambda line: click.echo(line, err=True))


def _user_by_email(email: str):

    session = get_session()
    user = session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"There is no user {email}.")
    return session, user
