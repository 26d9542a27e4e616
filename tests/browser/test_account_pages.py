"""Customer accounts in a real browser: sign up from the log-in page and follow the
verification link, reset a forgotten password through the e-mailed link, accept a staff
invitation, keep the profile. Each page passes axe and is photographed on desktop and phone.

E-mails are read from the live server's outbox. The live server (tests/conftest.py) keeps
its SQLite file under the session's base temporary folder, in the folder it made with
`mktemp("live")`; `outbox` below opens that file read-only beside the server.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy.pool import NullPool

from portal.accounts.emails import SUBJECT_INVITE, SUBJECT_RESET, SUBJECT_VERIFY
from tests.browser.axe import check_accessibility
from tests.browser.pages import log_in, screenshots

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple tide lantern"
BANNER = "Please verify your e-mail address"

_numbers = itertools.count(1)


class Outbox:
    """Reads the live server's database: the e-mails it queued, and account ids."""

    def __init__(self, path: Path):
        self.engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)

    def link(self, to: str, subject: str, prefix: str) -> str:
        """The path of the /<prefix>/... link in the newest such e-mail to `to`."""
        with self.engine.connect() as connection:
            body = connection.scalar(
                sa.text(
                    "SELECT body_text FROM outbox_messages WHERE recipient = :to "
                    "AND subject = :subject ORDER BY id DESC LIMIT 1"
                ),
                {"to": to, "subject": subject},
            )
        assert body, f"no e-mail {subject!r} to {to}"
        match = re.search(rf"https?://\S+/{prefix}/[A-Za-z0-9_.\-]+", body)
        assert match, body
        return urlsplit(match.group(0)).path

    def account_id(self, name: str) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(
                sa.text("SELECT id FROM customer_accounts WHERE name = :name"), {"name": name}
            )


@pytest.fixture(scope="session")
def outbox(live_server, tmp_path_factory):
    # mktemp("live") made live0 (pytest adds a "livecurrent" symlink to it).
    [path] = {p.resolve() for p in tmp_path_factory.getbasetemp().glob("live*/portal.db")}
    reader = Outbox(path)
    yield reader
    reader.engine.dispose()


def _check(page: Page, screenshot_dir, name: str, what: str) -> None:
    check_accessibility(page, what)
    screenshots(page, screenshot_dir, name)


def _sign_up(
    page: Page, email: str, *, postcode: str = "SW1A 1AA", then_log_in: bool = True
) -> None:
    """Sign up, see the check-your-e-mail page, then (by default) log in: sign-up itself
    does not log in, or a stranger could tell a new address from a taken one."""
    page.goto("/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Robin Hart")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Phone (optional)").fill("+44 7700 900456")
    page.get_by_label("Street and number").fill("14 Lavender Hill")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    if then_log_in:
        log_in(page, email, PASSWORD)


def _log_out(page: Page) -> None:
    # exact: the profile also has "Log out everywhere" and a "Log out" for each device
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def _new_email() -> str:
    return f"robin{next(_numbers)}@example.com"


def test_a_new_customer_signs_up_from_the_log_in_page_and_verifies_the_email(
    page: Page, outbox, screenshot_dir
):
    email = _new_email()
    page.goto("/login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/London")
    expect(page.get_by_label("Name for this address")).to_have_value("Home")
    _check(page, screenshot_dir, "signup", "the sign-up page")

    _sign_up(page, email, then_log_in=False)
    expect(page.get_by_text(email)).to_be_visible()
    _check(page, screenshot_dir, "signup-sent", "the check-your-e-mail page")
    log_in(page, email, PASSWORD)

    page.goto("/profile")
    expect(page.get_by_role("heading", name=BANNER)).to_be_visible()
    expect(page.get_by_role("button", name="Resend the link")).to_be_visible()
    _check(page, screenshot_dir, "profile-unverified", "the profile of an unverified customer")

    page.goto(outbox.link(email, SUBJECT_VERIFY, "verify"))
    expect(page.get_by_role("heading", name="Your e-mail address is verified")).to_be_visible()
    _check(page, screenshot_dir, "verified", "the verified page")

    page.goto("/profile")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_role("heading", name=BANNER)).to_have_count(0)

    # Verified, the new customer books its first appointment at its own address.
    page.get_by_role("link", name="Book an appointment").first.click()
    page.get_by_label("Service").select_option(label="Leak repair (60 min)")
    page.get_by_label("Where is the work?").select_option(index=1)  # "Home", the only one
    page.get_by_role("button", name="Show free windows").click()
    for _ in range(4):
        if page.locator("a.slot").count():
            break
        page.get_by_role("link", name="Next week →").click()
    page.locator("a.slot").first.click()
    page.get_by_role("button", name="Book this window").click()
    expect(page.get_by_text(re.compile(r"Booked: Leak repair"))).to_be_visible()


def test_resending_the_link_at_once_asks_the_customer_to_wait(page: Page, screenshot_dir):
    _sign_up(page, _new_email())
    page.goto("/profile")

    page.get_by_role("button", name="Resend the link").click()

    expect(page.get_by_text("less than a minute ago")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/profile$"))


def test_sign_up_mistakes_are_shown_next_to_each_field(page: Page, screenshot_dir):
    page.goto("/signup")
    page.get_by_label("Name for this address").fill("")
    page.get_by_label("Password").fill("password1")
    page.get_by_label("Postcode").fill("nowhere")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()
    expect(page.get_by_role("link", name="Full name: Enter your full name.")).to_be_visible()
    expect(page.locator("#full_name-error")).to_have_text("Enter your full name.")
    expect(page.locator("#password-error")).to_contain_text("too easy to guess")
    expect(page.locator("#postal_code-error")).to_have_text("Enter a postcode like SW1A 1AA.")
    expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Full name")).to_have_attribute("aria-describedby", "full_name-error")
    _check(page, screenshot_dir, "signup-errors", "the sign-up page with errors")


def test_an_address_outside_our_territories_is_kept_with_a_note(page: Page):
    _sign_up(page, _new_email(), postcode="M1 1AE", then_log_in=False)

    expect(page.get_by_text("We do not serve postcode")).to_be_visible()


def test_a_customer_resets_a_forgotten_password_through_the_emailed_link(
    page: Page, outbox, screenshot_dir
):
    email = _new_email()
    _sign_up(page, email)
    page.goto("/profile")
    _log_out(page)

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    _check(page, screenshot_dir, "forgot", "the forgot-password page")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If an account exists for that address")).to_be_visible()
    _check(page, screenshot_dir, "forgot-sent", "the reset-sent page")

    link = outbox.link(email, SUBJECT_RESET, "reset")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    _check(page, screenshot_dir, "reset", "the new-password page")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(link)  # used once: it opens nothing now
    expect(page.get_by_text("already been used")).to_be_visible()
    _check(page, screenshot_dir, "reset-used", "the used-link page")


def test_a_scheduler_invites_a_contact_who_sets_a_password(page: Page, outbox, screenshot_dir):
    account_id = outbox.account_id("Harbour Lane Dental")
    email = f"invitee{next(_numbers)}@example.com"
    page.goto("/login")
    page.get_by_label("E-mail").fill("scheduler@demo.test")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(f"/accounts/{account_id}/invite")
    expect(page.get_by_role("heading", name="People at Harbour Lane Dental")).to_be_visible()
    page.get_by_label("Full name").fill("Dana Whitfield")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"We sent an invitation to {email}")).to_be_visible()
    expect(page.get_by_role("cell", name="Dana Whitfield")).to_be_visible()
    _check(page, screenshot_dir, "invite-staff", "the staff invite page")
    _log_out(page)

    page.goto(outbox.link(email, SUBJECT_INVITE, "invite"))
    expect(page.get_by_role("heading", name="Welcome, Dana Whitfield")).to_be_visible()
    _check(page, screenshot_dir, "invite-accept", "the accept-invitation page")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()

    expect(page).to_have_url(re.compile(r"/appointments$"))
    expect(page.get_by_text("Your password is set")).to_be_visible()


def test_the_profile_keeps_details_and_addresses(page: Page, outbox, screenshot_dir):
    email = _new_email()
    _sign_up(page, email)
    page.goto(outbox.link(email, SUBJECT_VERIFY, "verify"))
    page.goto("/profile")

    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_label("E-mail me about my appointments").uncheck()
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_text("Your details are saved.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    expect(page.get_by_label("E-mail me about my appointments")).not_to_be_checked()

    page.get_by_text("Add an address").click()
    page.get_by_label("Name for this address").fill("Studio")
    page.get_by_label("Street and number").fill("2 Old Kent Road")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("SE1 5AA")
    page.get_by_role("button", name="Add the address").click()
    expect(page.get_by_text("Studio is added to your addresses.")).to_be_visible()
    _check(page, screenshot_dir, "profile", "the profile page")

    page.get_by_role("button", name=re.compile(r"^Remove Studio")).click()
    expect(page.get_by_text("The address is removed.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Remove Studio"))).to_have_count(0)
