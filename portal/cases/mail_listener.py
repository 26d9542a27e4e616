"""The inbound mail listener: an SMTP server (aiosmtpd) that takes replies to cases.

A recipient that is not a known case's address is refused at RCPT ("550 5.1.1 No such
case", and logged), so nothing is kept for it; a message for a case lands on it as the
customer's comment (portal/cases/inbound.py `receive_reply`), committed before the "250"
answer; any other failure answers "451" so the sending server tries again later. In
production an SMTP relay forwards case+*@PORTAL_INBOUND_MAIL_DOMAIN here; `make run`
starts it beside the mail sink (`portal inbound-mail`).
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from flask import Flask

from portal.cases.inbound import UnknownCaseAddress, case_of_address, receive_reply
from portal.db import get_session
from portal.processes import wait_until_stopped

log = logging.getLogger(__name__)

# A reply is text; attachments beyond this are refused by the server itself (552).
MAX_BYTES = 10 * 1024 * 1024
MAX_RECIPIENTS = 10
NO_SUCH_CASE = "550 5.1.1 No such case"
TRY_LATER = "451 4.3.0 The reply could not be stored now; try again later"


class InboundHandler:
    """aiosmtpd's handler: the database work runs in a worker thread, in an app context
    of its own (the SMTP server's event loop keeps answering meanwhile). What it refuses
    and what lands is logged (portal.cases.mail_listener, portal.cases.inbound)."""

    def __init__(self, app: Flask):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        known = await asyncio.get_running_loop().run_in_executor(None, self._known, address)
        if not known:
            log.warning("inbound mail: refused recipient %s (no such case)", address)
            return NO_SUCH_CASE
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._land, envelope)
        except UnknownCaseAddress:
            return NO_SUCH_CASE
        except Exception:  # any failure: the sender keeps the message and retries
            log.exception("inbound mail: a reply to %s could not be stored", envelope.rcpt_tos)
            return TRY_LATER
        return "250 Message accepted for the case"

    def _known(self, address: str) -> bool:
        with self.app.app_context():
            return case_of_address(get_session(), address) is not None

    def _land(self, envelope) -> None:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        with self.app.app_context():
            session = get_session()
            try:
                receive_reply(
                    session,
                    mail_from=envelope.mail_from or "",
                    rcpt_to=list(envelope.rcpt_tos),
                    data=data,
                )
                session.commit()
            except BaseException:
                session.rollback()
                raise


def start_listener(app: Flask, host: str = "127.0.0.1", port: int = 8027) -> Controller:
    """Start the listener in a thread of its own; `.stop()` the controller to end it."""
    controller = Controller(
        InboundHandler(app),
        hostname=host,
        port=port,
        data_size_limit=MAX_BYTES,
    )
    controller.start()
    return controller


def run_inbound_mail(app: Flask, host: str = "127.0.0.1", port: int = 8027, echo=print) -> None:
    """Serve until SIGTERM or SIGINT (the `portal inbound-mail` command)."""
    controller = start_listener(app, host, port)
    echo(f"inbound-mail: taking replies to cases on {host}:{port}")
    try:
        wait_until_stopped()
    finally:
        controller.stop()
        echo("inbound-mail: stopped")
