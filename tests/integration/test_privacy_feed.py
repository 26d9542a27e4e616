"""The account feed's data about a person (the confirmation service's id and log-in) is
in the person's export and goes with anonymisation."""

from __future__ import annotations

from datetime import timedelta

from portal.accounts.models import Contact
from tests.factories import NOW, create_customer, create_user

EMAIL = "fiona.feed@example.com"


def _fed_customer(session, frozen_now):
    frozen_now(NOW)
    user, _account, contact = create_customer(session, full_name="Fiona Feed", email=EMAIL)
    contact.external_id = "C-FIONA-77"
    contact.last_external_login_at = NOW - timedelta(days=2)
    session.commit()
    return user, contact


def test_the_export_holds_the_feeds_id_and_log_in_of_the_person(session, client, auth, frozen_now):
    _fed_customer(session, frozen_now)
    auth.login(EMAIL)

    data = client.get("/profile/data.json").get_json()

    fed = data["contacts"][0]
    assert fed["external_id"] == "C-FIONA-77"
    assert fed["last_external_login_at"].startswith((NOW - timedelta(days=2)).date().isoformat())


def test_anonymising_clears_the_feeds_id_and_log_in(session, client, auth, frozen_now):
    user, contact = _fed_customer(session, frozen_now)
    create_user(session, role="admin", email="root@example.com")
    session.commit()
    auth.login("root@example.com")

    response = client.post_form(
        f"/privacy/customers/{user.id}/anonymise",
        {"reason": "Asked by e-mail on 1 June (ticket 4412)", "confirm": "y"},
    )

    assert response.status_code == 302
    session.expire_all()
    cleared = session.get(Contact, contact.id)
    assert cleared.external_id is None
    assert cleared.last_external_login_at is None
