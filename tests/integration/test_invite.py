"""Staff invite a contact of a customer account; the invitee sets a password through the
e-mailed link. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.emails import SUBJECT_INVITE
from portal.accounts.invitations import invite_contact
from portal.accounts.models import Contact, User
from portal.errors import Invalid, NotAllowed
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from tests.factories import (
    create_account,
    create_agent,
    create_customer,
    create_location,
    create_territory,
    create_user,
)

PASSWORD = "harbour lights at dusk"


def invitations(session, to: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == to, OutboxMessage.subject == SUBJECT_INVITE)
            .order_by(OutboxMessage.id)
        )
    )


def invite_path(message: OutboxMessage) -> str:
    match = re.search(r"https?://\S+/invite/[A-Za-z0-9_.\-]+", message.body_text)
    assert match, message.body_text
    return urlsplit(match.group(0)).path


@pytest.fixture
def scheduler(session):
    return create_user(session, role="scheduler", full_name="Sam Rivera")


@pytest.fixture
def account(session):
    return create_account(session, name="Harbour Lane Dental")


def invite(session, account, scheduler, email="new.person@example.com", name="New Person"):
    return invite_contact(session, account, full_name=name, email=email, invited_by=scheduler)


def test_inviting_a_contact_creates_an_unverified_user_without_a_password(
    session, account, scheduler
):
    contact = invite(session, account, scheduler)

    assert contact.account_id == account.id
    assert (contact.full_name, contact.email) == ("New Person", "new.person@example.com")
    user = contact.user
    assert user.role == "customer"
    assert user.password_hash is None
    assert user.email_verified_at is None


def test_an_invitation_is_emailed_with_a_link_naming_the_account_and_inviter(
    session, account, scheduler
):
    invite(session, account, scheduler)

    [message] = invitations(session, "new.person@example.com")
    assert "Harbour Lane Dental" in message.body_text
    assert "Sam Rivera" in message.body_text
    assert invite_path(message).startswith("/invite/")


def test_the_invitee_sets_a_password_through_the_link_and_can_log_in(
    app, session, client, auth, account, scheduler
):
    invite(session, account, scheduler)
    path = invite_path(invitations(session, "new.person@example.com")[0])

    form = client.get(path)
    response = client.post_form(path, {"password": PASSWORD, "time_zone": "Europe/London"})

    assert "Welcome, New Person" in form.get_data(as_text=True)
    assert response.status_code == 302
    assert client.get("/appointments").status_code == 200  # logged in straight away
    auth.logout()
    assert auth.login("new.person@example.com", PASSWORD).status_code == 302
    user = session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
    assert user.email_verified_at is not None


def test_an_invitation_link_cannot_be_used_twice(session, client, account, scheduler):
    invite(session, account, scheduler)
    path = invite_path(invitations(session, "new.person@example.com")[0])
    client.post_form(path, {"password": PASSWORD, "time_zone": "Europe/London"})

    again = client.get(path)

    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_an_expired_invitation_is_refused(session, client, account, scheduler, frozen_now):
    start = frozen_now(now_utc())
    invite(session, account, scheduler)
    path = invite_path(invitations(session, "new.person@example.com")[0])
    frozen_now(start + timedelta(days=7, minutes=1))

    response = client.get(path)

    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)


def test_a_weak_password_on_the_invitation_is_refused_with_422(session, client, account, scheduler):
    invite(session, account, scheduler)
    path = invite_path(invitations(session, "new.person@example.com")[0])

    response = client.post_form(path, {"password": "12345678", "time_zone": "Europe/London"})

    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)
    user = session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
    assert user.password_hash is None


def test_inviting_an_address_that_already_has_a_user_is_refused(session, account, scheduler):
    existing, _, _ = create_customer(session, email="taken@example.com")

    with pytest.raises(Invalid, match="already has a log-in"):
        invite(session, account, scheduler, email="Taken@example.com")


def test_the_staff_page_says_clearly_when_an_address_already_has_a_user(
    session, client, auth, account, scheduler
):
    create_customer(session, email="taken@example.com")
    auth.login(scheduler.email)

    response = client.post_form(
        f"/accounts/{account.id}/invite", {"full_name": "Someone", "email": "taken@example.com"}
    )

    assert response.status_code == 422
    assert "taken@example.com already has a log-in" in response.get_data(as_text=True)
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.account_id == account.id)
        )
        == 0
    )


def test_a_scheduler_invites_through_the_staff_page(session, client, auth, account, scheduler):
    auth.login(scheduler.email)

    response = client.post_form(
        f"/accounts/{account.id}/invite",
        {"full_name": "New Person", "email": "new.person@example.com"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "We sent an invitation to new.person@example.com" in page
    assert "New Person" in page
    assert "Invited" in page
    assert len(invitations(session, "new.person@example.com")) == 1


def test_inviting_a_pending_invitee_again_sends_a_new_link(session, account, scheduler):
    first = invite(session, account, scheduler)

    again = invite(session, account, scheduler)

    assert again.id == first.id
    assert len(invitations(session, "new.person@example.com")) == 2


def test_inviting_a_contact_again_makes_the_earlier_link_stop_working(
    session, client, account, scheduler
):
    invite(session, account, scheduler)
    invite(session, account, scheduler)
    first, second = invitations(session, "new.person@example.com")

    old = client.get(invite_path(first))

    assert old.status_code == 410
    assert "replaced by a newer one" in old.get_data(as_text=True)
    assert client.get(invite_path(second)).status_code == 200


def test_a_contact_already_on_file_gets_the_log_in_rather_than_a_duplicate(
    session, account, scheduler
):
    on_file = Contact(account=account, full_name="On File", email="on.file@example.com")
    session.add(on_file)
    session.flush()

    contact = invite(session, account, scheduler, email="on.file@example.com", name="On File")

    assert contact.id == on_file.id
    assert contact.user is not None


def test_the_invitee_gets_the_time_zone_of_the_accounts_territory(session, scheduler):
    new_york = create_territory(session, name="NYC", time_zone="America/New_York")
    account = create_account(session)
    create_location(session, account, territory=new_york)

    contact = invite(session, account, scheduler)

    assert contact.user.time_zone == "America/New_York"


def test_an_agent_cannot_invite(session, account):
    agent = create_agent(session).user

    with pytest.raises(NotAllowed):
        invite(session, account, agent)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("customer", 403),
        ("agent", 403),
        ("scheduler", 200),
        ("manager", 200),
        ("admin", 200),
    ],
)
def test_only_schedulers_managers_and_admins_open_the_invite_page(
    session, client, auth, account, role, status
):
    if role == "customer":
        user = create_customer(session)[0]
    elif role == "agent":
        user = create_agent(session).user
    else:
        user = create_user(session, role=role)
    auth.login(user.email)

    assert client.get(f"/accounts/{account.id}/invite").status_code == status


def test_the_invite_page_of_an_unknown_account_is_not_found(session, client, auth, scheduler):
    auth.login(scheduler.email)

    assert client.get("/accounts/999999/invite").status_code == 404


def test_the_invite_page_lists_the_accounts_contacts_and_their_log_in(
    session, client, auth, account, scheduler
):
    create_customer(session, account=account, full_name="Chloe Martin")
    session.add(Contact(account=account, full_name="Paper Only", email="paper@example.com"))
    auth.login(scheduler.email)

    page = client.get(f"/accounts/{account.id}/invite").get_data(as_text=True)

    assert "Chloe Martin" in page
    assert "Can log in" in page
    assert "Paper Only" in page
    assert "No log-in" in page
