"""E-mail to case (#15, point 7): a reply to a case's address lands on the case as the
customer's comment, without the quoted original, and the case's queue is alerted;
unknown addresses are refused. The listener tests talk SMTP to a real listener."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from portal.cases.inbound import UnknownCaseAddress, own_lines, receive_reply, reply_address
from portal.cases.mail_listener import start_listener
from portal.cases.queries import timeline_for_case
from portal.cases.services import close_case, set_status
from portal.notifications.models import Notification, OutboxMessage
from portal.workorders.models import TimelineEntry
from tests.case_factories import create_case
from tests.case_task_factories import build_aging
from tests.factories import NOW
from tests.smtp_sink import free_port

QUOTED = (
    "Thanks, I have confirmed it now.\n"
    "Kind regards, Cora\n"
    "\n"
    "On Mon, 1 Jun 2026 at 07:00, Portal <case+abc@portal.test> wrote:\n"
    "> Your account has confirmations waiting.\n"
    "> Please reply.\n"
)


@pytest.fixture
def aging(session, frozen_now):
    frozen_now(NOW)
    return build_aging(session)


def reply(frm: str, to: str, text: str = QUOTED, html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = frm
    message["To"] = to
    message["Subject"] = "Re: Confirmations waiting"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def comments(session, case) -> list[TimelineEntry]:
    return [
        e for e in timeline_for_case(session, case, include_internal=True) if e.action == "comment"
    ]


def test_quoted_lines_and_the_quoted_original_are_dropped():
    assert own_lines(QUOTED) == "Thanks, I have confirmed it now.\nKind regards, Cora"
    two_lines = "Done.\nOn Mon, 1 Jun 2026 at 07:00, Portal\n<case+abc@portal.test> wrote:\nold"
    assert own_lines(two_lines) == "Done."
    assert own_lines("Yes\n-----Original Message-----\nFrom: x") == "Yes"


def test_a_reply_from_the_contact_lands_as_its_users_comment(session, aging):
    case, customer = aging["case"], aging["customer"]
    address = reply_address(session, case)
    receive_reply(
        session, mail_from=customer.email, rcpt_to=[address], data=reply(customer.email, address)
    )
    [comment] = comments(session, case)
    assert comment.actor_id == customer.id and comment.visibility == "customer"
    assert comment.note == "Thanks, I have confirmed it now.\nKind regards, Cora"


def test_the_queue_members_are_alerted_and_the_customer_is_not_echoed(
    session, aging, expand_events
):
    case, customer = aging["case"], aging["customer"]
    address = reply_address(session, case)
    expand_events()  # the case's opening: the customer hears of it

    def to_customer() -> int:
        query = sa.select(sa.func.count()).where(OutboxMessage.recipient == customer.email)
        return session.scalar(query)

    before = to_customer()
    receive_reply(
        session, mail_from=customer.email, rcpt_to=[address], data=reply(customer.email, address)
    )
    expand_events()
    told = session.scalars(
        sa.select(Notification.message).where(Notification.user_id == aging["teri"].id)
    ).all()
    assert told.count(f"New e-mail on {case.number}") == 1
    assert not [m for m in told if "commented" in m]  # one alert, not two
    recipients = set(session.scalars(sa.select(OutboxMessage.recipient)))
    assert aging["teri"].email in recipients
    assert to_customer() == before


def test_a_reply_from_an_unknown_sender_lands_marked_by_email(session, aging):
    case = aging["case"]
    address = reply_address(session, case)
    receive_reply(
        session,
        mail_from="bounce@elsewhere.test",
        rcpt_to=[address],
        data=reply("Someone <someone@elsewhere.test>", address, "It is done."),
    )
    [comment] = comments(session, case)
    assert comment.actor_id is None
    assert comment.note == "By e-mail from someone@elsewhere.test: It is done."


def test_the_html_part_is_read_without_its_tags_when_there_is_no_text(session, aging):
    case, customer = aging["case"], aging["customer"]
    address = reply_address(session, case)
    message = EmailMessage()
    message["From"], message["To"] = customer.email, address
    message.set_content(
        "<p>Confirmed &amp; done.</p><blockquote>old text</blockquote>", subtype="html"
    )
    receive_reply(session, mail_from="", rcpt_to=[address], data=message.as_bytes())
    assert comments(session, case)[0].note == "Confirmed & done."


def test_an_unknown_token_is_refused_and_nothing_is_written(session, aging, caplog):
    before = session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))
    address = "case+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@portal.test"
    with pytest.raises(UnknownCaseAddress):
        receive_reply(
            session, mail_from="x@y.test", rcpt_to=[address], data=reply("x@y.test", address)
        )
    assert session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == before
    assert address in caplog.text


def test_a_case_waiting_on_the_customer_goes_back_to_the_team(session, aging):
    case = create_case(session, aging["contact"])
    set_status(session, case, "Waiting on customer", None)
    address = reply_address(session, case)
    customer = aging["customer"]
    receive_reply(session, mail_from="", rcpt_to=[address], data=reply(customer.email, address))
    assert case.status == "In progress"


def test_a_closed_case_takes_the_reply_and_stays_closed(session, aging):
    case = aging["case"]
    close_case(session, case, aging["teri"])
    address = reply_address(session, case)
    customer = aging["customer"]
    receive_reply(session, mail_from="", rcpt_to=[address], data=reply(customer.email, address))
    assert case.is_closed and len(comments(session, case)) == 1


# -- the listener, over SMTP -----------------------------------------------------------------


@pytest.fixture
def listener(app):
    port = free_port()
    controller = start_listener(app, "127.0.0.1", port)
    yield port
    controller.stop()


def test_a_reply_over_smtp_lands_on_the_case_without_the_quote(session, aging, listener):
    case, customer = aging["case"], aging["customer"]
    address = reply_address(session, case)
    session.commit()
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as smtp:
        smtp.sendmail(customer.email, [address], reply(customer.email, address))
    session.rollback()
    [comment] = comments(session, case)
    assert comment.note == "Thanks, I have confirmed it now.\nKind regards, Cora"
    assert comment.actor_id == customer.id
    [notice] = session.scalars(
        sa.select(Notification).where(Notification.user_id == aging["teri"].id)
    ).all()
    assert case.number in notice.message


def test_an_unknown_address_is_refused_with_550_over_smtp(session, aging, listener):
    before = session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))
    session.commit()  # SQLite: the listener's connection may write (BEGIN IMMEDIATE)
    address = "case+BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB@portal.test"
    with (
        smtplib.SMTP("127.0.0.1", listener, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.sendmail("x@y.test", [address], reply("x@y.test", address))
    assert refused.value.recipients[address] == (550, b"5.1.1 No such case")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == before
