"""The notification outbox: the emails the conversation owes its people.

Each public reply, and each change of status to pending or closed, becomes one
email to the ticket's requester and collaborators, never to whoever did it. A
ticket merged into another tells them so, naming that ticket, and its requester
joins the other ticket's collaborators (the public replies there reach them).
Each public reply goes to the people the ticket copies (CCs) too, each as a
recipient of their own (a CC from outside the account as ``cc:<address>``), and an
email's row says which of its recipients are there as CCs only, so that the sender
sends nothing to one removed meanwhile.
An automation's notice (an ``AutomationFired`` with people to notify) is one
email to those people: the requester, or the ticket's agent.
Internal notes never become anything here: the view does not even handle their
events. Imported history is not news to anyone, so it sends nothing. A ticket filed
(on the web, by API, email, chat or a callback request) is acknowledged to its
requester: its number, its subject and, when its SLA promises one, when the first
answer is due; nothing else of the ticket, so nothing staff-only. An agent's
answer to a contact request is one email to the address the request came from
(its thread is the request, its number the ``C-…`` reference), and so is the
news that it became a ticket, whose number its subject carries so that a reply
lands in the ticket.

A closing that asks for a rating (``Ticket.SurveyOffered``, see :mod:`domain.surveys`)
is one email more, to the requester alone (whoever closed it), in their language, with
a line per score; the signed links are written into it only when it is sent
(:func:`survey_lines`), from the row's ticket, cycle and language, as the reply
addresses are.

A notification's id is its ticket and version, and its ``Message-ID`` follows
from that id, so the outbox folded again from position 0 names the same
emails. The rows hold no address of Docket's own: ``Message-ID``, threading
headers and the reply address are drawn from :class:`MailIdentity` (settings)
when an email is sent or listed. Whether one was delivered is not a fact of the log but of the mail
server's answer: :mod:`mail.sender` keeps that in its own table,
which a rebuild of this view leaves alone.

Each email is written for each recipient in their own language, dates and times in
their time zone (:func:`compose`, called by :mod:`mail.sender` for each copy): a row
keeps what the words are made of (``notice_*`` columns) and each recipient's language
and time zone as the view knew them when it folded the event. ``subject`` and ``body``
are the English copy, for the outbox listing.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from domain.account import Account
from domain.ccs import outside_cc_id
from domain.contact import ContactRequest
from domain.messages import Msg
from domain.sla import SlaState
from domain.staff import StaffMember
from domain.surveys import SURVEY_LIFETIME, SurveyLink
from domain.ticket import REOPEN_WINDOW, Ticket
from domain.vocabulary import LANGUAGES
from languages import ENGLISH, duration, render, when
from projections.kit import Fact, Tables, View, clean_text, fetch_all
from projections.ticket_fields import joining_collaborator
from store.bulk import upsert_rows

NAME = "outbox"
PEOPLE = "outbox_people"
THREADS = "outbox_threads"
MAIL = "outbox_mail"
DELIVERIES = "mail_deliveries"
"""What became of each email: the sender's table, not the view's (a rebuild keeps it)."""

REPLY_ABOVE_LINE = Msg("##- Please type your reply above this line -##")
REPLY_ABOVE = str(REPLY_ABOVE_LINE)
"""The first line of every email (in its reader's language, :data:`REPLY_MARKERS`);
inbound mail cuts the quoted history there."""
REPLY_TOKEN_CHARS = 26
"""130 bits of HMAC in base32: no one guesses a reply address they were not sent."""
THREAD_DEPTH = 10
"""How many earlier emails of a ticket ``References`` names (the thread root always)."""


@dataclass(frozen=True)
class MailIdentity:
    """Who Docket's emails come from, the domain their ids and reply addresses use, and the
    secret that signs each recipient's own reply address (none: no address proves anyone)."""

    sender: str = "Docket Support <support@docket.example>"
    support_address: str = "support@docket.example"
    secret: bytes = field(default=b"", repr=False)
    public_url: str = "http://127.0.0.1:8000"
    """Where people reach Docket's API on the web: the survey links point there."""

    @property
    def domain(self) -> str:
        return self.support_address.rpartition("@")[2]

    def reply_address(self, number: str, person_id: str | None = None) -> str:
        """``support+T-000123@…``: a reply finds its ticket by the address alone. For one
        recipient, ``support+T-000123.<token>@…``: only they were sent it, so a reply to
        it from their address is theirs (:meth:`proves`)."""
        local, _, domain = self.support_address.partition("@")
        token = self.reply_token(number, person_id) if person_id else ""
        return f"{local}+{number}{'.' + token if token else ''}@{domain}"

    def reply_token(self, number: str, person_id: str) -> str:
        """An HMAC of the ticket and the person under the server's secret ("" without one)."""
        if not self.secret:
            return ""
        signed = hmac.new(self.secret, f"reply\0{number}\0{person_id}".encode(), hashlib.sha256)
        return base64.b32encode(signed.digest()).decode("ascii")[:REPLY_TOKEN_CHARS].lower()

    def proves(self, number: str, person_id: str, token: str) -> bool:
        """Whether ``token`` is the one written on ``person_id``'s reply address for ``number``."""
        mine = self.reply_token(number, person_id)
        if not token.isascii():  # an address may carry any text; compare_digest takes ASCII
            return False
        return bool(mine) and hmac.compare_digest(mine, token.lower())

    def survey_url(self, link: SurveyLink) -> str:
        """The page of one survey: ``…/v1/surveys/<signed token>``."""
        return f"{self.public_url.rstrip('/')}/v1/surveys/{link.token(self.secret)}"

    def thread_root(self, ticket_id: UUID | str) -> str:
        return f"<ticket-{ticket_id}@{self.domain}>"

    def message_id(self, ticket_id: UUID | str, version: int) -> str:
        return f"<ticket-{ticket_id}-{version}@{self.domain}>"


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    t.create(
        conn,
        {
            PEOPLE: """
                person_id text PRIMARY KEY,
                name text NOT NULL,
                email text NOT NULL,
                staff boolean NOT NULL,
                language text NOT NULL DEFAULT 'en',
                time_zone text
            """,
            THREADS: """
                ticket_id uuid PRIMARY KEY,
                number text NOT NULL,
                subject text NOT NULL,
                requester_id text NOT NULL,
                collaborators text[] NOT NULL DEFAULT '{}',
                versions integer[] NOT NULL DEFAULT '{}',
                cc_emails text[] NOT NULL DEFAULT '{}',
                cc_ids text[] NOT NULL DEFAULT '{}'
            """,
            MAIL: """
                notification_id text PRIMARY KEY,
                position bigint NOT NULL,
                ticket_id uuid NOT NULL,
                number text NOT NULL,
                reason text NOT NULL,
                recipient_ids text[] NOT NULL,
                recipients text[] NOT NULL,
                subject text NOT NULL,
                body text NOT NULL,
                version integer NOT NULL,
                earlier integer[] NOT NULL,
                created_at timestamptz NOT NULL,
                reply_number text NOT NULL DEFAULT '',
                cc_ids text[] NOT NULL DEFAULT '{}',
                cycle integer NOT NULL DEFAULT 0,
                language text NOT NULL DEFAULT 'en',
                recipient_languages text[] NOT NULL DEFAULT '{}',
                recipient_time_zones text[] NOT NULL DEFAULT '{}',
                notice_subject text NOT NULL DEFAULT '',
                notice_author text NOT NULL DEFAULT '',
                notice_text text NOT NULL DEFAULT '',
                notice_tag text NOT NULL DEFAULT '',
                notice_due_at timestamptz,
                notice_within_seconds double precision
            """,
        },
    )
    t.create_index(conn, MAIL, "_position", "(position)")
    create_delivery_table(conn, t.schema)


def create_delivery_table(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{schema}".{DELIVERIES} (
            notification_id text PRIMARY KEY,
            state text NOT NULL DEFAULT 'queued',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            last_error text,
            sent_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # each recipient gets a copy of their own: who has theirs, kept across retries
    conn.execute(
        f'ALTER TABLE "{schema}".{DELIVERIES} '
        "ADD COLUMN IF NOT EXISTS sent_to text[] NOT NULL DEFAULT '{}', "
        "ADD COLUMN IF NOT EXISTS refused_ids text[] NOT NULL DEFAULT '{}', "
        "ADD COLUMN IF NOT EXISTS refused text[] NOT NULL DEFAULT '{}'"
    )
    conn.execute(
        f'CREATE INDEX IF NOT EXISTS {DELIVERIES}_due ON "{schema}".{DELIVERIES} '
        "(next_attempt_at) WHERE state IN ('queued', 'retry')"
    )


def apply(conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> None:
    """Fold a batch in memory over the rows it touches, then write them in three statements."""
    batch = OutboxBatch.load(conn, t, facts)
    for fact in facts:
        batch.take(fact)
    batch.write(conn, t)


@dataclass
class Thread:
    number: str
    subject: str
    requester_id: str
    collaborators: list[str]
    versions: list[int]
    cc_emails: list[str] = field(default_factory=list)
    cc_ids: list[str] = field(default_factory=list)
    """Who the ticket copies: their addresses, and as whom each is mailed (same order)."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    staff: bool
    language: str = ENGLISH
    time_zone: str | None = None


@dataclass(frozen=True)
class Notice:
    """What one email says, in no language yet: :func:`compose` writes it in one."""

    reason: str
    number: str
    subject: str
    """The ticket's (or contact request's) subject."""
    author: str = ""
    text: str = ""
    """The reply's body; for ``contact_ticket``, the ticket's number; for ``survey``, the
    requester's name."""
    at: datetime | None = None
    tag: str = ""
    """What the email's subject carries in brackets, when not ``number``."""
    due_at: datetime | None = None
    """The acknowledgement: when the first answer is due, if the SLA promises one."""
    within_seconds: float | None = None
    """... and how long, in business time, that promise is."""

    @classmethod
    def of(cls, row: dict[str, Any]) -> Notice:
        """The notice an outbox row was made of."""
        return cls(
            reason=row["reason"],
            number=row["number"],
            subject=row["notice_subject"],
            author=row["notice_author"],
            text=row["notice_text"],
            at=row["created_at"],
            tag=row["notice_tag"],
            due_at=row["notice_due_at"],
            within_seconds=row["notice_within_seconds"],
        )


MAIL_COLUMNS = (
    "notification_id",
    "position",
    "ticket_id",
    "number",
    "reason",
    "recipient_ids",
    "recipients",
    "subject",
    "body",
    "version",
    "earlier",
    "created_at",
    "reply_number",
    "cc_ids",
    "cycle",
    "language",
    "recipient_languages",
    "recipient_time_zones",
    "notice_subject",
    "notice_author",
    "notice_text",
    "notice_tag",
    "notice_due_at",
    "notice_within_seconds",
)
"""The columns of an email's row, in the order :meth:`OutboxBatch.queue` makes them."""


@dataclass
class OutboxBatch:
    """The people and threads one batch reads, as of the batch's start, and what it adds."""

    people: dict[str, Person]
    threads: dict[UUID, Thread]
    people_changed: set[str] = field(default_factory=set)
    threads_changed: set[UUID] = field(default_factory=set)
    mail: list[tuple[Any, ...]] = field(default_factory=list)

    @classmethod
    def load(cls, conn: psycopg.Connection[Any], t: Tables, facts: Sequence[Fact]) -> OutboxBatch:
        tickets = list(
            {
                f.stream_id
                for f in facts
                if isinstance(f.event, (Ticket.Event, ContactRequest.Event))
            }
        )
        threads: dict[UUID, Thread] = {}
        if tickets:
            threads = {
                row[0]: Thread(
                    row[1], row[2], row[3], list(row[4]), list(row[5]), list(row[6]), list(row[7])
                )
                for row in conn.execute(
                    f"SELECT ticket_id, number, subject, requester_id, collaborators, versions, "
                    f"cc_emails, cc_ids FROM {t(THREADS)} WHERE ticket_id = ANY(%s)",
                    (tickets,),
                ).fetchall()
            }
        wanted = {
            p
            for thread in threads.values()
            for p in (thread.requester_id, *thread.collaborators, *thread.cc_ids)
        }
        for fact in facts:
            e = fact.event
            match e:
                case Ticket.Opened():
                    wanted.add(e.requester_id)
                case Ticket.MessageAdded():
                    wanted.update((e.stamp.actor_id, e.author_id))
                case Ticket.StatusChanged() | ContactRequest.Answered() | Ticket.MergedInto():
                    wanted.add(e.stamp.actor_id)
                case Ticket.MergeReceived():
                    wanted.add(e.source_requester_id)
                case Ticket.CcAdded():
                    wanted.add(e.member_id or outside_cc_id(e.email))
                case Ticket.AutomationFired():
                    wanted.update(e.notify_to)
                case StaffMember.LanguageChosen() | StaffMember.TimeZoneChosen():
                    wanted.add(str(fact.stream_id))
                case Account.MemberSettingsChanged():
                    wanted.add(clean_text(e.member_id))
        people: dict[str, Person] = {}
        if wanted:
            people = {
                row[0]: Person(*row[1:])
                for row in conn.execute(
                    f"SELECT person_id, name, email, staff, language, time_zone FROM {t(PEOPLE)} "
                    "WHERE person_id = ANY(%s)",
                    (list(wanted),),
                ).fetchall()
            }
        return cls(people, threads)

    def take(self, fact: Fact) -> None:
        e = fact.event
        match e:
            case Account.MemberAdded():
                self.remember(
                    clean_text(e.member_id),
                    e.name,
                    e.email,
                    staff=False,
                    language=e.language,
                    time_zone=clean_text(e.time_zone),
                )
            case StaffMember.Registered():
                self.remember(str(fact.stream_id), e.name, e.email, staff=True)
            case StaffMember.LanguageChosen():
                self.change_person(str(fact.stream_id), language=e.language)
            case StaffMember.TimeZoneChosen():
                self.change_person(str(fact.stream_id), time_zone=clean_text(e.time_zone))
            case Account.MemberSettingsChanged():
                self.change_person(
                    clean_text(e.member_id),
                    language=e.language,
                    time_zone=clean_text(e.time_zone),
                )
            case Ticket.Opened() if fact.stream_id not in self.threads:
                self.threads[fact.stream_id] = Thread(
                    e.number, one_line(e.subject), e.requester_id, [], []
                )
                self.threads_changed.add(fact.stream_id)
                if e.stamp.via != "import" and e.channel != "import":
                    self.acknowledge(fact, e)
            case Ticket.MessageAdded():
                thread = self.threads.get(fact.stream_id)
                joining = None if thread is None else joining_collaborator(e, thread.collaborators)
                if thread is not None and joining is not None:
                    thread.collaborators.append(joining)
                    self.threads_changed.add(fact.stream_id)
                if e.stamp.via != "import":
                    self.notify(fact, reply_reason(e.author_role), e.body, copied=True)
            case Ticket.StatusChanged() if (
                e.to_status in ("pending", "closed") and e.stamp.via != "import"
            ):
                self.notify(fact, e.to_status, "")
            case Ticket.MergedInto():
                # answering it lands in the ticket it went into (mail.intake follows merges)
                self.notify(fact, "merged", e.target_number)
            case Ticket.MergeReceived():
                # the merged ticket's requester follows this one: its public replies reach them
                thread = self.threads.get(fact.stream_id)
                joining = e.source_requester_id
                if thread is not None and joining not in (
                    thread.requester_id,
                    *thread.collaborators,
                ):
                    thread.collaborators.append(joining)
                    self.threads_changed.add(fact.stream_id)
            case Ticket.CcAdded() if fact.stream_id in self.threads:
                thread = self.threads[fact.stream_id]
                person = clean_text(e.member_id) if e.member_id else outside_cc_id(e.email)
                if not e.member_id:  # known to the emails only, by their address
                    self.remember(person, e.email, e.email, staff=False)
                thread.cc_emails.append(clean_text(e.email))
                thread.cc_ids.append(person)
                self.threads_changed.add(fact.stream_id)
            case Ticket.CcRemoved() if fact.stream_id in self.threads:
                thread = self.threads[fact.stream_id]
                kept = [
                    (a, p)
                    for a, p in zip(thread.cc_emails, thread.cc_ids, strict=True)
                    if a != clean_text(e.email)
                ]
                thread.cc_emails = [a for a, _ in kept]
                thread.cc_ids = [p for _, p in kept]
                self.threads_changed.add(fact.stream_id)
            case Ticket.AutomationFired() if e.notify_to and e.stamp.via != "import":
                self.notify(fact, "automation", e.notice, to=e.notify_to)
            case Ticket.SurveyOffered() if e.stamp.via != "import":
                self.ask_for_rating(fact, e.cycle)
            case ContactRequest.Received() if fact.stream_id not in self.threads:
                # the person who wrote is known by the request only: no id of theirs is used
                writer = contact_writer(fact.stream_id)
                self.remember(writer, e.name, e.email, staff=False)
                self.threads[fact.stream_id] = Thread(
                    e.reference, one_line(e.subject), writer, [], []
                )
                self.threads_changed.add(fact.stream_id)
            case ContactRequest.Answered():
                self.notify(fact, "contact_answer", e.body)
            case ContactRequest.TurnedIntoTicket():
                # a reply lands in the ticket, as its requester's: the ticket's reply address
                self.notify(
                    fact, "contact_ticket", e.number, subject_tag=e.number, reply_as=e.requester_id
                )

    def remember(
        self,
        person_id: str,
        name: str,
        email: str,
        *,
        staff: bool,
        language: str = ENGLISH,
        time_zone: str | None = None,
    ) -> None:
        known = self.people.get(person_id)
        # a person first seen as staff stays staff (the upsert never changes ``staff``)
        self.people[person_id] = Person(
            clean_text(name),
            clean_text(email),
            known.staff if known is not None else staff,
            language,
            time_zone,
        )
        self.people_changed.add(person_id)

    def change_person(self, person_id: str, **changes: str) -> None:
        """A person's language or time zone chosen anew (someone never seen: nothing)."""
        known = self.people.get(person_id)
        if known is not None:
            self.people[person_id] = dataclasses.replace(known, **changes)  # type: ignore[arg-type]
            self.people_changed.add(person_id)

    def acknowledge(self, fact: Fact, e: Ticket.Opened) -> None:
        """The acknowledgement of a ticket filed: to its requester, whoever filed it."""
        thread = self.threads[fact.stream_id]
        requester = self.people.get(thread.requester_id)
        if requester is None:
            return
        due_at, within = first_answer_due(e)
        notice = Notice(
            "acknowledgement",
            thread.number,
            thread.subject,
            at=e.timestamp,
            due_at=due_at,
            within_seconds=within,
        )
        self.queue(fact, notice, [(thread.requester_id, requester)], reply_as=None)

    def notify(
        self,
        fact: Fact,
        reason: str,
        body: str,
        subject_tag: str = "",
        reply_as: str | None = None,
        *,
        copied: bool = False,
        to: list[str] | None = None,
    ) -> None:
        """One email for the event in ``fact`` to everyone on the ticket but its author
        (``copied``: its CCs too; ``to``: only the people it names); ``reply_as``: the
        person, on ticket ``subject_tag``, that answering it proves."""
        thread = self.threads.get(fact.stream_id)
        if thread is None:
            return
        author = fact.event.stamp.actor_id
        if isinstance(fact.event, Ticket.MessageAdded):
            author = fact.event.author_id  # a CC from outside writes as cc:<address>
        wanted = to if to is not None else [thread.requester_id, *thread.collaborators]
        copied_only = [p for p in thread.cc_ids if p not in wanted] if copied else []
        ids = [p for p in dict.fromkeys([*wanted, *copied_only]) if p != author]
        recipients = [(p, self.people[p]) for p in ids if p in self.people]
        if not recipients:
            return
        author_name = self.people[author].name if author in self.people else "Docket Support"
        notice = Notice(
            reason,
            thread.number,
            thread.subject,
            author=author_name,
            text=clean_text(body),
            at=fact.event.timestamp,
            tag=subject_tag,
        )
        self.queue(fact, notice, recipients, reply_as, cc_only=copied_only)

    def queue(
        self,
        fact: Fact,
        notice: Notice,
        recipients: list[tuple[str, Person]],
        reply_as: str | None,
        *,
        cc_only: Sequence[str] = (),
        cycle: int = 0,
        link_language: str = ENGLISH,
    ) -> None:
        """One email for the event in ``fact``, to ``recipients`` (each in their language);
        ``cc_only``: those of them there as CCs only; a survey's ``cycle`` and the language
        its links open their page in."""
        thread = self.threads[fact.stream_id]
        people = [person for _, person in recipients]
        ids = [p for p, _ in recipients] if reply_as is None else [reply_as for _ in recipients]
        subject, body = compose(notice, ENGLISH, None)
        self.mail.append(
            (
                f"{fact.stream_id}/{fact.version}",
                fact.position,
                fact.stream_id,
                notice.number,
                notice.reason,
                ids,
                [person.email for person in people],
                subject,
                body,
                fact.version,
                thread.versions[-THREAD_DEPTH:],
                notice.at,
                notice.tag if reply_as is not None else "",
                [p for p in ids if p in cc_only],
                cycle,
                link_language,
                [person.language for person in people],
                [person.time_zone or "" for person in people],
                notice.subject,
                notice.author,
                notice.text,
                notice.tag,
                notice.due_at,
                notice.within_seconds,
            )
        )
        thread.versions.append(fact.version)
        self.threads_changed.add(fact.stream_id)

    def ask_for_rating(self, fact: Fact, cycle: int) -> None:
        """The survey of one closing: to the requester alone, in their language."""
        thread = self.threads.get(fact.stream_id)
        requester = None if thread is None else self.people.get(thread.requester_id)
        if thread is None or requester is None:
            return
        notice = Notice(
            "survey", thread.number, thread.subject, text=requester.name, at=fact.event.timestamp
        )
        language = requester.language if requester.language in LANGUAGES else ENGLISH
        self.queue(
            fact,
            notice,
            [(thread.requester_id, requester)],
            reply_as=None,
            cycle=cycle,
            link_language=language,
        )

    def write(self, conn: psycopg.Connection[Any], t: Tables) -> None:
        with conn.cursor() as cur:
            upsert_rows(
                cur,
                t(PEOPLE),
                ("person_id", "name", "email", "staff", "language", "time_zone"),
                [(p, *dataclasses.astuple(self.people[p])) for p in self.people_changed],
                "ON CONFLICT (person_id) DO UPDATE "
                "SET name = excluded.name, email = excluded.email, "
                "language = excluded.language, time_zone = excluded.time_zone",
            )
            if self.threads_changed:
                upsert_rows(
                    cur,
                    t(THREADS),
                    (
                        "ticket_id",
                        "number",
                        "subject",
                        "requester_id",
                        "collaborators",
                        "versions",
                        "cc_emails",
                        "cc_ids",
                    ),
                    [
                        (
                            t_id,
                            th.number,
                            th.subject,
                            th.requester_id,
                            th.collaborators,
                            th.versions,
                            th.cc_emails,
                            th.cc_ids,
                        )
                        for t_id, th in ((i, self.threads[i]) for i in self.threads_changed)
                    ],
                    "ON CONFLICT (ticket_id) DO UPDATE SET collaborators = "
                    "excluded.collaborators, versions = excluded.versions, "
                    "cc_emails = excluded.cc_emails, cc_ids = excluded.cc_ids",
                )
            upsert_rows(
                cur, t(MAIL), MAIL_COLUMNS, self.mail, "ON CONFLICT (notification_id) DO NOTHING"
            )


def one_line(text: str) -> str:
    """A subject as a mail header takes it: line breaks and runs of blanks are one space."""
    return " ".join(clean_text(text).split())


def contact_writer(request_id: UUID) -> str:
    """Who wrote a contact request, as the outbox's people know them."""
    return f"contact:{request_id}"


def reply_reason(author_role: str) -> str:
    return {"agent": "reply", "collaborator": "collaborator_reply", "cc": "cc_reply"}.get(
        author_role, "requester_reply"
    )


def first_answer_due(e: Ticket.Opened) -> tuple[datetime | None, float | None]:
    """When the ticket's first answer is due, and within how much business time, if its SLA
    promises one (folded as the SLA view folds it)."""
    if not e.sla_terms:
        return None, None
    state = SlaState(priority=e.priority).terms_set(e.sla_terms, e.timestamp)
    clock = next((c for c in state.clocks if c.target == "first_response"), None)
    if clock is None or clock.due_at is None:
        return None, None
    return clock.due_at, clock.budget.total_seconds()


def reply_markers() -> tuple[str, ...]:
    """The first line of Docket's emails in each language: inbound mail cuts there."""
    return tuple(dict.fromkeys(render(REPLY_ABOVE_LINE, language) for language in LANGUAGES))


def compose(notice: Notice, language: str, time_zone: str | None) -> tuple[str, str]:
    """The subject and plain-text body of ``notice`` in ``language``, its instants in
    ``time_zone``: the reply line, what happened, and how to answer."""
    number, subject = notice.number, notice.subject
    at = when(notice.at, language, time_zone) if notice.at is not None else ""
    # what every notice's templates may name; each takes the values it names
    about = {
        "number": number,
        "subject": subject,
        "at": at,
        "author": notice.author,
        "text": notice.text,
        "marker": REPLY_ABOVE_LINE,
    }
    said: Msg  # what happened, between the reply line and the footer
    body: Msg | None = None  # a notice written whole, not said between them
    footer = Msg(
        "Answer this email to add to ticket {number}; keep {number} in the subject or reply "
        "to this address.",
        **about,
    )
    heading = Msg("Re: [{tag}] {subject}", tag=notice.tag or number, **about)
    if notice.reason == "survey":  # the sender writes the signed links in for SURVEY_LINKS
        heading = Msg("How did we do? [{number}] {subject}", **about)
        body = Msg(
            "Hello {name},\n\nTicket {number} ({subject}) is now closed. How satisfied are you "
            "with the help you got? Choose a score below: the page it opens records it with one "
            "click, and takes a comment too.\n\n{links}\n\nThe links work for {days} days and "
            "record one rating. To stop these surveys, turn them off in your preferences.\n",
            name=notice.text,
            links=SURVEY_LINKS,
            days=SURVEY_LIFETIME.days,
            **about,
        )
    elif notice.reason == "acknowledgement":
        heading = Msg("Request received: [{number}] {subject}", **about)
        said = Msg(
            "We received your request on {at}. Its ticket number is {number}; its subject: "
            "{subject}.",
            **about,
        )
        if notice.due_at is not None and notice.within_seconds is not None:
            said = Msg(
                "{said}\n\nWe will answer within {within} of business time, by {due}.",
                said=said,
                within=duration(notice.within_seconds, language),
                due=when(notice.due_at, language, time_zone),
            )
        else:
            said = Msg("{said}\n\nAn agent will answer you as soon as possible.", said=said)
    elif notice.reason == "pending":
        said = Msg(
            "Ticket {number} ({subject}) has been waiting for your reply since {at}. Answer this "
            "email when you have the information we asked for.",
            **about,
        )
    elif notice.reason == "closed":
        said = Msg(
            "Ticket {number} ({subject}) was closed on {at}. If it is not solved, answer this "
            "email within {days} days and it opens again.",
            days=REOPEN_WINDOW.days,
            **about,
        )
    elif notice.reason == "merged":
        body = Msg(
            "{marker}\n\nTicket {number} ({subject}) asks what ticket {target} asks, so "
            "{author} merged it into ticket {target} on {at}: it is closed, and we go on "
            "there. You will get the answers of ticket {target} by email.\n\n--\nAnswer "
            "this email to add to ticket {target}.\n",
            target=notice.text,
            **about,
        )
    elif notice.reason == "automation":
        said = Msg("About ticket {number} ({subject}):\n\n{text}", **about)
    elif notice.reason == "contact_ticket":
        body = Msg(
            "{marker}\n\nYour request {number} ({subject}) is now ticket {ticket}; we will "
            "answer you there.\n\n--\nAnswer this email to add to ticket {ticket}; keep "
            "[{ticket}] in the subject.\n",
            ticket=notice.text,
            **about,
        )
    elif notice.reason == "contact_answer":
        body = Msg(
            "{author} answered your request {number} ({subject}) on {at}:\n\n{text}\n\n--\n"
            "To write to us again, send the contact form and mention {number}.\n",
            **about,
        )
    else:
        said = Msg("{author} wrote on ticket {number} ({subject}) on {at}:\n\n{text}", **about)
    if body is None:
        body = Msg("{marker}\n\n{said}\n\n--\n{footer}\n", said=said, footer=footer, **about)
    return render(heading, language), render(body, language)


SURVEY_LINKS = "[[survey-links]]"
"""The line of a survey email the sender replaces with its signed links (:func:`survey_lines`)."""
SURVEY_SCORES = (
    Msg("1 - Very dissatisfied"),
    Msg("2 - Dissatisfied"),
    Msg("3 - Neutral"),
    Msg("4 - Satisfied"),
    Msg("5 - Very satisfied"),
)
"""What each score of a survey says, from 1 to 5."""


def survey_lines(row: dict[str, Any], identity: MailIdentity) -> str:
    """The survey's signed links, one line per score, for the email of ``row``."""
    link = SurveyLink.for_closing(
        row["ticket_id"], row["cycle"], row["language"], row["created_at"]
    )
    url = identity.survey_url(link)
    labels = [render(score, link.language) for score in SURVEY_SCORES]
    return "\n".join(f"  {label}: {url}?score={n}" for n, label in enumerate(labels, 1))


IGNORES = (
    Ticket.InternalNoteAdded,  # never anything here
    Ticket.PriorityRaised,
    Ticket.PriorityLowered,
    Ticket.Assigned,
    Ticket.TypeChanged,
    Ticket.ProductChanged,
    Ticket.Reopened,
    Ticket.AttachmentAdded,
    Ticket.NoteAttachmentAdded,
    Ticket.SatisfactionRated,
    Ticket.SlaBreached,
    Ticket.ChatTranscriptRecorded,
    Ticket.CallbackRequested,
    Ticket.CustomFieldsSet,
    Ticket.CallbackMade,
    Ticket.TagsAdded,
    Ticket.TagsRemoved,
)
"""Ticket events nobody is emailed about."""
VIEW = View(
    NAME,
    frozenset(
        {
            Account.MemberAdded,
            StaffMember.Registered,
            StaffMember.LanguageChosen,
            StaffMember.TimeZoneChosen,
            Account.MemberSettingsChanged,
            Ticket.Opened,
            Ticket.MessageAdded,
            Ticket.StatusChanged,
            Ticket.MergedInto,
            Ticket.MergeReceived,
            Ticket.CcAdded,
            Ticket.CcRemoved,
            Ticket.AutomationFired,
            Ticket.SurveyOffered,
            ContactRequest.Received,
            ContactRequest.Answered,
            ContactRequest.TurnedIntoTicket,
        }
    ),
    create_tables,
    apply,
    (PEOPLE, THREADS, MAIL),
    ignores=frozenset(IGNORES),
    shape=5,  # 2: reply_number, per-recipient reply addresses; 3: CCs; 4: surveys; 5: each
    # one's language
)


def listing(
    conn: psycopg.Connection[Any],
    t: Tables,
    identity: MailIdentity,
    *,
    state: str | None,
    ticket: str | None,
    limit: int,
    before: int | None,
) -> list[dict[str, Any]]:
    """The newest emails first, with what became of each (``queued`` until a sender took it)."""
    deliveries = f'"{t.schema}".{DELIVERIES}'
    clauses: list[str] = []
    params: list[Any] = []
    if state is not None:
        clauses.append("coalesce(d.state, 'queued') = %s")
        params.append(state)
    if ticket is not None:
        clauses.append("m.number = %s")
        params.append(ticket)
    if before is not None:
        clauses.append("m.position < %s")
        params.append(before)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = fetch_all(
        conn,
        f"SELECT m.*, coalesce(d.state, 'queued') AS state, coalesce(d.attempts, 0) "
        f"AS attempts, d.last_error, d.sent_at, d.next_attempt_at FROM {t(MAIL)} m "
        f"LEFT JOIN {deliveries} d USING (notification_id) {where} "
        "ORDER BY m.position DESC LIMIT %s",
        [*params, limit],
    )
    for row in rows:
        row["message_id"] = identity.message_id(row["ticket_id"], row["version"])
        row["reply_to"] = identity.reply_address(row["reply_number"] or row["number"])
        row["references"] = [
            identity.thread_root(row["ticket_id"]),
            *(identity.message_id(row["ticket_id"], v) for v in row["earlier"]),
        ]
    return rows
