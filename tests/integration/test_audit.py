"""The audit log: configuration and permission changes are recorded in the same
transaction as the change, with old and new values and no secret; only admins read the
log; and the database itself refuses to change or remove an entry."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.api import tokens
from portal.audit.models import AuditEntry
from portal.audit.services import MASK, PERSONAL, Entity, record_change
from portal.settings import services as settings
from portal.webhooks import services as hooks
from tests.factories import NOW, create_customer, create_service, create_user, ensure_policy


def entries(session, **where) -> list[AuditEntry]:
    session.expire_all()
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(session.scalars(query))


@pytest.fixture
def admin(session, frozen_now, auth):
    frozen_now(NOW)
    user = create_user(session, role="admin", email="root@example.com", full_name="Ada Root")
    session.commit()
    auth.login("root@example.com")
    return user


def service_form(service, **changes) -> dict:
    values = {
        "name": service.name,
        "description": service.description,
        "duration_minutes": service.duration_minutes,
        "buffer_minutes": service.buffer_minutes,
        "agents_needed": service.agents_needed,
        "required_skill_id": "",
        "active": "y",
    }
    return {**values, **changes}


def test_a_service_change_is_recorded_with_who_and_the_old_and_new_values(session, client, admin):
    service = create_service(session, name="Leak repair", duration_minutes=60)
    session.commit()

    response = client.post_form(
        f"/settings/services/{service.id}", service_form(service, duration_minutes="90")
    )

    assert response.status_code == 302
    (entry,) = entries(session, entity_type="service")
    assert (entry.actor_id, entry.action, entry.entity_id) == (admin.id, "update", service.id)
    assert entry.entity_label == "Leak repair"
    assert entry.changes == {"duration_minutes": {"old": 60, "new": 90}}
    assert entry.at == NOW


def test_a_policy_save_records_only_the_fields_that_changed(session, client, admin):
    ensure_policy(session, window_minutes=120, min_notice_minutes=60, horizon_days=28)
    session.commit()
    policy = settings.PolicyData(
        window_minutes=120,
        step_minutes=60,
        min_notice_minutes=60,
        horizon_days=14,
        reschedule_cutoff_hours=24,
        max_self_reschedules=2,
    )

    settings.update_policy(session, policy, by=admin)

    (entry,) = entries(session, entity_type="booking_policy")
    assert entry.changes["horizon_days"] == {"old": 28, "new": 14}
    assert "window_minutes" not in entry.changes


def test_an_unchanged_save_records_nothing(session, admin):
    service = create_service(session, name="Leak repair")
    before = len(entries(session))

    settings.update_service(
        session,
        service,
        settings.ServiceData(
            name="Leak repair",
            description=service.description,
            duration_minutes=service.duration_minutes,
            buffer_minutes=service.buffer_minutes,
            agents_needed=service.agents_needed,
            required_skill_id=None,
            active=True,
        ),
        by=admin,
    )

    assert len(entries(session)) == before


def test_role_changes_and_deactivations_are_recorded(session, client, admin):
    agent = create_user(session, role="agent", full_name="Will Agent")
    session.commit()

    client.post_form(
        f"/settings/users/{agent.id}/role",
        {"role": "scheduler"},
        form_url=f"/settings/users/{agent.id}",
    )
    client.post_form(
        f"/settings/users/{agent.id}/deactivate", {}, form_url=f"/settings/users/{agent.id}"
    )

    role, deactivated = entries(session, entity_type="user", entity_id=agent.id)
    assert (role.action, role.changes) == (
        "change_role",
        {"role": {"old": "agent", "new": "scheduler"}},
    )
    assert (deactivated.action, deactivated.changes) == (
        "deactivate",
        {"active": {"old": True, "new": False}},
    )
    assert role.entity_label == "Will Agent (scheduler)"
    assert {role.actor_id, deactivated.actor_id} == {admin.id}


def test_a_webhook_secret_is_never_written_to_the_log(session, admin):
    endpoint = hooks.create_endpoint(
        session,
        url="http://127.0.0.1:9/in",
        events=["appointment.booked"],
        created_by=admin,
        allow_private=True,
    )
    first = endpoint.secret
    second = hooks.rotate_secret(session, endpoint, by=admin)
    session.commit()

    created, rotated = entries(session, entity_type="webhook_endpoint")
    assert created.changes["secret"] == {"old": None, "new": MASK}
    assert rotated.action == "rotate_secret"
    assert rotated.changes == {"secret": {"old": MASK, "new": MASK}}
    stored = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(
            sa.cast(AuditEntry.changes, sa.String).contains(first[8:])
            | sa.cast(AuditEntry.changes, sa.String).contains(second[8:])
        )
    )
    assert stored == 0


def test_api_tokens_made_and_revoked_are_recorded_without_their_secret(session, frozen_now):
    frozen_now(NOW)
    customer, _account, _contact = create_customer(session, full_name="Jane Privacy")
    staff = create_user(session, role="scheduler", full_name="Sam Scheduler")
    mine, secret = tokens.create_token(session, staff, "Nightly sync", by=staff)
    theirs, _ = tokens.create_token(session, customer, "Jane Privacy's laptop", by=customer)
    tokens.revoke_token(session, staff, mine.id)
    session.commit()

    made, made_by_customer, revoked = entries(session, entity_type="api_token")
    assert made.entity_label == f"Nightly sync ({mine.hint}…)"
    assert made.changes["name"] == {"old": None, "new": "Nightly sync"}
    assert revoked.action == "revoke" and set(revoked.changes) == {"revoked_at"}
    # A customer's own words may name it: the log numbers the token instead.
    assert made_by_customer.entity_label == f"API token #{theirs.id}"
    assert made_by_customer.changes["name"] == {"old": None, "new": PERSONAL}
    text = " ".join(str(e.changes) + e.entity_label for e in entries(session))
    assert secret not in text and mine.secret_hash not in text and "Jane" not in text


def test_an_entry_rolls_back_with_the_change_it_describes(session, admin):
    service = create_service(session, name="Leak repair")
    session.commit()
    before = len(entries(session))

    settings.update_service(
        session,
        service,
        settings.ServiceData("Tap repair", "", 30, 0, 1, None, True),
        by=admin,
    )
    session.rollback()

    assert len(entries(session)) == before


def test_the_database_refuses_to_change_or_remove_an_entry(session, admin):
    record_change(session, admin, "update", Entity("thing", 1, "A thing"), {"a": 1}, {"a": 2})
    session.commit()

    for statement in (
        sa.update(AuditEntry).values(action="forged"),
        sa.delete(AuditEntry),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="cannot be changed or removed"):
            session.execute(statement)
        session.rollback()

    (entry,) = entries(session, entity_type="thing")
    assert entry.action == "update"


@pytest.mark.parametrize(
    ("role", "status"), [("customer", 403), ("agent", 403), ("manager", 403), ("admin", 200)]
)
def test_only_admins_read_the_audit_log(session, client, auth, frozen_now, role, status):
    frozen_now(NOW)
    create_user(session, role=role, email="someone@example.com")
    session.commit()
    auth.login("someone@example.com")

    assert client.get("/settings/audit").status_code == status


def test_the_log_is_newest_first_and_filters_by_kind_and_by_actor(session, client, admin):
    other = create_user(session, role="manager", full_name="Max Manager")
    record_change(session, admin, "create", Entity("service", 1, "First service"), None, {"a": 1})
    record_change(session, other, "create", Entity("holiday", 2, "Boxing day"), None, {"a": 1})
    record_change(session, admin, "create", Entity("service", 3, "Third service"), None, {"a": 1})
    session.commit()

    page = client.get("/settings/audit").get_data(as_text=True)
    assert page.index("Third service") < page.index("Boxing day") < page.index("First service")

    services_only = client.get("/settings/audit?type=service").get_data(as_text=True)
    assert "Third service" in services_only and "Boxing day" not in services_only

    by_max = client.get(f"/settings/audit?actor={other.id}").get_data(as_text=True)
    assert "Boxing day" in by_max and "First service" not in by_max
    assert "Max Manager (manager)" in by_max


def test_the_log_is_paged(session, client, admin):
    for n in range(30):
        record_change(session, admin, "create", Entity("skill", n, f"Skill {n:02d}"), None, {})
    session.commit()

    first = client.get("/settings/audit").get_data(as_text=True)
    second = client.get("/settings/audit?page=2").get_data(as_text=True)

    assert "Skill 29" in first and "Skill 00" not in first
    assert "Skill 00" in second and "Page 2 of 2" in second
