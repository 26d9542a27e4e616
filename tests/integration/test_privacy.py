"""Privacy: a customer downloads everything kept about it (and nothing of anyone else),
and an admin's anonymisation leaves no trace of the person's name, e-mail or phone in
any table or stored file, while the work order and appointment rows keep their history."""

from __future__ import annotations

import json
import pathlib
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import LoginAttempt, User, UserSession
from portal.api import tokens
from portal.audit.models import AuditEntry
from portal.booking.models import Appointment, SignOff
from portal.calendar_feeds.services import reset_feed
from portal.notifications.models import Notification
from portal.notifications.services import queue_email
from portal.ratelimit import RateCounter
from portal.reports.models import ReportRun
from portal.webhooks.models import WebhookAttempt, WebhookEndpoint
from portal.workorders.models import TimelineEntry, WorkOrder
from tests.factories import NOW, create_appointment, create_customer, create_user

NAME, EMAIL, PHONE = "Zelda Quigley", "zelda.quigley@example.com", "+44 20 7946 0999"


@pytest.fixture
def zelda(session, frozen_now):
    """A customer with a history: an appointment signed off, notes naming her, notices,
    e-mails, a webhook delivery, a token, a feed, a session, counters and a report."""
    frozen_now(NOW)
    user, account, contact = create_customer(session, full_name=NAME, email=EMAIL, phone=PHONE)
    account.name = f"{NAME} household"
    start = NOW - timedelta(days=2)
    appointment = create_appointment(session, start=start, contact=contact, status="completed")
    appointment.note = f"Ring {PHONE}; ask for zelda"
    wo = appointment.work_order
    wo.status = "closed"
    wo.description = f"Reported by {NAME} ({EMAIL})"
    session.add_all(
        [
            TimelineEntry(
                subject_type="work_order",
                subject_id=wo.id,
                work_order_id=wo.id,
                action="note",
                note=f"Spoke to {NAME.upper()} on {PHONE}",
                visibility="customer",
            ),
            SignOff(
                appointment_id=appointment.id,
                user_id=user.id,
                full_name="Zelda Q. Quigley",
                consent=True,
                remote_addr="203.0.113.9",
                user_agent="Firefox",
                signature_png=b"\x89PNG signed by Zelda Quigley",
            ),
            Notification(user_id=user.id, message=f"Hello {NAME}, your visit is confirmed"),
            LoginAttempt(email=EMAIL, remote_addr="203.0.113.9"),
            RateCounter(bucket=f"reset:{EMAIL}", window_start=NOW, count=1),
            UserSession(
                user_id=user.id,
                token_hash="a" * 64,
                role="customer",
                ip="203.0.113.9",
                user_agent="Firefox",
            ),
            ReportRun(
                kind="signoffs",
                fmt="csv",
                date_from=date(2026, 5, 25),
                date_to=date(2026, 6, 1),
                status="done",
                content=f"appointment,name\nSA-1,{NAME}\n".encode(),
            ),
        ]
    )
    staff = create_user(session, role="scheduler", full_name="Sam Scheduler")
    session.add(Notification(user_id=staff.id, message=f"{NAME} confirmed SA-{appointment.id}"))
    queue_email(session, to=EMAIL, subject=f"Your visit, {NAME}", text=f"Dear {NAME}")
    endpoint = WebhookEndpoint(url="https://hooks.example.com/in", secret="whsec_x", events=[])
    session.add(endpoint)
    session.flush()
    payload = json.dumps({"customer": {"name": NAME, "email": EMAIL, "phone": PHONE}})
    hook = queue_email(session, to=endpoint.url, subject="appointment.booked", text=payload)
    hook.channel = "webhook"
    session.flush()
    session.add(
        WebhookAttempt(
            message_id=hook.id,
            endpoint_id=endpoint.id,
            status_code=200,
            response_excerpt=f'{{"ok": true, "who": "{NAME}"}}',
        )
    )
    tokens.create_token(session, user, f"{NAME}'s script", by=user)
    reset_feed(session, user)
    session.commit()
    return user, appointment


def _mentions(session, needles: list[str]) -> list[str]:
    """Every table and every text, JSON and binary column, read by reflection."""
    metadata = sa.MetaData()
    metadata.reflect(session.get_bind())
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String | sa.JSON | sa.LargeBinary | sa.Text) and (
                column.type.__class__.__name__ not in ("JSON", "JSONB", "BYTEA", "BLOB")
            ):
                continue
            for (value,) in session.execute(sa.select(column).where(column.is_not(None))):
                text = (
                    value
                    if isinstance(value, str)
                    else (
                        bytes(value).decode("latin-1")
                        if isinstance(value, bytes | memoryview)
                        else json.dumps(value)
                    )
                )
                for needle in needles:
                    if needle.lower() in text.lower():
                        found.append(f"{table.name}.{column.name}: {needle}")
    return found


def test_the_needles_are_everywhere_before_anonymisation(session, zelda):
    # The search below finds what it looks for: without anonymisation it finds plenty.
    assert len(_mentions(session, [NAME, EMAIL, PHONE])) >= 10


def test_anonymising_a_customer_removes_it_from_every_table_and_file(
    session, client, auth, app, zelda
):
    user, appointment = zelda
    admin = create_user(session, role="admin", email="root@example.com")
    session.commit()
    instance = app.instance_path
    pathlib.Path(instance).mkdir(parents=True, exist_ok=True)
    with open(f"{instance}/report-zelda.csv", "w", encoding="utf-8") as stored:
        stored.write(f"SA-1,{NAME},{EMAIL}\n")
    with open(f"{instance}/unrelated.txt", "w", encoding="utf-8") as stored:
        stored.write("nothing personal\n")
    auth.login("root@example.com")
    url = f"/privacy/customers/{user.id}/anonymise"

    assert client.get(url).status_code == 200
    response = client.post_form(
        url, {"reason": "Asked by e-mail on 1 June (ticket 4411)", "confirm": "y"}
    )

    assert response.status_code == 302
    session.expire_all()
    found = _mentions(session, [NAME, EMAIL, PHONE, "Zelda Q. Quigley"])
    assert found == []
    leftover = [
        p.name
        for p in pathlib.Path(instance).rglob("*")
        if p.is_file()
        and any(n.lower().encode() in p.read_bytes().lower() for n in (NAME, EMAIL, PHONE))
    ]
    assert leftover == []
    assert pathlib.Path(f"{instance}/unrelated.txt").exists()
    # The history stays, without the person.
    kept = session.get(Appointment, appointment.id)
    assert kept.status == "completed"
    assert session.get(WorkOrder, kept.work_order_id).status == "closed"
    anonymised = session.get(User, user.id)
    assert anonymised.full_name == f"Anonymised customer #{user.id}"
    assert anonymised.email.endswith(".invalid")
    assert not anonymised.active and anonymised.password_hash is None
    assert anonymised.contact.phone == ""
    assert all(t.revoked_at is not None for t in tokens.list_tokens(session, anonymised)) or (
        tokens.list_tokens(session, anonymised) == []
    )
    live = session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    assert live == 0
    (entry,) = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "anonymise"))
    assert (entry.actor_id, entry.entity_id) == (admin.id, user.id)
    assert entry.note == "Asked by e-mail on 1 June (ticket 4411)"


def test_anonymisation_asks_for_a_reason_and_a_confirmation(session, client, auth, zelda):
    user, _ = zelda
    create_user(session, role="admin", email="root@example.com")
    session.commit()
    auth.login("root@example.com")

    response = client.post_form(
        f"/privacy/customers/{user.id}/anonymise",
        {"reason": ""},
    )

    assert response.status_code == 422
    session.expire_all()
    assert session.get(User, user.id).full_name == NAME


@pytest.mark.parametrize("role", ["customer", "scheduler", "manager"])
def test_only_admins_anonymise(session, client, auth, zelda, role):
    user, _ = zelda
    create_user(session, role=role, email="someone@example.com")
    session.commit()
    auth.login("someone@example.com")

    assert client.get(f"/privacy/customers/{user.id}/anonymise").status_code == 403


def test_the_export_holds_the_customers_records_and_nothing_of_another_account(
    session, client, auth, zelda
):
    user, appointment = zelda
    other, _account, other_contact = create_customer(
        session, full_name="Oscar Other", email="oscar@example.com", phone="+44 1 555"
    )
    theirs = create_appointment(session, start=NOW + timedelta(days=3), contact=other_contact)
    session.add(Notification(user_id=other.id, message="Oscar's notice"))
    session.commit()
    auth.login(EMAIL)

    response = client.get("/profile/data.json")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_json()
    text = response.get_data(as_text=True)
    assert data["user"]["email"] == EMAIL
    assert data["contacts"][0]["phone"] == PHONE
    assert [a["number"] for a in data["appointments"]] == [appointment.number]
    assert data["timeline"][0]["note"].startswith("Spoke to")
    assert data["sign_offs"][0]["full_name"] == "Zelda Q. Quigley"
    assert any("visit is confirmed" in n["message"] for n in data["notifications"])
    assert [m["subject"] for m in data["emails"]][-1] == f"Your visit, {NAME}"
    assert data["api_tokens"][0]["name"] == f"{NAME}'s script"
    assert data["calendar_feed"]["exists"] is True
    assert len(data["sessions"]) == 2  # the fixture's and this log-in's
    for foreign in ("Oscar", "oscar@example.com", theirs.number, "+44 1 555"):
        assert foreign not in text
    for secret in ("password_hash", "secret_hash", "a" * 64, "whsec_"):
        assert secret not in text


def test_staff_cannot_download_a_customer_export(session, client, auth, frozen_now):
    frozen_now(NOW)
    create_user(session, role="admin", email="root@example.com")
    session.commit()
    auth.login("root@example.com")

    assert client.get("/profile/data.json").status_code == 403
