"""Cases in the customer's download (its account's cases, with what the customer may see)
and in its anonymisation (the texts of the person's cases go, everywhere they were
copied; the cases and their history stay)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.cases.comments import add_comment
from portal.cases.handoff import send_to_back_office
from portal.cases.models import Case
from portal.notifications.models import Notification, OutboxMessage
from portal.privacy.case_data import REMOVED, REMOVED_SUBJECT
from portal.privacy.services import anonymise_customer, export_customer_data
from portal.webhooks import services as webhooks
from portal.webhooks import urls
from portal.workorders.models import TimelineEntry, WorkOrder
from tests.case_factories import create_backoffice_user, create_case, create_queue
from tests.factories import NOW, add_contact, create_customer, create_user
from tests.integration.test_privacy import _mentions

SECRETS = ["The gate code is 4411", "behind the blue shed", "Internal: she sounded upset"]


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    monkeypatch.setattr(urls, "resolve", lambda host, port: ["93.184.215.14"])


@pytest.fixture
def people(session, frozen_now):
    frozen_now(NOW)
    zelda, account, contact = create_customer(session, full_name="Zelda Quigley")
    oscar, _other_account, oscar_contact = create_customer(session, full_name="Oscar Other")
    scheduler = create_user(session, role="scheduler", full_name="Sam Scheduler")
    admin = create_user(session, role="admin")
    return {
        "zelda": zelda,
        "contact": contact,
        "account": account,
        "oscar": oscar,
        "oscar_contact": oscar_contact,
        "scheduler": scheduler,
        "admin": admin,
    }


@pytest.fixture
def zeldas_case(session, people, expand_events) -> Case:
    """Zelda's case with a description, comments of both kinds, work handed to a back
    office, and everything expanded: notices, e-mails and a webhook delivery."""
    webhooks.create_endpoint(session, url="https://hooks.example.com/in", events=["case.created"])
    case = create_case(
        session,
        people["contact"],
        subject="Leak behind the blue shed",
        description="Water everywhere, behind the blue shed.",
    )
    scheduler = people["scheduler"]
    add_comment(session, case, "We will send someone.", visibility="customer", by=scheduler)
    add_comment(session, case, SECRETS[2], visibility="internal", by=scheduler)
    add_comment(session, case, SECRETS[0], visibility="customer", by=people["zelda"])
    clerk = create_backoffice_user(session)
    queue = create_queue(session, members=[clerk])
    send_to_back_office(
        session, case, queue, "Refund the call-out behind the blue shed", "", scheduler
    )
    expand_events()
    session.commit()
    return case


def export(session, user) -> dict:
    return export_customer_data(session, user, Path("/nonexistent"))


def anonymise(session, people, user) -> None:
    anonymise_customer(
        session, people["admin"], user, reason="Asked on 1 June", instance_path=Path("/nonexistent")
    )
    session.commit()
    session.expire_all()


def test_the_export_holds_the_accounts_cases_with_customer_visible_comments_only(
    session, people, zeldas_case
):
    create_case(session, people["oscar_contact"], subject="Oscar's own trouble")

    data = export(session, people["zelda"])

    (case,) = data["cases"]
    assert case["number"] == zeldas_case.number
    assert case["subject"] == "Leak behind the blue shed"
    assert case["yours"] is True
    assert [(c["from"], c["text"]) for c in case["comments"]] == [
        ("the team", "We will send someone."),
        ("you", SECRETS[0]),
    ]
    text = json.dumps(data)
    assert SECRETS[2] not in text and "Oscar's own trouble" not in text


def test_the_secrets_are_everywhere_before_anonymisation(session, people, zeldas_case):
    # The search finds what it looks for: the case's texts were copied widely.
    found = _mentions(session, SECRETS[:2])

    assert {f.split(":")[0] for f in found} >= {
        "cases.subject",
        "timeline_entries.note",
        "outbox_messages.body_text",
        "work_orders.summary",
    }


def test_anonymisation_removes_the_cases_texts_everywhere_and_keeps_the_cases(
    session, people, zeldas_case
):
    anonymise(session, people, people["zelda"])

    assert _mentions(session, SECRETS) == []
    case = session.get(Case, zeldas_case.id)
    assert (case.subject, case.description) == (REMOVED_SUBJECT, "")
    assert (case.status, case.account_id) == ("New", people["account"].id)
    notes = session.scalars(
        sa.select(TimelineEntry.note).where(
            TimelineEntry.subject_type == "Case", TimelineEntry.subject_id == case.id
        )
    ).all()
    assert set(notes) <= {REMOVED, ""}
    assert len(notes) >= 4  # the history stays: created, comments, hand-off
    (work_order,) = session.scalars(sa.select(WorkOrder).where(WorkOrder.owner_kind == "case"))
    assert work_order.summary == REMOVED_SUBJECT


def test_anonymisation_blanks_the_case_in_webhook_deliveries(session, people, zeldas_case):
    anonymise(session, people, people["zelda"])

    (delivery,) = session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")
    )
    shown = json.loads(delivery.body_text)["data"]["case"]
    assert (shown["id"], shown["subject"], shown["description"]) == (
        zeldas_case.id,
        REMOVED_SUBJECT,
        "",
    )


def test_anonymisation_rewords_the_notices_about_the_case(session, people, zeldas_case):
    anonymise(session, people, people["zelda"])

    messages = session.scalars(
        sa.select(Notification.message).where(
            Notification.link.in_([f"/support/{zeldas_case.id}", f"/cases/{zeldas_case.id}"])
        )
    ).all()
    assert messages
    assert all("removed" in m for m in messages)


def test_another_accounts_case_is_left_alone(session, people, zeldas_case):
    theirs = create_case(session, people["oscar_contact"], subject="Oscar's own trouble")
    session.commit()

    anonymise(session, people, people["zelda"])

    assert session.get(Case, theirs.id).subject == "Oscar's own trouble"


def test_a_colleagues_case_stays_when_the_person_is_not_the_accounts_only_contact(
    session, people, zeldas_case
):
    colleague = add_contact(
        session, people["account"], full_name="Cole League", email="cole@example.com"
    )
    theirs = create_case(session, colleague, by=people["scheduler"], subject="Cole's printer")
    session.commit()

    anonymise(session, people, people["zelda"])

    assert session.get(Case, theirs.id).subject == "Cole's printer"
    assert session.get(Case, zeldas_case.id).subject == REMOVED_SUBJECT


def test_the_sole_contact_takes_every_case_of_the_account_with_it(session, people):
    by_phone = create_case(
        session, people["contact"], by=people["scheduler"], subject="Rang about the shed"
    )
    by_phone.contact_id = None  # opened for the account, naming nobody
    session.commit()

    anonymise(session, people, people["zelda"])

    assert session.get(Case, by_phone.id).subject == REMOVED_SUBJECT


def test_the_persons_comment_on_someone_elses_case_is_removed(session, people, zeldas_case):
    colleague = add_contact(
        session, people["account"], full_name="Cole League", email="cole@example.com"
    )
    theirs = create_case(session, colleague, by=people["scheduler"], subject="Cole's printer")
    add_comment(
        session, theirs, "My gate code is 4411 too", visibility="customer", by=people["zelda"]
    )
    session.commit()

    anonymise(session, people, people["zelda"])

    assert _mentions(session, ["gate code is 4411"]) == []
    assert session.get(Case, theirs.id).subject == "Cole's printer"
