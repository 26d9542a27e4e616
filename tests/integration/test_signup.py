"""Sign-up and e-mail verification through the real forms, on SQLite and PostgreSQL.

E-mails are read from the outbox (what the scheduler process would send), and their
links are followed with the test client, as a person would click them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.accounts.emails import SUBJECT_SIGNUP_EXISTS, SUBJECT_VERIFY
from portal.accounts.models import Contact, CustomerAccount, ServiceLocation, User
from portal.accounts.registration import verify_email
from portal.accounts.services import require_verified
from portal.errors import NotAllowed
from portal.notifications.models import OutboxMessage
from portal.timeutil import now_utc
from tests.factories import create_customer, create_territory

PASSWORD = "correct horse battery"
SENT_HEADING = "Check your e-mail"


@pytest.fixture
def london(session):
    """A territory that serves SW and SE postcodes."""
    return create_territory(session, name="London", prefixes=["SW", "SE"])


def signup_data(**overrides) -> dict:
    return {
        "full_name": "Jo Bloggs",
        "email": "jo@example.com",
        "password": PASSWORD,
        "time_zone": "Europe/London",
        "phone": "+44 7700 900000",
        "label": "Home",
        "street": "1 Acacia Avenue",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "country": "GB",
        **overrides,
    }


def log_in(client) -> None:
    """Sign-up does not log in (that would tell a stranger the address was new)."""
    client.post_form("/login", {"email": "jo@example.com", "password": PASSWORD})


def emails(session, to: str, subject: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient == to)
    if subject is not None:
        query = query.where(OutboxMessage.subject == subject)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def link_path(message: OutboxMessage, prefix: str) -> str:
    """The path of the first link to /<prefix>/... in the e-mail's text."""
    match = re.search(rf"https?://\S+/{prefix}/[A-Za-z0-9_.\-]+", message.body_text)
    assert match, f"no /{prefix}/ link in:\n{message.body_text}"
    assert match.group(0) in message.body_html  # the HTML part carries the same link
    return urlsplit(match.group(0)).path


def main_of(page: str) -> str:
    """The page's <main> element: what differs by visitor (CSRF token, header) is outside."""
    return re.search(r"<main.*</main>", page, re.S).group(0)


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_log_in_page_links_to_sign_up_and_password_reset(client):
    page = client.get("/login").get_data(as_text=True)

    assert 'New here? <a href="/signup">Create an account</a>' in page
    assert '<a href="/reset">Forgot your password?</a>' in page


def test_signing_up_creates_the_account_contact_user_and_address(session, client, london):
    response = client.post_form("/signup", signup_data())

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/signup/sent"
    user = session.scalar(sa.select(User).where(User.email == "jo@example.com"))
    assert user.role == "customer"
    assert user.full_name == "Jo Bloggs"
    assert user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    contact = user.contact
    assert (contact.full_name, contact.email, contact.phone) == (
        "Jo Bloggs",
        "jo@example.com",
        "+44 7700 900000",
    )
    account = contact.account
    assert (account.name, account.kind) == ("Jo Bloggs", "consumer")
    [location] = account.locations
    assert (location.label, location.street, location.postal_code) == (
        "Home",
        "1 Acacia Avenue",
        "SW1A 1AA",
    )
    assert location.territory_id == london.id


def test_signing_up_queues_one_verification_email_whose_link_verifies_the_address(
    session, client, london
):
    client.post_form("/signup", signup_data())

    [message] = emails(session, "jo@example.com")
    assert message.subject == SUBJECT_VERIFY
    response = client.get(link_path(message, "verify"))

    assert response.status_code == 200
    assert "Your e-mail address is verified" in response.get_data(as_text=True)
    user = session.scalar(sa.select(User).where(User.email == "jo@example.com"))
    assert user.email_verified_at is not None


def test_the_new_customer_logs_in_and_is_asked_to_verify(session, client, london):
    client.post_form("/signup", signup_data())
    sent = client.get("/signup/sent")
    log_in(client)

    profile = client.get("/profile")

    assert SENT_HEADING in sent.get_data(as_text=True)
    assert profile.status_code == 200
    page = profile.get_data(as_text=True)
    assert "Please verify your e-mail address" in page
    assert "Resend the link" in page


def test_the_banner_goes_once_the_address_is_verified(session, client, london):
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")

    client.get(link_path(message, "verify"))

    assert "Please verify your e-mail address" not in client.get("/profile").get_data(as_text=True)


def test_booking_is_refused_until_the_email_is_verified(session, client, london):
    client.post_form("/signup", signup_data())
    user = session.scalar(sa.select(User).where(User.email == "jo@example.com"))

    with pytest.raises(NotAllowed, match="Please verify your e-mail address first"):
        require_verified(user)
    [message] = emails(session, "jo@example.com")
    verify_email(session, link_path(message, "verify").rsplit("/", 1)[1])
    require_verified(user)  # no longer refused


def test_signing_up_with_a_taken_email_shows_the_same_page_and_emails_the_owner(
    app, session, client, london
):
    owner, _, _ = create_customer(session, email="owner@example.com")
    stranger = app.test_client()

    fresh = client.post_form("/signup", signup_data(email="new@example.com"))
    taken = stranger.post_form("/signup", signup_data(email="Owner@Example.com"))

    assert fresh.status_code == taken.status_code == 302
    assert fresh.location == taken.location
    fresh_page = client.get("/signup/sent").get_data(as_text=True)
    taken_page = stranger.get("/signup/sent").get_data(as_text=True)
    assert main_of(fresh_page).replace("new@", "owner@") == main_of(taken_page)
    [notice] = emails(session, "owner@example.com")
    assert notice.subject == SUBJECT_SIGNUP_EXISTS
    assert "/login" in notice.body_text
    assert "/reset" in notice.body_text


def test_signing_up_with_a_taken_email_creates_nothing(session, client, london):
    create_customer(session, email="owner@example.com")
    before = {m: count(session, m) for m in (User, CustomerAccount, Contact, ServiceLocation)}

    client.post_form("/signup", signup_data(email="owner@example.com"))

    after = {m: count(session, m) for m in (User, CustomerAccount, Contact, ServiceLocation)}
    assert after == before
    assert emails(session, "owner@example.com", SUBJECT_VERIFY) == []
    # and the person who tried is not logged in as anybody
    assert client.get("/profile").status_code == 302


def test_the_owner_hears_of_sign_up_attempts_at_most_three_times_a_day(app, session, london):
    create_customer(session, email="owner@example.com")

    for _ in range(5):
        app.test_client().post_form("/signup", signup_data(email="owner@example.com"))

    assert len(emails(session, "owner@example.com", SUBJECT_SIGNUP_EXISTS)) == 3


def test_an_address_we_do_not_serve_is_kept_and_the_page_says_so(session, client, london):
    client.post_form("/signup", signup_data(postal_code="M1 1AE", city="Manchester"))

    page = client.get("/signup/sent").get_data(as_text=True)

    assert "We do not serve postcode <strong>M1 1AE</strong> yet" in page
    location = session.scalar(
        sa.select(ServiceLocation).where(ServiceLocation.city == "Manchester")
    )
    assert location.territory_id is None
    assert len(emails(session, "jo@example.com", SUBJECT_VERIFY)) == 1


def test_a_served_address_gets_no_warning(session, client, london):
    client.post_form("/signup", signup_data())

    assert "We do not serve postcode" not in client.get("/signup/sent").get_data(as_text=True)


def test_an_expired_verification_link_is_refused_with_a_way_to_ask_again(
    session, client, london, frozen_now
):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")
    frozen_now(start + timedelta(hours=48, minutes=1))

    response = client.get(link_path(message, "verify"))

    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This link has expired" in page
    assert 'href="/verify/new"' in page
    user = session.scalar(sa.select(User).where(User.email == "jo@example.com"))
    assert user.email_verified_at is None


def test_a_verification_link_just_inside_48_hours_still_works(session, client, london, frozen_now):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")
    frozen_now(start + timedelta(hours=47, minutes=59))

    assert client.get(link_path(message, "verify")).status_code == 200


def test_a_tampered_verification_link_is_refused(session, client, london):
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")
    path = link_path(message, "verify")

    response = client.get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))

    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_following_the_verification_link_twice_is_fine(session, client, london):
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")
    client.get(link_path(message, "verify"))
    first = session.scalar(sa.select(User.email_verified_at).where(User.email == "jo@example.com"))

    again = client.get(link_path(message, "verify"))

    assert again.status_code == 200
    assert (
        session.scalar(sa.select(User.email_verified_at).where(User.email == "jo@example.com"))
        == first
    )


def test_the_verification_link_works_when_logged_out(app, session, client, london):
    client.post_form("/signup", signup_data())
    [message] = emails(session, "jo@example.com")

    response = app.test_client().get(link_path(message, "verify"))

    assert response.status_code == 200
    assert "Log in to book" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", "Use at least 8 characters."),
        ("password", "x" * 201, "Use at most 200 characters."),
        ("password", "Password123", "too easy to guess"),
        ("password", "jo@example.com", "too easy to guess"),
        ("email", "not-an-address", "Enter an e-mail address like name@example.com."),
        ("full_name", "", "Enter your full name."),
        ("street", "", "Enter the street and number."),
        ("postal_code", "12345", "Enter a postcode like SW1A 1AA."),
        ("time_zone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
        ("phone", "call me maybe", "Enter a phone number"),
    ],
)
def test_bad_sign_up_input_gets_422_and_changes_nothing(
    session, client, london, field, value, message
):
    response = client.post_form("/signup", signup_data(**{field: value}))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert 'aria-invalid="true"' in page
    assert count(session, User) == 0
    assert count(session, OutboxMessage) == 0


def test_a_us_address_takes_a_zip_code(session, client, london):
    response = client.post_form(
        "/signup", signup_data(country="US", postal_code="10118", city="New York")
    )

    assert response.status_code == 302


def test_a_sign_up_without_the_csrf_token_is_refused(session, client, london):
    response = client.post("/signup", data=signup_data())

    assert response.status_code == 400
    assert count(session, User) == 0


def test_resending_the_link_is_limited_to_one_a_minute(session, client, london, frozen_now):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    log_in(client)

    too_soon = client.post_form(
        "/verify/new", {"next": "/profile"}, form_url="/verify/new", follow_redirects=True
    )
    frozen_now(start + timedelta(minutes=1, seconds=1))
    later = client.post_form(
        "/verify/new", {"next": "/profile"}, form_url="/verify/new", follow_redirects=True
    )

    assert "less than a minute ago" in too_soon.get_data(as_text=True)
    assert "We sent a new link to jo@example.com" in later.get_data(as_text=True)
    assert later.request.path == "/profile"
    assert len(emails(session, "jo@example.com", SUBJECT_VERIFY)) == 2


def test_resending_the_link_is_limited_to_five_a_day(session, client, london, frozen_now):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    log_in(client)
    for minute in range(2, 12, 2):
        frozen_now(start + timedelta(minutes=minute))
        client.post_form("/verify/new", form_url="/verify/new")

    assert len(emails(session, "jo@example.com", SUBJECT_VERIFY)) == 5
    frozen_now(start + timedelta(hours=23))
    log_in(client)  # a session lasts 12 hours at most (issue #12, point 9): log in again
    refused = client.post_form("/verify/new", form_url="/verify/new", follow_redirects=True)
    assert "5 links today" in refused.get_data(as_text=True)
    frozen_now(start + timedelta(hours=24, minutes=3))
    log_in(client)  # and again after an hour away (30 idle minutes end a session)
    client.post_form("/verify/new", form_url="/verify/new")
    assert len(emails(session, "jo@example.com", SUBJECT_VERIFY)) == 6


def test_a_newer_verification_link_still_leaves_the_first_one_working(
    session, client, london, frozen_now
):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    log_in(client)
    frozen_now(start + timedelta(minutes=2))
    client.post_form("/verify/new", form_url="/verify/new")
    first, _second = emails(session, "jo@example.com", SUBJECT_VERIFY)

    assert client.get(link_path(first, "verify")).status_code == 200


def test_asking_for_a_new_link_logged_out_answers_the_same_for_any_address(
    app, session, client, london
):
    client.post_form("/signup", signup_data())
    create_customer(session, email="verified@example.com", email_verified_at=now_utc())
    answers = []
    for address in ("jo@example.com", "verified@example.com", "nobody@example.com"):
        anonymous = app.test_client()
        response = anonymous.post_form("/verify/new", {"email": address})
        answers.append((response.status_code, main_of(response.get_data(as_text=True))))

    assert answers[0][0] == 200
    assert answers[0] == answers[1] == answers[2]
    assert "If an account with that address still needs verifying" in answers[0][1]


def test_asking_for_a_new_link_logged_out_sends_one_to_an_unverified_address(
    app, session, client, london, frozen_now
):
    start = frozen_now(now_utc())
    client.post_form("/signup", signup_data())
    frozen_now(start + timedelta(minutes=5))

    app.test_client().post_form("/verify/new", {"email": "jo@example.com"})

    assert len(emails(session, "jo@example.com", SUBJECT_VERIFY)) == 2
    assert emails(session, "nobody@example.com") == []


def test_a_verified_customer_is_not_sent_another_link(session, client, auth):
    user, _, _ = create_customer(session, email_verified_at=now_utc())
    auth.login(user.email)

    response = client.post_form("/verify/new", form_url="/verify/new", follow_redirects=True)

    assert "already verified" in response.get_data(as_text=True)
    assert emails(session, user.email) == []


def test_a_logged_in_customer_cannot_open_sign_up(session, client, auth):
    user, _, _ = create_customer(session)
    auth.login(user.email)

    assert client.get("/signup").status_code == 302
