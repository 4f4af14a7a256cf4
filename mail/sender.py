"""Delivering the outbox over SMTP, each email once, across restarts and retries.

The outbox view says which emails are owed; ``mail_deliveries`` (this module's
own table, never rebuilt) says what became of each. Each recipient's copy
of an email is sent in one transaction: its delivery row is locked ``FOR UPDATE SKIP
LOCKED`` (a second sender skips it), the copy goes to the mail server, and that the
recipient has it (``sent_to``; ``sent`` once everyone does) is committed only once the
server answered 250. A sender killed before that
answer leaves the row as it was and the email is sent again on restart; one
killed in the instant between the server's 250 and the commit sends it twice,
with the same ``Message-ID`` (mail stores such as Gmail's show it once). Nothing
is ever marked sent that the server did not accept. The transaction stays open
for the one SMTP conversation (bounded by ``timeout``).

A mail server that cannot be reached, or that refuses Docket itself (a wrong
password, a sender address it will not take), touches no email: the sender
waits and tries again. A temporary refusal of one email (4xx, a connection
lost mid-message) is tried again later, backing off up to an hour, and given
up as ``failed`` after ``MAX_ATTEMPTS``; a permanent one (5xx) marks it
``failed`` with the server's words. An email some of whose recipients were
refused is ``sent``, with who was refused in ``last_error``. One that cannot
even be written is ``failed`` at once, so it never blocks the ones behind it.
An email older than ``max_age`` when first picked up is marked ``expired``
instead of sent: a desk that turns email on late does not flood its customers
with a year of history.

A recipient the email has as a CC only (the row's ``cc_ids``) is sent their copy only
if the ticket still copies them as it goes (``copied``, asked of the desk; without it,
the outbox's own record of the ticket's CCs): a CC removed after the email was owed is
sent nothing (kept among ``refused_ids`` with the reason), and an email all of whose
recipients were removed so is ``withheld``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from languages import ENGLISH
from mail.sign_in import sign_in_email
from mail.text import header_line
from projections.kit import Tables
from projections.outbox import (
    DELIVERIES,
    MAIL,
    SURVEY_LINKS,
    THREADS,
    MailIdentity,
    Notice,
    compose,
    survey_lines,
)
from store.background import Background
from store.sign_in import SignInQueue

log = logging.getLogger("docket.mail")

MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 30
"""About a day of tries at the longest backoff before an email is given up as ``failed``."""


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
        context = ssl.create_default_context()  # the server's certificate and name are checked
        if self.tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.starttls:
                client.starttls(context=context)
        if self.user:
            client.login(self.user, self.password)
        return client


def render(
    row: dict[str, Any],
    identity: MailIdentity,
    person_id: str,
    address: str,
    language: str = ENGLISH,
    time_zone: str | None = None,
) -> EmailMessage:
    """The email of one outbox row for one of its recipients, in their language and time
    zone, with the headers that thread it in mail clients and the reply address that is
    theirs alone."""
    subject, body = compose(Notice.of(row), language, time_zone)
    ticket_id, version = row["ticket_id"], row["version"]
    earlier = [identity.message_id(ticket_id, v) for v in row["earlier"]]
    references = [identity.thread_root(ticket_id), *earlier]
    message = EmailMessage()
    name, sender = parseaddr(identity.sender)
    message["From"] = formataddr((header_line(name), sender))
    message["To"] = address
    message["Reply-To"] = formataddr(
        (
            header_line(name),
            identity.reply_address(row["reply_number"] or row["number"], person_id),
        )
    )
    message["Subject"] = header_line(subject)
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = identity.message_id(ticket_id, version)
    message["In-Reply-To"] = references[-1]
    message["References"] = " ".join(references)
    message["X-Docket-Ticket"] = row["number"]
    if row["reason"] in ("pending", "closed", "merged", "acknowledgement", "survey"):  # news
        message["Auto-Submitted"] = "auto-generated"
    if row["reason"] == "survey":  # the signed links, written as the email is sent
        body = body.replace(SURVEY_LINKS, survey_lines(row, identity), 1)
    message.set_content(body)
    message["Content-Language"] = language  # after set_content, which drops Content-*
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
        copied: Callable[[UUID], frozenset[str]] | None = None,
        sign_ins: SignInQueue | None = None,
    ) -> None:
        self.url = url
        self.schema = schema
        self.smtp = smtp
        self.identity = identity
        self.max_age = max_age
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.copied = copied
        self.sign_ins = sign_ins
        self._sign_in_table = False
        self.t = Tables(schema)
        self.deliveries = f'"{schema}".{DELIVERIES}'
        super().__init__()
        self._client: smtplib.SMTP | None = None
        self._enqueued_upto: int | None = None
        """The newest email position a pass of this sender enqueued up to."""
        self._outbox_table = 0
        """The outbox table that mark is in (its oid)."""

    # --- one pass -------------------------------------------------------------------

    def enqueue(self, conn: psycopg.Connection[Any]) -> int:
        """A delivery row for every email of the outbox that has none yet.

        A sender's first pass looks over the whole outbox; later ones only past the
        newest email it saw before, by the position index. The outbox view commits
        its emails in log order, one batch after another, so none can appear behind
        that mark, and a pass costs what is new rather than the size of the outbox.
        A table replaced since (a rebuild's swap, a fold again in a new shape, which
        may hold emails the old one lacked) gets a whole pass again.
        """
        row = conn.execute(
            f"SELECT %s::regclass::oid, (SELECT max(position) FROM {self.t(MAIL)})",
            (self.t(MAIL),),
        ).fetchone()
        assert row is not None
        table, newest = int(row[0]), int(row[1] or 0)
        if table != self._outbox_table:
            self._outbox_table, self._enqueued_upto = table, None
        if self._enqueued_upto is None:
            cur = conn.execute(
                f"INSERT INTO {self.deliveries} (notification_id) "
                f"SELECT m.notification_id FROM {self.t(MAIL)} m "
                f"WHERE m.position <= %s AND NOT EXISTS (SELECT 1 FROM {self.deliveries} d "
                "WHERE d.notification_id = m.notification_id) "
                "ORDER BY m.position ON CONFLICT DO NOTHING",
                (newest,),
            )
        elif newest > self._enqueued_upto:
            cur = conn.execute(
                f"INSERT INTO {self.deliveries} (notification_id) "
                f"SELECT m.notification_id FROM {self.t(MAIL)} m "
                "WHERE m.position > %s AND m.position <= %s "
                "ORDER BY m.position ON CONFLICT DO NOTHING",
                (self._enqueued_upto, newest),
            )
        else:
            return 0
        self._enqueued_upto = newest
        return cur.rowcount

    def send_next(self, conn: psycopg.Connection[Any]) -> str | None:
        """Deliver the next email that is due; what became of it, ``None`` when none is due,
        ``"unavailable"`` when the mail server cannot be reached or refuses Docket itself.

        Each recipient's copy is sent in a transaction of its own, which commits that they
        have it: a sender killed while sending the second copy sends the first no more."""
        try:
            client = self._connected()
        except (OSError, smtplib.SMTPException) as error:
            self._drop_client()
            log.warning("mail server unavailable: %s: %s", type(error).__name__, error)
            return "unavailable"
        taken: str | None = None
        while True:
            with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                outcome = self._send_one_copy(cur, client, taken)
            if outcome is None and taken is None:
                return None
            if outcome is None:  # taken by another sender meanwhile: it finishes the email
                return "sent"
            if not outcome.startswith("copy:"):
                return outcome
            taken = outcome.removeprefix("copy:")

    def _send_one_copy(
        self, cur: psycopg.Cursor[Any], client: smtplib.SMTP, taken: str | None
    ) -> str | None:
        """One recipient's copy of the next email due (of ``taken``, once one is begun):
        ``copy:<id>`` when others are still owed theirs, else what became of the email."""
        row = cur.execute(
            f"SELECT d.notification_id, d.attempts, d.sent_to, d.refused_ids, d.refused, "
            f"now() AS now, m.* "
            f"FROM {self.deliveries} d JOIN {self.t(MAIL)} m USING (notification_id) "
            "WHERE d.state IN ('queued', 'retry') AND d.next_attempt_at <= now() "
            "AND (%(taken)s::text IS NULL OR d.notification_id = %(taken)s) "
            "ORDER BY m.position LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
            {"taken": taken},
        ).fetchone()
        if row is None:
            return None
        if (
            taken is None
            and row["attempts"] == 0
            and not row["sent_to"]
            and row["now"] - row["created_at"] > self.max_age
        ):
            return self._mark(cur, row, "expired", "older than the max age when picked up")
        done = {*row["sent_to"], *row["refused_ids"]}
        progress = Progress(list(row["sent_to"]), list(row["refused_ids"]), list(row["refused"]))
        withheld = self._no_longer_copied(cur, row, done)
        for person, address in zip(row["recipient_ids"], row["recipients"], strict=True):
            if person in withheld:
                progress.refuse(person, f"{address}: no longer a CC of the ticket; not sent")
        done |= withheld
        if withheld and not progress.sent_to and done >= set(row["recipient_ids"]):
            return self._mark(cur, row, "withheld", "; ".join(progress.refused), progress)
        owed = [
            (person, address, reader)
            for person, address, reader in zip(
                row["recipient_ids"], row["recipients"], readers(row), strict=True
            )
            if person not in done
        ]
        if owed:
            person, address, reader = owed[0]
            try:
                message = render(row, self.identity, person, address, *reader)
            except Exception as error:  # an email that cannot be written must not block the rest
                return self._mark(cur, row, "failed", f"cannot be written: {error}")
            try:
                client.send_message(message, to_addrs=[address])
            except smtplib.SMTPSenderRefused as error:  # the server refuses Docket itself
                self._drop_client()
                return self._mark(cur, row, "retry", server_words(error), progress, count=False)
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                why = f"recipients refused: {error.recipients!r}"
                if any(400 <= code < 500 for code in codes):
                    return self._mark(cur, row, "retry", why, progress)
                progress.refuse(person, why)
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    return self._mark(cur, row, "retry", server_words(error), progress)
                progress.refuse(person, f"{address}: {server_words(error)}")
            except (OSError, smtplib.SMTPException) as error:  # the connection broke
                self._drop_client()
                return self._mark(cur, row, "retry", f"{type(error).__name__}: {error}", progress)
            else:
                progress.sent_to.append(person)
            if len(owed) > 1:  # theirs is on record; the next copy in a transaction of its own
                cur.execute(
                    f"UPDATE {self.deliveries} SET updated_at = now(), sent_to = %s, "
                    "refused_ids = %s, refused = %s WHERE notification_id = %s",
                    (*progress.columns(), row["notification_id"]),
                )
                return f"copy:{row['notification_id']}"
        if not progress.sent_to:
            return self._mark(cur, row, "failed", "; ".join(progress.refused), progress)
        # some recipients refused: the others have it; say who did not
        why = f"not delivered to: {'; '.join(progress.refused)}"[:1000]
        cur.execute(
            f"UPDATE {self.deliveries} SET state = 'sent', attempts = attempts + 1, "
            "sent_at = now(), last_error = %s, updated_at = now(), sent_to = %s, "
            "refused_ids = %s, refused = %s WHERE notification_id = %s",
            (why if progress.refused else None, *progress.columns(), row["notification_id"]),
        )
        return "sent"

    def _no_longer_copied(
        self, cur: psycopg.Cursor[Any], row: dict[str, Any], done: set[str]
    ) -> set[str]:
        """Those of the email's CC-only recipients still owed it whom the ticket no longer
        copies (all of them when the ticket cannot be read: better none than one too many)."""
        owed = {p for p in row["cc_ids"] if p not in done}
        if not owed:
            return set()
        if self.copied is not None:
            try:
                now = self.copied(row["ticket_id"])
            except Exception:
                log.warning("mail %s: who ticket copies unknown", row["notification_id"])
                return owed
            return owed - now
        found = cur.execute(
            f"SELECT cc_ids FROM {self.t(THREADS)} WHERE ticket_id = %s", (row["ticket_id"],)
        ).fetchone()
        return owed - set(found["cc_ids"] if found else ())

    def _connected(self) -> smtplib.SMTP:
        """The open connection, checked with NOOP, or a new one."""
        if self._client is not None:
            try:
                if self._client.noop()[0] == 250:
                    return self._client
            except (OSError, smtplib.SMTPException):
                pass
            self._drop_client()
        self._client = self.smtp.connect(self.timeout)
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def _mark(
        self,
        cur: psycopg.Cursor[Any],
        row: dict[str, Any],
        state: str,
        why: str,
        progress: Progress | None = None,
        *,
        count: bool = True,
    ) -> str:
        """Put on record what became of the email, and why. A ``retry`` is tried again
        later, backing off, for the recipients who do not have it yet, and given up after
        ``MAX_ATTEMPTS``. ``count=False`` when the fault is the server's refusal of Docket
        itself (a wrong sender address, say), not the email's: no attempt is counted."""
        attempts = row["attempts"] + (1 if count else 0)
        wait: timedelta | None = None
        if state == "retry" and attempts >= MAX_ATTEMPTS:
            state, why = "failed", f"gave up after {attempts} attempts: {why}"
        elif state == "retry":
            wait = min(timedelta(seconds=5 * 2 ** min(attempts, 12)), MAX_BACKOFF)
        kept = progress or Progress(row["sent_to"], row["refused_ids"], row["refused"])
        cur.execute(
            f"UPDATE {self.deliveries} SET state = %s, attempts = %s, last_error = %s, "
            "next_attempt_at = COALESCE(now() + %s::interval, next_attempt_at), "
            "updated_at = now(), sent_to = %s, refused_ids = %s, refused = %s "
            "WHERE notification_id = %s",
            (state, attempts, why[:1000], wait, *kept.columns(), row["notification_id"]),
        )
        if state == "failed":
            log.warning("mail %s failed: %s", row["notification_id"], why)
        elif wait is not None:
            log.warning("mail %s not sent (%s); again in %s", row["notification_id"], why, wait)
        return state

    def send_sign_in_link(self, conn: psycopg.Connection[Any]) -> str | None:
        """Mail the oldest sign-in link owed (store/sign_in.py): ``sent``, ``failed`` (the
        server refused the address for good), ``unavailable`` (try again later), or
        ``None`` when none is owed. A link expired while it waited is sent no more."""
        if self.sign_ins is None:
            return None
        if not self._sign_in_table:
            self.sign_ins.create_tables(conn)
            self._sign_in_table = True
        with conn.transaction(), conn.cursor() as cur:
            link = self.sign_ins.next_queued(cur)
            if link is None:
                return None
            try:
                client = self._connected()
                message = sign_in_email(link, self.sign_ins.token(link.link_id), self.identity)
                client.send_message(message, to_addrs=[link.email])
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                if any(400 <= code < 500 for code in codes):
                    return "unavailable"
                self.sign_ins.mark(cur, link.link_id, "failed", repr(error.recipients))
                return "failed"
            except smtplib.SMTPSenderRefused:
                self._drop_client()
                return "unavailable"
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    return "unavailable"
                self.sign_ins.mark(cur, link.link_id, "failed", server_words(error))
                return "failed"
            except (OSError, smtplib.SMTPException):
                self._drop_client()
                return "unavailable"
            self.sign_ins.mark(cur, link.link_id, "sent")
        return "sent"

    def drain(self, conn: psycopg.Connection[Any]) -> dict[str, int]:
        """Everything due now: what became of it, counted (for tests and tools)."""
        outcomes: dict[str, int] = {}
        while (outcome := self.send_sign_in_link(conn)) not in (None, "unavailable"):
            outcomes[f"sign-in {outcome}"] = outcomes.get(f"sign-in {outcome}", 0) + 1
        self.enqueue(conn)
        while (outcome := self.send_next(conn)) is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == "unavailable":
                break
        return outcomes

    # --- running in the background ------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.url, autocommit=True, application_name="docket-mail"
                ) as conn:
                    while not self._stop.is_set():
                        # sign-in links first: a person is waiting for theirs
                        while self.send_sign_in_link(conn) in ("sent", "failed"):
                            pass
                        self.enqueue(conn)
                        outcome: str | None = ""
                        while not self._stop.is_set() and outcome not in (None, "unavailable"):
                            outcome = self.send_next(conn)
                        self._stop.wait(self.poll_seconds if outcome is None else 5.0)
            except Exception as error:  # a lost database: try again, visibly
                log.warning("mail sender: %s; retrying", error, exc_info=True)
                self._stop.wait(1.0)
            finally:
                self._drop_client()


@dataclass
class Progress:
    """Who of an email's recipients has their copy (person ids), and who was refused for
    good (ids, and the server's words): kept across retries, so none gets it twice."""

    sent_to: list[str]
    refused_ids: list[str]
    refused: list[str]

    def refuse(self, person_id: str, why: str) -> None:
        self.refused_ids.append(person_id)
        self.refused.append(why)

    def columns(self) -> tuple[list[str], list[str], list[str]]:
        return self.sent_to, self.refused_ids, self.refused


def readers(row: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Each recipient's language and time zone, as the outbox knew them."""
    languages = row["recipient_languages"] or [ENGLISH] * len(row["recipients"])
    zones = row["recipient_time_zones"] or [""] * len(row["recipients"])
    return [(language, zone or None) for language, zone in zip(languages, zones, strict=True)]


def server_words(error: smtplib.SMTPResponseException) -> str:
    words = error.smtp_error
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    return f"{error.smtp_code} {text}"
