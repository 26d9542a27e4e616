"""E-mail to case: a case's e-mails carry a reply address with the case's token
(case+TOKEN@PORTAL_INBOUND_MAIL_DOMAIN); a reply received by the inbound mail listener
lands on the case as the customer's comment (`receive_reply`), and the team is alerted.
The listener itself is portal/cases/mail_listener.py."""

from __future__ import annotations

import logging
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts.models import Contact, User
from portal.cases.comments import add_email_comment
from portal.cases.models import Case, new_reply_token
from portal.errors import NotFound
from portal.notifications.services import notify_user
from portal.queues.services import notify_queue

_ADDRESS = re.compile(r"^case\+([A-Za-z0-9_-]{16,43})@", re.IGNORECASE)


def inbound_domain() -> str:
    """PORTAL_INBOUND_MAIL_DOMAIN, or the sender's domain (MAIL_FROM) when unset."""
    configured = current_app.config.get("INBOUND_MAIL_DOMAIN", "")
    if configured:
        return configured
    sender = current_app.config.get("MAIL_FROM", "")
    address = sender.rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or "portal.invalid"


def reply_address(session: so.Session, case: Case) -> str:
    """The case's reply address; its token is made on first use (written with the
    caller's next flush)."""
    if not case.reply_token:
        case.reply_token = new_reply_token()
    return f"case+{case.reply_token}@{inbound_domain()}"


def token_of(address: str) -> str | None:
    """The case token in a recipient address, or None when it is not a case address."""
    found = _ADDRESS.match(address.strip().strip("<>"))
    return found.group(1) if found else None


# -- receiving a reply ----------------------------------------------------------------------

log = logging.getLogger(__name__)
# The comment service's own limit (portal/cases/services.py NOTE_MAX): a longer reply is
# cut there, and says so.
TEXT_MAX = 5_000
CUT = "\n\n[… the rest of the e-mail was cut]"
# "On Mon, 1 Jun 2026 at 10:00, Portal <case+…@…> wrote:" (a mail client may break it in
# two lines), and Outlook's separator: everything from there on is the quoted original.
_ON_WROTE = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_ON = re.compile(r"^\s*On\b", re.IGNORECASE)
_WROTE = re.compile(r"\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)


class UnknownCaseAddress(NotFound):
    """No case has this address (no token, or a token no case carries)."""


def case_of_address(session: so.Session, address: str) -> Case | None:
    """The case whose reply address this is, or None."""
    token = token_of(address)
    if token is None:
        return None
    return session.scalar(sa.select(Case).where(Case.reply_token == token))


def receive_reply(session: so.Session, *, mail_from: str, rcpt_to: list[str], data: bytes) -> Case:
    """Put the e-mail `data` on the case its recipient names, as the customer's comment
    (its own text: quoted lines and the quoted original dropped), and alert the case's
    owner (its queue's members, or its person) "New e-mail on CS-000012". Flushes, never
    commits. UnknownCaseAddress (logged) when no recipient is a case's address."""
    case = next((c for c in (case_of_address(session, a) for a in rcpt_to) if c is not None), None)
    if case is None:
        log.warning("e-mail to an unknown case address refused: %s", ", ".join(rcpt_to))
        raise UnknownCaseAddress("There is no such case.")
    message = message_from_bytes(data, policy=default)
    sender = _sender(message, mail_from)
    by = _user_of_sender(session, case, sender)
    entry = add_email_comment(session, case, reply_text(message), by=by, sender=sender)
    session.flush()
    _alert(session, case, entry.id)
    log.info("e-mail from %s landed on %s", sender or "(no sender)", case.number)
    return case


def reply_text(message: EmailMessage) -> str:
    """The text the sender wrote: the plain part (or the HTML part without its tags),
    without quoted lines and what follows "On … wrote:", at most TEXT_MAX characters."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _content(part)
    if part.get_content_subtype() == "html":
        text = _html_text(text)
    text = own_lines(text)
    if len(text) > TEXT_MAX:
        text = text[: TEXT_MAX - len(CUT)].rstrip() + CUT
    return text


def own_lines(text: str) -> str:
    """`text` without quoted lines (">") and without the quoted original ("On … wrote:",
    "-----Original Message-----" and all after), trimmed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _ON_WROTE.match(line) or _ORIGINAL.match(line):
            break
        if _ON.match(line) and not _WROTE.search(line) and _WROTE.search(following):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _content(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


class _TextOnly(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "blockquote", "h1", "h2", "h3"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0  # inside <script>, <style> or a quoted <blockquote>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "blockquote"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "blockquote"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = ("".join(parser.parts)).split("\n")  # character references already converted
    return re.sub(r"\n{3,}", "\n\n", "\n".join(" ".join(line.split()) for line in lines))


def _sender(message: EmailMessage, mail_from: str) -> str:
    """The From address (what the person sees as theirs), else the envelope's sender."""
    found = [address for _, address in getaddresses(message.get_all("From", [])) if address]
    address = found[0] if found else parseaddr(mail_from or "")[1]
    return address.strip().lower()[:254]


def _user_of_sender(session: so.Session, case: Case, sender: str) -> User | None:
    """The user of the case account's contact whose e-mail is the sender's, if any."""
    if not sender:
        return None
    contact = session.scalar(
        sa.select(Contact)
        .where(
            Contact.account_id == case.account_id,
            sa.func.lower(Contact.email) == sender,
            Contact.user_id.is_not(None),
        )
        .order_by(Contact.id)
        .limit(1)
    )
    user = contact.user if contact is not None else None
    return user if user is not None and user.active else None


def _alert(session: so.Session, case: Case, entry_id: int) -> None:
    message = f"New e-mail on {case.number}" + (" (closed)" if case.is_closed else "")
    link = f"/cases/{case.id}"
    if case.owner_queue is not None:
        notify_queue(session, case.owner_queue, message, link, dedupe_key=f"case-email:{entry_id}")
    if case.owner_user_id is not None:
        notify_user(session, case.owner_user_id, message, link)
