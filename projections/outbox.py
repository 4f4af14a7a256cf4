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
events. Imported history is not news to anyone, so it sends nothing. An agent's
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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from domain.account import Account
from domain.ccs import outside_cc_id
from domain.contact import ContactRequest
from domain.staff import StaffMember
from domain.surveys import SURVEY_LIFETIME, SurveyLink
from domain.ticket import REOPEN_WINDOW, Ticket
from projections.kit import Fact, Tables, View, clean_text
from projections.ticket_fields import joining_collaborator

NAME = "outbox"
PEOPLE = "outbox_people"
THREADS = "outbox_threads"
MAIL = "outbox_mail"
DELIVERIES = "mail_deliveries"
"""What became of each email: the sender's table, not the view's (a rebuild keeps it)."""

REPLY_ABOVE = "##- Please type your reply above this line -##"
"""The first line of every email; inbound mail cuts the quoted history there."""
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
                language text NOT NULL DEFAULT 'en'
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
                language text NOT NULL DEFAULT 'en'
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


@dataclass
class OutboxBatch:
    """The people and threads one batch reads, as of the batch's start, and what it adds."""

    people: dict[str, tuple[str, str, bool, str]]
    """Person id → name, email, staff, language."""
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
        people: dict[str, tuple[str, str, bool, str]] = {}
        if wanted:
            people = {
                row[0]: (row[1], row[2], row[3], row[4])
                for row in conn.execute(
                    f"SELECT person_id, name, email, staff, language FROM {t(PEOPLE)} "
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
                    clean_text(e.member_id), e.name, e.email, staff=False, language=e.language
                )
            case StaffMember.Registered():
                self.remember(str(fact.stream_id), e.name, e.email, staff=True)
            case Ticket.Opened() if fact.stream_id not in self.threads:
                self.threads[fact.stream_id] = Thread(
                    e.number, one_line(e.subject), e.requester_id, [], []
                )
                self.threads_changed.add(fact.stream_id)
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
        self, person_id: str, name: str, email: str, *, staff: bool, language: str = "en"
    ) -> None:
        known = self.people.get(person_id)
        # a person first seen as staff stays staff (the upsert never changes ``staff``)
        self.people[person_id] = (
            clean_text(name),
            clean_text(email),
            known[2] if known is not None else staff,
            clean_text(language),
        )
        self.people_changed.add(person_id)

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
        recipients = [(p, self.people[p][1]) for p in ids if p in self.people]
        if not recipients:
            return
        if reply_as is not None:
            recipients = [(reply_as, address) for _, address in recipients]
        number, subject = thread.number, thread.subject
        author_name = self.people[author][0] if author in self.people else "Docket Support"
        created_at: datetime = fact.event.timestamp
        self.mail.append(
            (
                f"{fact.stream_id}/{fact.version}",
                fact.position,
                fact.stream_id,
                number,
                reason,
                [p for p, _ in recipients],
                [address for _, address in recipients],
                f"Re: [{subject_tag or number}] {subject}",
                compose(reason, number, subject, author_name, clean_text(body)),
                fact.version,
                thread.versions[-THREAD_DEPTH:],
                created_at,
                subject_tag if reply_as is not None else "",
                [p for p, _ in recipients if p in copied_only],
                0,
                "en",
            )
        )
        thread.versions.append(fact.version)
        self.threads_changed.add(fact.stream_id)

    def ask_for_rating(self, fact: Fact, cycle: int) -> None:
        """The survey of one closing: to the requester alone, in their language."""
        thread = self.threads.get(fact.stream_id)
        if thread is None or thread.requester_id not in self.people:
            return
        name, address, _, language = self.people[thread.requester_id]
        words = SURVEY_WORDS.get(language, SURVEY_WORDS["en"])
        language = language if language in SURVEY_WORDS else "en"
        self.mail.append(
            (
                f"{fact.stream_id}/{fact.version}",
                fact.position,
                fact.stream_id,
                thread.number,
                "survey",
                [thread.requester_id],
                [address],
                f"{words['subject']} [{thread.number}] {thread.subject}",
                words["body"].format(
                    name=name,
                    number=thread.number,
                    subject=thread.subject,
                    days=SURVEY_LIFETIME.days,
                ),
                fact.version,
                thread.versions[-THREAD_DEPTH:],
                fact.event.timestamp,
                "",
                [],
                cycle,
                language,
            )
        )
        thread.versions.append(fact.version)
        self.threads_changed.add(fact.stream_id)

    def write(self, conn: psycopg.Connection[Any], t: Tables) -> None:
        with conn.cursor() as cur:
            if self.people_changed:
                cur.executemany(
                    f"INSERT INTO {t(PEOPLE)} (person_id, name, email, staff, language) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE "
                    "SET name = excluded.name, email = excluded.email, "
                    "language = excluded.language",
                    [(p, *self.people[p]) for p in self.people_changed],
                )
            if self.threads_changed:
                cur.executemany(
                    f"INSERT INTO {t(THREADS)} (ticket_id, number, subject, requester_id, "
                    "collaborators, versions, cc_emails, cc_ids) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (ticket_id) DO UPDATE SET collaborators = "
                    "excluded.collaborators, versions = excluded.versions, "
                    "cc_emails = excluded.cc_emails, cc_ids = excluded.cc_ids",
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
                )
            if self.mail:
                cur.executemany(
                    f"""
                    INSERT INTO {t(MAIL)} (notification_id, position, ticket_id, number, reason,
                        recipient_ids, recipients, subject, body, version, earlier, created_at,
                        reply_number, cc_ids, cycle, language)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                    ON CONFLICT (notification_id) DO NOTHING
                    """,
                    self.mail,
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


def compose(reason: str, number: str, subject: str, author: str, body: str) -> str:
    """The plain-text email: the reply line, what happened, and how to answer."""
    if reason == "pending":
        said = (
            f"Ticket {number} ({subject}) is waiting for your reply. "
            "Answer this email when you have the information we asked for."
        )
    elif reason == "closed":
        said = (
            f"Ticket {number} ({subject}) is now closed. If it is not solved, answer this "
            f"email within {REOPEN_WINDOW.days} days and it opens again."
        )
    elif reason == "merged":
        return (
            f"{REPLY_ABOVE}\n\nTicket {number} ({subject}) asks what ticket {body} asks, so "
            f"{author} merged it into ticket {body}: it is closed, and we go on there. You "
            f"will get the answers of ticket {body} by email.\n\n--\nAnswer this email to "
            f"add to ticket {body}.\n"
        )
    elif reason == "automation":
        said = f"About ticket {number} ({subject}):\n\n{body}"
    elif reason == "contact_ticket":
        return (
            f"{REPLY_ABOVE}\n\nYour request {number} ({subject}) is now ticket {body}; "
            f"we will answer you there.\n\n--\nAnswer this email to add to ticket {body}; "
            f"keep [{body}] in the subject.\n"
        )
    elif reason == "contact_answer":
        return (
            f"{author} answered your request {number} ({subject}):\n\n{body}\n\n"
            f"--\nTo write to us again, send the contact form and mention {number}.\n"
        )
    else:
        said = f"{author} wrote on ticket {number} ({subject}):\n\n{body}"
    return (
        f"{REPLY_ABOVE}\n\n{said}\n\n"
        f"--\nAnswer this email to add to ticket {number}; keep {number} in the subject "
        "or reply to this address.\n"
    )


SURVEY_LINKS = "[[survey-links]]"
"""The line of a survey email the sender replaces with its signed links (:func:`survey_lines`)."""
SURVEY_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "How did we do?",
        "body": (
            "Hello {name},\n\nTicket {number} ({subject}) is now closed. How satisfied are "
            "you with the help you got? Choose a score below: the page it opens records it "
            "with one click, and takes a comment too.\n\n"
            + SURVEY_LINKS
            + "\n\nThe links work for {days} days and record one rating. To stop these "
            "surveys, turn them off in your preferences.\n"
        ),
        "scores": "1 - Very dissatisfied|2 - Dissatisfied|3 - Neutral|4 - Satisfied|"
        "5 - Very satisfied",
    },
    "fr": {
        "subject": "Votre avis sur notre aide",
        "body": (
            "Bonjour {name},\n\nLe ticket {number} ({subject}) est maintenant fermé. "
            "Êtes-vous satisfait de l'aide reçue ? Choisissez une note ci-dessous : la "
            "page qui s'ouvre l'enregistre d'un clic, et accepte aussi un commentaire.\n\n"
            + SURVEY_LINKS
            + "\n\nLes liens fonctionnent {days} jours et enregistrent une seule note. "
            "Pour ne plus recevoir ces enquêtes, désactivez-les dans vos préférences.\n"
        ),
        "scores": "1 - Très insatisfait|2 - Insatisfait|3 - Neutre|4 - Satisfait|"
        "5 - Très satisfait",
    },
}
"""What a survey email says, per language a member may have."""


def survey_lines(row: dict[str, Any], identity: MailIdentity) -> str:
    """The survey's signed links, one line per score, for the email of ``row``."""
    link = SurveyLink.for_closing(
        row["ticket_id"], row["cycle"], row["language"], row["created_at"]
    )
    url = identity.survey_url(link)
    labels = SURVEY_WORDS.get(link.language, SURVEY_WORDS["en"])["scores"].split("|")
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
    shape=4,  # 2: reply_number, and per-recipient reply addresses; 3: CCs; 4: surveys, languages
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
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT m.*, coalesce(d.state, 'queued') AS state, coalesce(d.attempts, 0) "
            f"AS attempts, d.last_error, d.sent_at, d.next_attempt_at FROM {t(MAIL)} m "
            f"LEFT JOIN {deliveries} d USING (notification_id) {where} "
            "ORDER BY m.position DESC LIMIT %s",
            [*params, limit],
        ).fetchall()
    for row in rows:
        row["message_id"] = identity.message_id(row["ticket_id"], row["version"])
        row["reply_to"] = identity.reply_address(row["reply_number"] or row["number"])
        row["references"] = [
            identity.thread_root(row["ticket_id"]),
            *(identity.message_id(row["ticket_id"], v) for v in row["earlier"]),
        ]
    return rows
