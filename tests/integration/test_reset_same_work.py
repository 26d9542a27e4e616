"""Asking for a password reset does the same work whoever asks: a registered address, an
unknown one, a deactivated user's and one past its hourly limit each cost the same SQL
statements, one signed link and the same e-mail rendered. So the time the answer takes
does not tell whether an address has an account. (A timing test would be flaky; the work
done is what makes the time.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import template_rendered

from portal.accounts import links
from portal.accounts.credentials import RESETS_PER_HOUR
from portal.accounts.emails import SUBJECT_RESET
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from tests.factories import create_customer, create_user

# The savepoint that holds the e-mail ends in RELEASE when it is sent and in ROLLBACK TO
# when there is nobody to send it to: the one statement whose text must differ.
_SAVEPOINT_END = ("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@dataclass
class Work:
    statements: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)


def _statement(sql: str) -> str:
    sql = " ".join(sql.split())
    return "END SAVEPOINT" if sql.upper().startswith(_SAVEPOINT_END) else sql


@pytest.fixture
def measure(app, client, monkeypatch):
    """`measure(email)`: POST /reset for `email` and return the work that request did."""
    engine = app.extensions["portal.engine"]
    real_make_token = links.make_token

    def measure(email: str) -> Work:
        token = client.csrf_token("/reset")
        work = Work()

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            work.statements.append(_statement(statement))

        def on_render(sender, template, context, **extra):
            work.rendered.append(template.name)

        def counting_make_token(purpose, payload, **kwargs):
            work.signed.append(purpose)
            return real_make_token(purpose, payload, **kwargs)

        monkeypatch.setattr(links, "make_token", counting_make_token)
        sa.event.listen(engine, "before_cursor_execute", on_execute)
        template_rendered.connect(on_render, app)
        try:
            response = client.post("/reset", data={"email": email, "csrf_token": token})
        finally:
            template_rendered.disconnect(on_render, app)
            sa.event.remove(engine, "before_cursor_execute", on_execute)
            monkeypatch.setattr(links, "make_token", real_make_token)
        assert response.status_code == 302
        assert response.location.endswith("/reset/sent")
        return work

    return measure


def reset_emails(session, to: str) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.recipient == to, OutboxMessage.subject == SUBJECT_RESET)
    )


def test_an_unknown_address_costs_what_a_registered_one_does(session, measure):
    create_customer(session, email="jo@example.com")

    known = measure("jo@example.com")
    unknown = measure("nobody@example.com")

    assert unknown.statements == known.statements
    assert any(s.startswith("INSERT INTO outbox") for s in unknown.statements)
    assert unknown.signed == known.signed == ["reset-password"]
    assert unknown.rendered == known.rendered
    assert "email/accounts/reset.txt" in unknown.rendered
    # ...but only the registered address gets an e-mail.
    assert reset_emails(session, "jo@example.com") == 1
    assert reset_emails(session, "nobody@example.com") == 0


def test_a_deactivated_user_costs_what_an_active_one_does(session, measure):
    create_customer(session, email="jo@example.com")
    create_user(session, email="gone@example.com", active=False)

    active = measure("jo@example.com")
    deactivated = measure("gone@example.com")

    assert deactivated.statements == active.statements
    assert deactivated.signed == active.signed == ["reset-password"]
    assert deactivated.rendered == active.rendered
    assert reset_emails(session, "gone@example.com") == 0


def test_an_address_past_its_hourly_limit_costs_what_a_first_request_does(
    session, measure, frozen_now
):
    start = frozen_now(now_utc())
    create_customer(session, email="jo@example.com")
    first = measure("jo@example.com")
    for minute in range(1, RESETS_PER_HOUR):
        frozen_now(start + timedelta(minutes=minute))
        measure("jo@example.com")
    assert reset_emails(session, "jo@example.com") == RESETS_PER_HOUR

    frozen_now(start + timedelta(minutes=30))
    limited = measure("jo@example.com")

    assert limited.statements == first.statements
    assert limited.signed == first.signed == ["reset-password"]
    assert limited.rendered == first.rendered
    assert reset_emails(session, "jo@example.com") == RESETS_PER_HOUR
