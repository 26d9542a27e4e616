"""A real SMTP server for tests: aiosmtpd on a loopback port, recording what it gets."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from portal.mail import SmtpSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """Keeps every message it accepts; refuses the recipients in `refuse`."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self):
        self.port = free_port()
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host="127.0.0.1", port=self.port, mail_from="Portal <no-reply@portal.test>", timeout=5
        )

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
