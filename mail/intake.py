"""Email coming in: a reply lands in its ticket, a new email files one, the rest is kept.

A mail gateway posts each raw message it receives for the support address.
The message finds its ticket by, in order: the ``support+T-000123@`` reply
address, a ``Message-ID`` of Docket's own in ``In-Reply-To``/``References``,
or a ``[T-000123]`` tag in the subject. A reply to a ticket merged into another
lands in that other ticket, once its sender is proven and allowed on the ticket
they answered. Its sender must be someone who may
write to that ticket over the API too: the requester, a team admin of the
ticket's account (who answers as a collaborator), a member it copies (as a CC), or an
agent or admin; or someone it copies from outside the account, who answers as
``cc:<address>`` with the same proof (their own signed reply address, or the gateway's
verdict). The
trimmed text becomes a message; attachments become ticket attachments; a
closed ticket opens again within its reopen window.

``From`` is whatever the sender typed, so an email is credited to a person only
when it proves they sent it: it answers the reply address only they were sent
(``support+T-000123.<token>@``, signed for that ticket and that person), or the
trusted gateway's ``Authentication-Results`` vouch for the From domain
(:mod:`mail.proof`). Without a proof, a staff address has no rights at all, and
a customer may do only what cannot hurt them: file a new ticket in their own
account (whatever is answered there is mailed to the real address), never add
to or reopen an existing one. Both are refused as ``sender-unproven``.

An email with no ticket reference files a new ticket (channel ``email``) when
its sender is a member of an account whose plan includes support.

An email obeys the same limits as the API: at most ``ATTACHMENTS_MAX`` files,
each within the attachment limit and all of them together too, a text within
``BODY_MAX_BYTES``; beyond them it is refused before anything is written.

Anything else is refused with a reason and kept, raw, in ``rejected_mail``:
nothing a gateway delivered is ever dropped silently. A message id seen before
answers what it answered the first time, so a gateway that retries adds
nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from desk.access import author_role, may_call, may_see_ticket, person_principal
from desk.answers import AttachmentRef, Receipt, TicketFacts
from desk.service import SupportDesk
from desk.tickets import MERGE_HOPS
from desk.uploads import Uploads
from domain.ccs import outside_cc_id
from domain.errors import (
    AttachmentRefused,
    DocketError,
    MailRefused,
    MailUnreadable,
    NotAMember,
    PlanNotEntitled,
    ReopenWindowPassed,
    UnknownTicket,
)
from domain.messages import Msg, Text
from domain.stamp import Stamp
from domain.ticket import Ticket
from domain.vocabulary import ATTACHMENTS_MAX, BODY_MAX_BYTES, SUBJECT_MAX_CHARS
from mail.message import InboundMail, parse_mail
from mail.proof import vouched_for
from projections import directory
from projections.kit import Tables
from projections.outbox import MailIdentity
from store.attachments import AttachmentStore

INBOUND = "inbound_mail"
REJECTED = "rejected_mail"
SUBJECT_TAG = re.compile(r"\[(T-\d{6,})\]")
Action = Literal["added", "reopened", "filed"]


@dataclass(frozen=True)
class Intake:
    """What an inbound email became."""

    action: Action
    ticket_id: str
    number: str
    version: int
    position: int
    duplicate: bool = False


class MailIntake:
    def __init__(
        self,
        desk: SupportDesk,
        pool: ConnectionPool,
        schema: str,
        attachments: AttachmentStore,
        identity: MailIdentity,
        *,
        max_attachment_bytes: int,
        trusted_authserv_id: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.desk = desk
        self.pool = pool
        self.schema = schema
        self.t = Tables(schema)
        self.attachments = attachments
        self.uploads = Uploads(attachments, max_bytes=max_attachment_bytes)
        self.identity = identity
        self.max_attachment_bytes = max_attachment_bytes
        self.trusted_authserv_id = trusted_authserv_id
        self.clock = clock

    def create_tables(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"""
                CREATE TABLE IF NOT EXISTS {self.t(INBOUND)} (
                    message_key text PRIMARY KEY,
                    taken_at timestamptz NOT NULL DEFAULT now(),
                    intake jsonb NOT NULL
                );
                CREATE TABLE IF NOT EXISTS {self.t(REJECTED)} (
                    rejected_id bigserial PRIMARY KEY,
                    received_at timestamptz NOT NULL DEFAULT now(),
                    sender text NOT NULL,
                    subject text NOT NULL,
                    message_id text,
                    reason text NOT NULL,
                    detail text NOT NULL,
                    size integer NOT NULL,
                    raw bytea NOT NULL
                );
                """
            )

    # --- taking one email -----------------------------------------------------------------

    def take(self, raw: bytes) -> Intake:
        """Put the email where it belongs, or keep it in the rejected list and raise why."""
        try:
            mail = parse_mail(raw)
        except MailUnreadable as error:
            self.reject(raw, None, "unreadable", error.detail)
            raise
        key = message_key(mail, raw)
        # one taker per message at a time, on a connection of its own (the pool serves the
        # lookups meanwhile): a gateway's retry waits, then finds the answer
        info = self.pool.conninfo
        conninfo = info if isinstance(info, str) else info()
        with psycopg.connect(conninfo, autocommit=True) as lock, lock.transaction():
            lock.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
            found = lock.execute(
                f"SELECT intake FROM {self.t(INBOUND)} WHERE message_key = %s", (key,)
            ).fetchone()
            if found is not None:
                return Intake(**{**found[0], "duplicate": True})
            try:
                taken = self._route(mail, key)
            except DocketError as error:
                reason = error.reason if isinstance(error, MailRefused) else error.code
                self.reject(raw, mail, reason, error.detail)
                raise
            lock.execute(
                f"INSERT INTO {self.t(INBOUND)} (message_key, intake) VALUES (%s, %s)",
                (key, json.dumps(asdict(taken))),
            )
        return taken

    def _route(self, mail: InboundMail, key: str) -> Intake:
        if mail.auto_reply:
            raise MailRefused(
                "auto-reply",
                Msg(
                    "This is an automatic reply (out of office, bounce); it is kept, not "
                    "added, so that two robots never write to each other."
                ),
            )
        ticket_ref = self.ticket_reference(mail)
        if ticket_ref is None:
            return self._file(mail, key)
        try:
            facts = self.desk.ticket_facts(ticket_ref)
            author_id, author_role, actor_kind = self._writer(mail, facts)
        except UnknownTicket:
            raise self.not_for_ticket(
                ticket_ref,
                "unknown-ticket",
                Msg(
                    "No ticket {ticket_ref} for this reply. Write to {support_address} "
                    "without the ticket reference to file a new ticket.",
                    ticket_ref=ticket_ref,
                    support_address=self.identity.support_address,
                ),
            ) from None
        except MailRefused as refused:  # told to the gateway as if there were no such ticket
            raise self.not_for_ticket(ticket_ref, refused.reason, refused.message) from None
        body = message_text(mail)  # every refusal before the first write
        self._check_attachments(mail)
        landing = self._landing(facts)
        earlier = self._added_before(landing.ticket_id, landing.number, key)
        if earlier is not None:  # taken once already, its answer lost: not twice
            return earlier
        stamp = Stamp(author_id, actor_kind, "email", self.clock(), key, key)
        action: Action = "reopened" if landing.status == "closed" else "added"
        refs = self._store_attachments(mail, author_id, key)
        try:  # reopening, the files and the message: one save
            receipt = self.desk.add_message(
                facts.ticket_id,
                author_id=author_id,
                author_role=author_role,
                body=body,
                stamp=stamp,
                attachments=refs,
                reopen=True,
            )
        except ReopenWindowPassed:
            raise MailRefused(
                "closed",
                Msg(
                    "Ticket {number} was closed too long ago to reopen. Write to "
                    "{support_address} without the ticket reference (a new subject) to "
                    "file a new ticket; mention {number} in it.",
                    number=landing.number,
                    support_address=self.identity.support_address,
                ),
            ) from None
        return intake(action, receipt)

    def _landing(self, facts: TicketFacts) -> TicketFacts:
        """The ticket a reply to ``facts``' ticket lands in: itself, or, merged, the ticket
        it went into (and on, if that one was merged too), as the desk follows them. The
        sender was proven, and allowed, on the ticket they answered."""
        landing = facts
        for _ in range(MERGE_HOPS):
            if landing.merged_into is None:
                return landing
            landing = self.desk.ticket_facts(landing.merged_into)
        return landing

    def _added_before(self, ticket_id: UUID, number: str, key: str) -> Intake | None:
        """The message this email added to the ticket before, if it did (its causation)."""
        for event in self.desk.repository.event_store.get(ticket_id):
            stamp: Stamp | None = getattr(event, "stamp", None)
            if (
                isinstance(event, Ticket.MessageAdded)
                and stamp is not None
                and stamp.causation_id == key
            ):
                version: int = event.originator_version
                return Intake("added", str(ticket_id), number, version, 0, duplicate=True)
        return None

    def _file(self, mail: InboundMail, key: str) -> Intake:
        people = self.people(mail.sender)
        if any(p["account_id"] is None for p in people) and not self.vouched(mail):
            raise unproven_staff(mail.sender)
        member = next((p for p in people if p["account_id"] is not None), None)
        if member is None:
            raise MailRefused(
                "unknown-sender",
                Msg(
                    "{sender} is not a member of any account with support. Ask your team's "
                    "admin to add this address, or write from the address you use for "
                    "Docket.",
                    sender=mail.sender,
                ),
            )
        stamp = Stamp(member["person_id"], "requester", "email", self.clock(), key, key)
        ticket_id = uuid5(NAMESPACE_URL, f"docket:mail:{key}")  # the same email, the same id
        if self.desk.has_ticket(ticket_id):
            facts = self.desk.ticket_facts(ticket_id)
            return Intake("filed", str(ticket_id), facts.number, facts.version, 0, duplicate=True)
        subject = " ".join(mail.subject.split())[:SUBJECT_MAX_CHARS] or "(no subject)"
        description = message_text(mail)
        self._check_attachments(mail)
        refs = self._store_attachments(mail, member["person_id"], key)
        try:
            receipt = self.desk.file_ticket(
                account_id=UUID(member["account_id"]),
                requester_id=member["person_id"],
                subject=subject,
                description=description,
                type="question",
                priority="normal",
                product="",
                stamp=stamp,
                channel="email",
                ticket_id=ticket_id,
                attachments=refs,
            )
        except (PlanNotEntitled, NotAMember) as error:
            raise MailRefused("not-entitled", error.message) from None
        return intake("filed", receipt)

    def people(self, email: str) -> list[dict[str, Any]]:
        """Everyone the directory knows at that address."""
        with self.pool.connection() as conn:
            return directory.people_by_email(conn, self.t, email)

    def vouched(self, mail: InboundMail) -> bool:
        """Whether the trusted gateway's Authentication-Results prove the From domain."""
        return vouched_for(mail.authentication_results, self.trusted_authserv_id, mail.sender)

    def _proven(
        self, mail: InboundMail, people: list[dict[str, Any]], number: str
    ) -> list[dict[str, Any]]:
        """Those of ``people`` (everyone at the From address) the email proves wrote it."""
        if self.vouched(mail):
            return people
        token = self.reply_token(mail, number)
        if not token:
            return []
        return [p for p in people if self.identity.proves(number, p["person_id"], token)]

    def _writer(self, mail: InboundMail, facts: TicketFacts) -> tuple[str, str, str]:
        """(author id, author role, actor kind) of the sender on this ticket, or refused:
        the sender proven (:meth:`_proven`), then the same rules as a reply over HTTP
        (:mod:`desk.access`)."""
        sender = mail.sender
        copied = self._copied_from_outside(mail, facts)
        if copied is not None:
            return copied, "cc", "cc"
        people = self.people(sender)
        if not people:
            raise MailRefused(
                "unknown-sender",
                Msg(
                    "{sender} is not known to Docket. Reply from the address your ticket "
                    "was filed with.",
                    sender=sender,
                ),
            )
        proven = self._proven(mail, people, facts.number)
        if not proven:
            if any(p["account_id"] is None for p in people):
                raise unproven_staff(sender)
            raise MailRefused(
                "sender-unproven",
                Msg(
                    "Nothing in this email proves that {sender} sent it, so it is not "
                    "added to ticket {number}. Answer the email Docket sent you about it "
                    "(its reply address is yours alone), or reply on the web; to start "
                    "afresh, write to {support_address} without the ticket reference.",
                    sender=sender,
                    number=facts.number,
                    support_address=self.identity.support_address,
                ),
            )
        for person in proven:  # staff first
            who = person_principal(
                person["person_id"], person["name"], person["role"], person["account_id"]
            )
            if may_call(who, "add_message") and may_see_ticket(who, facts.owner):
                role = author_role(who, facts.owner)
                return who.id, role, role if role in ("collaborator", "cc") else who.actor_kind
        raise MailRefused(
            "not-allowed",
            Msg(
                "{sender} may not write to ticket {number}: only its requester, a team "
                "admin of its account, or support staff can. Ask the requester to add "
                "you.",
                sender=sender,
                number=facts.number,
            ),
        )

    def _copied_from_outside(self, mail: InboundMail, facts: TicketFacts) -> str | None:
        """``cc:<address>`` when the sender is someone the ticket copies from outside its
        account and the email proves it: the reply address signed for them as its CC, or
        the gateway's verdict; refused as unproven without either. None when the sender is
        no such CC (a member it copies writes as themselves, proven as any member is)."""
        someone = outside_cc_id(mail.sender)
        if someone not in facts.cc_people:
            return None
        token = self.reply_token(mail, facts.number)
        if self.vouched(mail) or (token and self.identity.proves(facts.number, someone, token)):
            return someone
        raise MailRefused(
            "sender-unproven",
            Msg(
                "Nothing in this email proves that {sender} sent it, so it is not added to "
                "ticket {number}. Answer the email Docket sent you about it (its reply address "
                "is yours alone).",
                sender=mail.sender,
                number=facts.number,
            ),
        )

    def not_for_ticket(self, ticket: str, reason: str, detail: Text) -> MailRefused:
        """An email for a ticket that does not exist or that its sender may not write to:
        the gateway, which may bounce its answer to the sender, is told the same for both
        (a ticket you may not see answers like one that does not exist); the precise
        reason and detail are kept in the rejected-mail list for the admins."""
        told = Msg(
            "No ticket {ticket} that this email can be added to. Reply to the email Docket "
            "sent you about your ticket (its reply address is yours alone), from the address "
            "the ticket is yours at, or reply on the web; to start afresh, write to "
            "{support_address} without the ticket reference.",
            ticket=ticket,
            support_address=self.identity.support_address,
        )
        return MailRefused(reason, detail, answered=("unknown-ticket", told))

    def _reply_tags(self, mail: InboundMail) -> list[str]:
        """What follows ``+`` in each of the email's addresses at the support address."""
        local, _, domain = self.identity.support_address.lower().partition("@")
        tags: list[str] = []
        for address in mail.recipients:
            name, _, at = address.partition("@")
            base, plus, tag = name.partition("+")
            if at == domain and base == local and plus and tag.upper().startswith("T-"):
                tags.append(tag)
        return tags

    def reply_token(self, mail: InboundMail, number: str) -> str:
        """The token on the email's reply address for ticket ``number`` ("" for none)."""
        for tag in self._reply_tags(mail):
            tagged, _, token = tag.partition(".")
            if tagged.upper() == number.upper() and token:
                return token
        return ""

    def ticket_reference(self, mail: InboundMail) -> str | None:
        """The ticket an email replies to: reply address, then references, then subject."""
        tags = self._reply_tags(mail)
        if tags:
            return tags[0].partition(".")[0].upper()
        pattern = re.compile(
            rf"^<ticket-([0-9a-f-]{{36}})(?:-\d+)?@{re.escape(self.identity.domain)}>$", re.I
        )
        for message_id in (*reversed(mail.references), *mail.in_reply_to):
            found = pattern.match(message_id)
            if found:
                return found.group(1)
        tagged = SUBJECT_TAG.search(mail.subject)
        return tagged.group(1) if tagged else None

    def _check_attachments(self, mail: InboundMail) -> None:
        """Every file by the same rules as an upload (:mod:`desk.uploads`); one the rules
        refuse refuses the whole email, kept with the reason, before any write."""
        for file in mail.attachments:
            try:
                self.uploads.check(file.filename, file.content_type, file.data)
            except AttachmentRefused as error:
                raise MailRefused(
                    error.code,
                    Msg(
                        "{detail} The email was not added; it is kept with the other refused "
                        "email.",
                        detail=error.message,
                    ),
                ) from None
        check_message_limits(mail, self.max_attachment_bytes)

    def _store_attachments(
        self, mail: InboundMail, uploader: str, key: str
    ) -> list[AttachmentRef]:
        """Each file as an upload of the sender's, its id derived from the email's key (the
        same email taken again stores nothing twice); the same file twice is one."""
        refs: dict[tuple[str, str, bytes], AttachmentRef] = {}
        for number, file in enumerate(mail.attachments, start=1):
            if (file.filename, file.content_type, file.data) in refs:
                continue
            seed = f"docket:mail:{key}:{number}".encode("utf-8", "surrogatepass")
            upload_id = hashlib.sha256(seed).hexdigest()
            refs[file.filename, file.content_type, file.data] = self.uploads.upload(
                data=file.data,
                filename=file.filename,
                content_type=file.content_type,
                uploaded_by=uploader,
                upload_id=upload_id,
            )
        return list(refs.values())

    # --- the rejected-mail list ---------------------------------------------------------------

    def keep_too_large(self, head: bytes, size: int) -> None:
        """Keep an email refused for its size: its first bytes (all of it up to the limit
        the route read), with who sent it and its subject when they can be read there."""
        try:
            mail: InboundMail | None = parse_mail(head)
        except MailUnreadable:
            mail = None
        self.reject(
            head,
            mail,
            "too-large",
            f"The email is {size} bytes or more, over the limit; only its first {len(head)} "
            "bytes are kept.",
            size=min(size, 2**31 - 1),
        )

    def reject(
        self,
        raw: bytes,
        mail: InboundMail | None,
        reason: str,
        detail: str,
        *,
        size: int | None = None,
    ) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO {self.t(REJECTED)} "
                "(sender, subject, message_id, reason, detail, size, raw) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    mail.sender if mail else "",
                    mail.subject[:500] if mail else "",
                    mail.message_id if mail else None,
                    reason,
                    detail,
                    len(raw) if size is None else size,
                    raw,
                ),
            )

    def rejected(self, *, limit: int, before: int | None) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                f"SELECT rejected_id, received_at, sender, subject, message_id, reason, detail, "
                f"size FROM {self.t(REJECTED)} WHERE rejected_id < %s "
                "ORDER BY rejected_id DESC LIMIT %s",
                (before if before is not None else 2**62, limit),
            ).fetchall()

    def rejected_raw(self, rejected_id: int) -> bytes | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT raw FROM {self.t(REJECTED)} WHERE rejected_id = %s", (rejected_id,)
            ).fetchone()
        return bytes(row[0]) if row else None


def unproven_staff(sender: str) -> MailRefused:
    return MailRefused(
        "sender-unproven",
        Msg(
            "{sender} is a support staff address, and nothing in this email proves "
            "that it was sent from there, so it is given no rights. Answer in the "
            "agent console, or send through a mail server whose DKIM signature or "
            "DMARC result the mail gateway checks.",
            sender=sender,
        ),
    )


def message_key(mail: InboundMail, raw: bytes) -> str:
    """The sender and the message's own id (or the hash of its bytes when it has none): a
    stranger reusing someone's Message-ID is not taken for their email."""
    return f"{mail.sender} {mail.message_id or 'sha256:' + hashlib.sha256(raw).hexdigest()}"


def message_text(mail: InboundMail) -> str:
    text = mail.text.strip() or ("(attachments only)" if mail.attachments else "")
    if not text:
        raise MailRefused("empty", Msg("The email has no text and no attachment to add."))
    if len(text.encode("utf-8", "surrogatepass")) > BODY_MAX_BYTES:
        raise MailRefused(
            "too-long",
            Msg(
                "The email's text is over {value} KiB; send the long part as an attachment.",
                value=BODY_MAX_BYTES // 1024,
            ),
        )
    return text


def check_message_limits(mail: InboundMail, max_attachment_bytes: int) -> None:
    """The API's limits on one message, for an email as a whole: how many files (distinct
    or not: each is read and stored), and their size together."""
    if len(mail.attachments) > ATTACHMENTS_MAX:
        raise MailRefused(
            "too-many-attachments",
            Msg(
                "The email has {length} attachments; a message takes at most "
                "{ATTACHMENTS_MAX}. Send them in a few emails, or as one archive.",
                length=len(mail.attachments),
                ATTACHMENTS_MAX=ATTACHMENTS_MAX,
            ),
        )
    total = sum(len(file.data) for file in mail.attachments)
    if total > max_attachment_bytes:
        raise MailRefused(
            "attachments-too-large",
            Msg(
                "The email's attachments are {total} bytes together; one email takes "
                "at most {max_attachment_bytes}. Send them in a few emails, or a link "
                "to them.",
                total=total,
                max_attachment_bytes=max_attachment_bytes,
            ),
        )


def intake(action: Action, receipt: Receipt) -> Intake:
    return Intake(
        action=action,
        ticket_id=str(receipt.ticket_id),
        number=receipt.number,
        version=receipt.version,
        position=receipt.position,
    )
