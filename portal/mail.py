"""Turning an outbox row into an e-mail and handing it to an SMTP server.

No Flask here beyond reading settings: the scheduler process sends, outside any request.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from aiosmtpd.controller import Controller

from portal.processes import wait_until_stopped

if TYPE_CHECKING:
    from portal.notifications.models import OutboxMessage

# A server that accepts the connection and then says nothing must not hang the sender.
SMTP_TIMEOUT_SECONDS = 20
_METHOD = re.compile(r"^METHOD:(\w+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    mail_from: str = "Portal <no-reply@portal.test>"
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        """The SMTP_* settings and MAIL_FROM of a Flask config (or any mapping)."""
        return cls(
            host=config.get("SMTP_HOST", ""),
            port=int(config.get("SMTP_PORT", 25)),
            user=config.get("SMTP_USER", ""),
            password=config.get("SMTP_PASSWORD", ""),
            starttls=bool(config.get("SMTP_STARTTLS", False)),
            mail_from=config.get("MAIL_FROM", cls.mail_from),
        )

    @property
    def sender_domain(self) -> str:
        address = parseaddr(self.mail_from)[1]
        return address.rpartition("@")[2] or "portal.invalid"


def build_message(message: OutboxMessage, settings: SmtpSettings) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative, and the .ics invitation if any.

    The Message-ID comes from the outbox row, so a retried send carries the same id and
    a receiving server or client can recognise a duplicate.
    """
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = f"<outbox-{message.id}@{settings.sender_domain}>"
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    if message.ics:
        method = _METHOD.search(message.ics)
        email.add_attachment(
            message.ics,
            subtype="calendar",
            filename="invite.ics",
            params={"method": method.group(1) if method else "PUBLISH"},
        )
    return email


class SmtpConnection:
    """One SMTP session for a batch: connect (STARTTLS, log-in) once, send many."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        if self._smtp is None:
            self.open()
        return self

    def open(self) -> SmtpConnection:
        """Connect now (raises OSError or SMTPException when the server cannot be used)."""
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return self

    def send(self, email: EmailMessage) -> None:
        if self._smtp is None:  # an assert would vanish under python -O
            raise RuntimeError("use SmtpConnection as a context manager")
        self._smtp.send_message(email)

    def __exit__(self, *exc) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


class SinkHandler:
    """An aiosmtpd handler that accepts every message, logs one line and keeps nothing.

    For `make run` without a mail server: the outbox still records every message, and
    /admin/mail shows them.
    """

    def __init__(self, echo=print):
        self.echo = echo

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "replace")
        parsed = message_from_bytes(content, policy=default)
        recipients = ", ".join(envelope.rcpt_tos)
        self.echo(f"mail-sink: to {recipients}: {parsed.get('Subject', '(no subject)')}")
        return "250 Message accepted for delivery"


def run_mail_sink(host: str = "127.0.0.1", port: int = 8025, echo=print) -> None:
    """Serve SMTP on host:port, discarding mail, until SIGTERM or SIGINT."""
    controller = Controller(SinkHandler(echo), hostname=host, port=port)
    controller.start()
    echo(f"mail-sink: accepting mail on {host}:{port} and discarding it")
    try:
        wait_until_stopped()
    finally:
        controller.stop()
        echo("mail-sink: stopped")
