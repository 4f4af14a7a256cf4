"""Delivering the outbox over SMTP, each email once, across restarts and retries.

The outbox view says which emails are owed; ``mail_deliveries`` (this module's
own table, never rebuilt) says what became of each. One email is sent per
transaction: its delivery row is locked ``FOR UPDATE SKIP LOCKED`` (a second
sender skips it), the message goes to the mail server, and ``sent`` is
committed only once the server answered 250. A sender killed before that
answer leaves the row as it was and the email is sent again on restart; one
killed in the instant between the server's 250 and the commit sends it twice,
with the same ``Message-ID``, which mail servers and clients use to drop the
copy. Nothing is ever marked sent that the server did not accept.

A temporary refusal (4xx, a lost connection) is tried again later, backing off
up to an hour; a permanent one (5xx) marks the email ``failed`` with the
server's words. An email older than ``max_age`` when first picked up is marked
``expired`` instead of sent: a desk that turns email on late does not flood
its customers with a year of history.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.rows import dict_row

from projections.background import Background
from projections.outbox import DELIVERIES, MAIL, MailIdentity, create_delivery_table
from projections.runner import Tables

log = logging.getLogger("docket.mail")

STATES = ("queued", "sent", "retry", "failed", "expired")
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class SmtpServer:
    """Where to send: ``smtp://[user:password@]host[:port]`` (``smtps://`` for TLS on connect,
    ``?starttls=1`` to upgrade a plain connection)."""

    host: str
    port: int
    user: str = ""
    password: str = ""
    tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"{url!r} is not an SMTP URL such as smtp://127.0.0.1:1025.")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            tls=tls,
            starttls="starttls=1" in parts.query,
        )

    def connect(self, timeout: float) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.starttls:
                client.starttls()
        if self.user:
            client.login(self.user, self.password)
        return client


def render(row: dict[str, Any], identity: MailIdentity) -> EmailMessage:
    """The email for one outbox row, with the headers that thread it in mail clients."""
    ticket_id, version = row["ticket_id"], row["version"]
    earlier = [identity.message_id(ticket_id, v) for v in row["earlier"]]
    references = [identity.thread_root(ticket_id), *earlier]
    message = EmailMessage()
    message["From"] = identity.sender
    message["To"] = ", ".join(row["recipients"])
    message["Reply-To"] = formataddr(
        (parseaddr(identity.sender)[0], identity.reply_address(row["number"]))
    )
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = identity.message_id(ticket_id, version)
    message["In-Reply-To"] = references[-1]
    message["References"] = " ".join(references)
    message["X-Docket-Ticket"] = row["number"]
    if row["reason"] in ("pending", "closed"):
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body"])
    return message


class MailSender(Background):
    """Sends what the outbox owes, one email per transaction, in a thread of its own."""

    thread_name = "docket-mail"

    def __init__(
        self,
        url: str,
        schema: str,
        smtp: SmtpServer,
        identity: MailIdentity,
        *,
        max_age: timedelta = timedelta(hours=24),
        poll_seconds: float = 0.5,
        timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.schema = schema
        self.smtp = smtp
        self.identity = identity
        self.max_age = max_age
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.t = Tables(schema)
        self.deliveries = f'"{schema}".{DELIVERIES}'
        super().__init__()
        self._client: smtplib.SMTP | None = None

    def create_tables(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            create_delivery_table(conn, self.schema)

    # --- one pass -------------------------------------------------------------------

    def enqueue(self, conn: psycopg.Connection[Any]) -> int:
        """A delivery row for every email of the outbox that has none yet."""
        cur = conn.execute(
            f"INSERT INTO {self.deliveries} (notification_id) "
            f"SELECT m.notification_id FROM {self.t(MAIL)} m "
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.deliveries} d "
            "WHERE d.notification_id = m.notification_id) "
            "ORDER BY m.position ON CONFLICT DO NOTHING"
        )
        return cur.rowcount

    def send_next(self, conn: psycopg.Connection[Any]) -> str | None:
        """Deliver the next email that is due; what became of it, or None when none is due."""
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"SELECT d.notification_id, d.attempts, m.* FROM {self.deliveries} d "
                f"JOIN {self.t(MAIL)} m USING (notification_id) "
                "WHERE d.state IN ('queued', 'retry') AND d.next_attempt_at <= now() "
                "ORDER BY m.position LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
            ).fetchone()
            if row is None:
                return None
            now: datetime = cur.execute("SELECT now()").fetchone()["now"]  # type: ignore[index]
            if row["attempts"] == 0 and now - row["created_at"] > self.max_age:
                self._mark(cur, row["notification_id"], "expired", "older than the max age")
                return "expired"
            try:
                self._deliver(render(row, self.identity))
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    return self._retry(cur, row, f"{error.smtp_code} {error.smtp_error!r}")
                self._mark(cur, row["notification_id"], "failed", server_words(error))
                return "failed"
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                if all(400 <= code < 500 for code in codes):
                    return self._retry(cur, row, f"recipients refused {error.recipients!r}")
                self._mark(cur, row["notification_id"], "failed", f"{error.recipients!r}")
                return "failed"
            except (OSError, smtplib.SMTPException) as error:
                self._drop_client()
                return self._retry(cur, row, f"{type(error).__name__}: {error}")
            cur.execute(
                f"UPDATE {self.deliveries} SET state = 'sent', attempts = attempts + 1, "
                "sent_at = now(), last_error = NULL, updated_at = now() "
                "WHERE notification_id = %s",
                (row["notification_id"],),
            )
            return "sent"

    def _deliver(self, message: EmailMessage) -> None:
        if self._client is None:
            self._client = self.smtp.connect(self.timeout)
        try:
            self._client.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop_client()  # a connection the server closed while idle: once more, anew
            self._client = self.smtp.connect(self.timeout)
            self._client.send_message(message)

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def _retry(self, cur: psycopg.Cursor[Any], row: dict[str, Any], error: str) -> str:
        attempts = row["attempts"] + 1
        wait = min(timedelta(seconds=5 * 2 ** min(attempts, 12)), MAX_BACKOFF)
        cur.execute(
            f"UPDATE {self.deliveries} SET state = 'retry', attempts = %s, last_error = %s, "
            "next_attempt_at = now() + %s, updated_at = now() WHERE notification_id = %s",
            (attempts, error[:1000], wait, row["notification_id"]),
        )
        log.warning("mail %s not sent (%s); again in %s", row["notification_id"], error, wait)
        return "retry"

    def _mark(self, cur: psycopg.Cursor[Any], notification_id: str, state: str, why: str) -> None:
        cur.execute(
            f"UPDATE {self.deliveries} SET state = %s, attempts = attempts + 1, "
            "last_error = %s, updated_at = now() WHERE notification_id = %s",
            (state, why[:1000], notification_id),
        )

    def drain(self, conn: psycopg.Connection[Any]) -> dict[str, int]:
        """Everything due now: what became of it, counted (for tests and tools)."""
        outcomes: dict[str, int] = {}
        self.enqueue(conn)
        while (outcome := self.send_next(conn)) is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes

    # --- running in the background ------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.url, autocommit=True, application_name="docket-mail"
                ) as conn:
                    while not self._stop.is_set():
                        self.enqueue(conn)
                        while not self._stop.is_set() and self.send_next(conn) is not None:
                            pass
                        self._stop.wait(self.poll_seconds)
            except Exception as error:  # a lost database: try again, visibly
                log.warning("mail sender: %s; retrying", error, exc_info=True)
                self._stop.wait(1.0)
            finally:
                self._drop_client()


def server_words(error: smtplib.SMTPResponseException) -> str:
    words = error.smtp_error
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    return f"{error.smtp_code} {text}"
