"""An admin invites staff users by e-mail; the invitee chooses a password through the
link (the same accept page and service as a customer contact's invitation). Services
without HTTP first, then the settings pages. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts import links
from portal.accounts.emails import SUBJECT_STAFF_INVITE
from portal.accounts.invitations import (
    accept_invitation,
    invitations_sent,
    invite_staff_user,
    read_invitation,
    resend_staff_invitation,
    user_state,
)
from portal.accounts.links import LinkInvalid
from portal.accounts.models import User
from portal.errors import Conflict, Invalid, NotAllowed
from portal.notifications.models import OutboxMessage
from portal.workforce.models import Agent
from tests.factories import NOW, create_agent, create_user

PASSWORD = "harbour lights at dusk"
NEWCOMER = "new.tech@example.com"
INVITE_FORM = {
    "full_name": "New Tech",
    "email": NEWCOMER,
    "role": "agent",
    "time_zone": "Europe/London",
}


@pytest.fixture
def admin(session, frozen_now):
    frozen_now(NOW)
    return create_user(session, role="admin", full_name="Ada Admin", email="root@example.com")


@pytest.fixture
def logged_in_admin(admin, session, auth):
    session.commit()
    auth.login("root@example.com")
    return admin


def invite(session, admin, email=NEWCOMER, role="agent", name="New Tech") -> User:
    return invite_staff_user(
        session, admin, full_name=name, email=email, role=role, time_zone="Europe/London"
    )


def invitations(session, to: str = NEWCOMER) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == to, OutboxMessage.subject == SUBJECT_STAFF_INVITE)
            .order_by(OutboxMessage.id)
        )
    )


def invite_path(message: OutboxMessage) -> str:
    match = re.search(r"https?://\S+/invite/[A-Za-z0-9_.\-]+", message.body_text)
    assert match, message.body_text
    return urlsplit(match.group(0)).path


def token_of(message: OutboxMessage) -> str:
    return invite_path(message).rsplit("/", 1)[1]


def newcomer(session) -> User:
    return session.scalar(sa.select(User).where(User.email == NEWCOMER))


# --- the services --------------------------------------------------------------------------


def test_inviting_creates_a_staff_user_without_a_password(session, admin):
    user = invite(session, admin, role="scheduler")

    assert (user.role, user.full_name, user.email) == ("scheduler", "New Tech", NEWCOMER)
    assert user.password_hash is None
    assert user.email_verified_at is None
    assert user_state(user) == "invited"


def test_an_invited_agent_is_bookable_at_once_so_its_hours_can_be_set(session, admin):
    user = invite(session, admin, role="agent")

    assert session.scalar(sa.select(Agent).where(Agent.user_id == user.id)) is not None


def test_inviting_queues_one_email_with_a_link_that_opens_the_accept_page(session, client, admin):
    invite(session, admin)

    [message] = invitations(session)
    assert "Ada Admin has invited you" in message.body_text
    assert "an agent (technician)" in message.body_text
    page = client.get(invite_path(message))
    assert page.status_code == 200
    assert "Welcome, New Tech" in page.get_data(as_text=True)


def test_accepting_sets_the_password_and_verifies_the_address(session, admin):
    invite(session, admin)

    user = accept_invitation(session, token_of(invitations(session)[0]), password=PASSWORD)

    assert user.password_hash.startswith("$argon2id$")
    assert user.email_verified_at == NOW
    assert user_state(user) == "active"


def test_an_accepted_invitation_link_is_refused_as_used(session, admin):
    invite(session, admin)
    token = token_of(invitations(session)[0])
    accept_invitation(session, token, password=PASSWORD)

    with pytest.raises(LinkInvalid, match="already been used") as refused:
        read_invitation(session, token)

    assert refused.value.used and refused.value.status == 410


def test_an_invitation_link_expires_after_seven_days(session, admin, frozen_now):
    invite(session, admin)
    token = token_of(invitations(session)[0])
    frozen_now(NOW + timedelta(days=7, minutes=1))

    with pytest.raises(LinkInvalid, match="This invitation has expired") as refused:
        read_invitation(session, token)

    assert refused.value.expired


def test_resending_queues_a_new_link_that_works(session, admin, frozen_now):
    user = invite(session, admin)
    frozen_now(NOW + timedelta(days=6))

    resend_staff_invitation(session, admin, user)

    first, second = invitations(session)
    frozen_now(NOW + timedelta(days=8))  # the first link has expired by now
    with pytest.raises(LinkInvalid):
        read_invitation(session, token_of(first))
    assert read_invitation(session, token_of(second)).id == user.id
    assert invitations_sent(session, [user.id]) == {user.id: second.created_at}


def test_resending_makes_the_earlier_link_stop_working_at_once(session, admin):
    user = invite(session, admin)

    resend_staff_invitation(session, admin, user)

    first, second = invitations(session)
    with pytest.raises(LinkInvalid) as refused:
        read_invitation(session, token_of(first))
    assert refused.value.replaced
    assert refused.value.status == 410
    assert "replaced by a newer one" in refused.value.message
    assert read_invitation(session, token_of(second)).id == user.id


def test_a_replaced_link_cannot_set_the_password(session, admin):
    user = invite(session, admin)
    resend_staff_invitation(session, admin, user)
    first, _second = invitations(session)

    with pytest.raises(LinkInvalid):
        accept_invitation(session, token_of(first), password=PASSWORD)

    assert user.password_hash is None


def test_once_the_newest_link_is_used_an_older_one_says_used(session, admin):
    user = invite(session, admin)
    resend_staff_invitation(session, admin, user)
    first, second = invitations(session)
    accept_invitation(session, token_of(second), password=PASSWORD)

    with pytest.raises(LinkInvalid) as refused:
        read_invitation(session, token_of(first))

    assert refused.value.used
    assert "already been used" in refused.value.message


def test_resending_from_the_users_page_ends_the_earlier_link(session, client, logged_in_admin):
    user = invite(session, logged_in_admin)
    client.post_form(f"/settings/users/{user.id}/invitation", form_url=f"/settings/users/{user.id}")
    first, second = invitations(session)
    client.post_form("/logout", form_url="/")

    old = client.get(invite_path(first))

    assert old.status_code == 410
    assert "replaced by a newer one" in old.get_data(as_text=True)
    assert client.get(invite_path(second)).status_code == 200


def test_a_link_sent_before_invitations_were_numbered_works_until_the_next_one(session, admin):
    user = invite(session, admin)
    user.invitation_count = 0  # as the migration leaves a user invited before it
    session.flush()
    with session.no_autoflush:
        legacy = links.make_link(
            links.INVITE_LINK, user, fp=links.password_fingerprint(user, "invite")
        )
    token = legacy.rsplit("/", 1)[1]
    assert read_invitation(session, token).id == user.id

    resend_staff_invitation(session, admin, user)

    with pytest.raises(LinkInvalid) as refused:
        read_invitation(session, token)
    assert refused.value.replaced


def test_resending_after_the_invitation_was_accepted_is_refused(session, admin):
    user = invite(session, admin)
    accept_invitation(session, token_of(invitations(session)[0]), password=PASSWORD)

    with pytest.raises(Conflict, match="already accepted the invitation"):
        resend_staff_invitation(session, admin, user)


def test_inviting_an_address_that_has_a_log_in_is_refused_on_the_email_field(session, admin):
    create_user(session, role="customer", email="taken@example.com")

    with pytest.raises(Invalid, match="taken@example.com already has a log-in") as refused:
        invite(session, admin, email="Taken@Example.com")

    assert refused.value.field == "email"


def test_inviting_someone_already_invited_says_to_send_it_again(session, admin):
    invite(session, admin)

    with pytest.raises(Invalid, match="is already invited") as refused:
        invite(session, admin)

    assert refused.value.field == "email"
    assert len(invitations(session)) == 1


def test_only_staff_roles_can_be_invited(session, admin):
    with pytest.raises(Invalid) as refused:
        invite(session, admin, role="customer")

    assert refused.value.field == "role"


@pytest.mark.parametrize("role", ["manager", "scheduler", "agent"])
def test_only_an_admin_can_invite_staff(session, admin, role):
    not_admin = create_user(session, role=role)

    with pytest.raises(NotAllowed):
        invite(session, not_admin)

    assert newcomer(session) is None


# --- over HTTP -----------------------------------------------------------------------------


def test_an_admin_invites_through_the_settings_page(session, client, logged_in_admin):
    response = client.post_form("/settings/users/new", INVITE_FORM, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"We sent New Tech an invitation at {NEWCOMER}." in page
    assert "Invited" in page and "Invitation sent" in page
    assert "Send the invitation again" in page
    assert len(invitations(session)) == 1


def test_an_invited_user_cannot_log_in_before_accepting(session, client, auth, admin):
    invite(session, admin)

    assert auth.login(NEWCOMER, PASSWORD).status_code == 401


def test_the_invitee_chooses_a_password_and_logs_in(session, client, auth, admin):
    invite(session, admin, role="scheduler")
    path = invite_path(invitations(session)[0])

    response = client.post_form(path, {"password": PASSWORD, "time_zone": "Europe/London"})

    assert response.status_code == 302
    assert client.get("/dispatch/").status_code == 200  # logged in, as a scheduler
    auth.logout()
    assert auth.login(NEWCOMER, PASSWORD).status_code == 302


def test_following_a_used_link_again_says_it_was_used(session, client, admin):
    invite(session, admin)
    path = invite_path(invitations(session)[0])
    client.post_form(path, {"password": PASSWORD, "time_zone": "Europe/London"})

    again = client.get(path)

    assert again.status_code == 410
    assert "This invitation has already been used" in again.get_data(as_text=True)


def test_a_taken_address_is_shown_on_the_email_field(session, client, logged_in_admin):
    response = client.post_form("/settings/users/new", {**INVITE_FORM, "email": "root@example.com"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'<p class="error" id="email-error">root@example.com already has a log-in', page
    )
    assert invitations(session, "root@example.com") == []


@pytest.mark.parametrize(
    "changes",
    [
        {"role": "customer"},
        {"email": "not-an-email"},
        {"time_zone": "Nowhere/Land"},
        {"full_name": ""},
    ],
)
def test_a_bad_invitation_is_refused_and_nobody_is_created(
    session, client, logged_in_admin, changes
):
    response = client.post_form("/settings/users/new", {**INVITE_FORM, **changes})

    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("role", ["manager", "scheduler", "agent", "customer"])
def test_only_admins_can_post_the_invitation_form(session, client, auth, role):
    user = create_agent(session).user if role == "agent" else create_user(session, role=role)
    session.commit()
    auth.login(user.email)

    response = client.post_form("/settings/users/new", INVITE_FORM, form_url="/")

    assert response.status_code == 403
    assert newcomer(session) is None


def test_an_admin_sends_the_invitation_again_from_the_users_page(session, client, logged_in_admin):
    user = invite(session, logged_in_admin)

    response = client.post_form(
        f"/settings/users/{user.id}/invitation", form_url=f"/settings/users/{user.id}"
    )

    assert response.status_code == 302
    assert len(invitations(session)) == 2


def test_sending_again_to_someone_who_accepted_says_so(session, client, logged_in_admin):
    user = invite(session, logged_in_admin)
    accept_invitation(session, token_of(invitations(session)[0]), password=PASSWORD)

    response = client.post_form(
        f"/settings/users/{user.id}/invitation", form_url=f"/settings/users/{user.id}"
    )

    assert response.status_code == 422  # the settings pages' answer to a refusal
    assert "already accepted the invitation" in response.get_data(as_text=True)
    assert len(invitations(session)) == 1


def test_the_users_list_shows_who_is_active_invited_or_deactivated(
    session, client, logged_in_admin
):
    create_user(session, role="scheduler", full_name="Gone Away", active=False)
    invite(session, logged_in_admin, name="New Tech")

    page = client.get("/settings/users").get_data(as_text=True)

    def status_cell(name: str) -> str:
        row = re.search(rf"<tr>\s*<td><a [^>]*>{name}</a>.*?</tr>", page, re.S)
        assert row, name
        return row.group(0).rsplit("<td>", 1)[1]

    assert "Active" in status_cell("Ada Admin")
    assert "Invited" in status_cell("New Tech") and "Invitation sent" in status_cell("New Tech")
    assert "Deactivated" in status_cell("Gone Away")
