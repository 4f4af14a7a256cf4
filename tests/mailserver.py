"""What the email tests share: a real SMTP server on loopback (aiosmtpd) that keeps what
it is sent, the test desk's mail identity, its inbound mail on a pool and its sender."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from psycopg_pool import ConnectionPool

from bench.harness import free_port
from desk.service import SupportDesk
from mail.intake import MailIntake
from mail.sender import MailSender, SmtpServer
from projections.outbox import MailIdentity
from store.attachments import AttachmentStore

IDENTITY = MailIdentity("Acme Help <help@desk.test>", "help@desk.test", b"a server secret")
"""How the test desk signs and addresses its emails."""


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """Everything the server accepted, and knobs to make it slow or refuse."""

    received: list[Received] = field(default_factory=list)
    rcpt_delay: float = 0.0
    refuse: dict[str, str] = field(default_factory=dict)
    """Recipient address → the SMTP answer that refuses it (e.g. ``"550 No such user"``)."""
    refuse_sender: str | None = None
    """The SMTP answer to MAIL FROM, when the server refuses the sender itself."""
    kill_at: tuple[int, int] | None = None
    """``(pid, n)``: the n-th RCPT from now kills that process, mid-conversation."""
    rcpts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.rcpt_delay:
            time.sleep(self.rcpt_delay)  # blocks the server's loop: a slow server, on purpose
        self.rcpts += 1
        if self.kill_at is not None and self.rcpts >= self.kill_at[1]:
            os.kill(self.kill_at[0], signal.SIGKILL)
            self.kill_at = None
            return "421 Sender gone"
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.messages())} emails arrived; {count} were expected")


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """``(smtp_url, mailbox)`` of a fresh server on 127.0.0.1, stopped after."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", mailbox
    finally:
        controller.stop()


def mail_intake(
    desk: SupportDesk,
    pool: ConnectionPool,
    schema: str,
    *,
    max_attachment_bytes: int = 1024,
    **options: Any,
) -> MailIntake:
    """Inbound mail for ``desk`` on ``pool``, its tables and its attachments' created."""
    attachments = AttachmentStore(pool, schema)
    attachments.create_tables()
    intake = MailIntake(desk, pool, schema, attachments, IDENTITY,
                        max_attachment_bytes=max_attachment_bytes, **options)  # fmt: skip
    intake.create_tables()
    return intake


def mail_sender(
    database_url: str,
    schema: str,
    smtp_url: str,
    identity: MailIdentity = IDENTITY,
    **options: Any,
) -> MailSender:
    """The test desk's outbound mail, sent to the SMTP server at ``smtp_url``."""
    return MailSender(database_url, schema, SmtpServer.from_url(smtp_url), identity, **options)
