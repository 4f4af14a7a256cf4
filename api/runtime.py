"""Everything a running Docket holds, assembled in one place: the desk, the database
pool, the stores, the reads, and the workers that keep the views current.

``docket serve`` starts a :class:`Runtime` (with its :class:`Workers` in this process,
or none when a ``docket project`` child keeps the views); ``docket project`` starts
only :class:`Workers`. Both assemble them here.

With ``DOCKET_READ_DATABASE_URL`` (a hot standby of the primary) the API's reads
(:attr:`Runtime.reads`, :attr:`Runtime.audit`) are answered from the standby, and
everything that writes stays on the primary: the desk, the workers, tokens (each lookup
notes its use), idempotency keys, attachments, mail intake, rate limits. What a write
decides with (whose a ticket is, what a key's first attempt wrote) is read from the
primary too (:attr:`Runtime.primary_reads`), so a write never waits for, or on, the
standby."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
from psycopg_pool import ConnectionPool

from api.metrics import RequestCounts
from api.settings import Settings
from api.tokens import TokenStore
from desk.automation_watch import AutomationWatch
from desk.deadline_watch import DeadlineWatch
from desk.service import SupportDesk
from desk.uploads import Uploads
from mail.intake import MailIntake
from mail.sender import MailSender, SmtpServer
from projections.catalog import VIEWS
from projections.outbox import MailIdentity
from projections.reads import Reads
from projections.runner import ProjectionRunner
from replay.audit import Audit
from store.attachments import AttachmentStore
from store.database import ensure_schema, eventsourcing_env, start_embedded
from store.idempotency import IdempotencyStore
from store.log import log_head
from store.secrets import server_secret
from store.sign_in import SignInLinks, SignInQueue
from store.staff_status import StaffStatus


def mail_identity(settings: Settings, url: str) -> MailIdentity:
    """Who Docket's emails come from, with the secret that signs reply addresses: the
    setting's, else the one kept in the database (the same for every process)."""
    given = settings.mail_secret.get_secret_value() if settings.mail_secret else ""
    secret = given.encode() or server_secret(url, settings.schema_name, "mail-reply")
    return MailIdentity(
        settings.mail_from, settings.support_address, secret, public_url=settings.public_url
    )


def mail_sender(settings: Settings, url: str, desk: SupportDesk) -> MailSender | None:
    """The SMTP sender ``DOCKET_SMTP_URL`` names, or None: emails then wait in the outbox.
    Who a ticket copies is asked of the desk as each email goes (a CC removed is sent
    nothing more, whatever the outbox view has read)."""
    if not settings.smtp_url:
        return None
    return MailSender(
        url,
        settings.schema_name,
        SmtpServer.from_url(settings.smtp_url),
        mail_identity(settings, url),
        max_age=timedelta(hours=settings.mail_max_age_hours),
        copied=lambda ticket_id: desk.ticket_facts(ticket_id).cc_people,
        sign_ins=SignInQueue(settings.schema_name, sign_in_secret(url, settings.schema_name)),
    )


def sign_in_secret(url: str, schema: str) -> bytes:
    """What emailed sign-in links are drawn from: the same in every process."""
    return server_secret(url, schema, "sign-in")


def connection_pool(url: str, size: int) -> ConnectionPool:
    return ConnectionPool(
        url, min_size=2, max_size=size, kwargs={"autocommit": True}, timeout=5.0, open=True
    )


def desk_env(settings: Settings, url: str, *, pool_size: int) -> dict[str, str]:
    """What a serving desk is built with: the event store, how many tickets it keeps
    folded (``DOCKET_TICKET_CACHE_MAXSIZE``), and how many of its other aggregates
    (``DOCKET_AGGREGATE_CACHE_MAXSIZE``: accounts and the desk-wide books, which every
    filing reads; see :mod:`store.aggregate_cache`)."""
    env = {
        **eventsourcing_env(url, settings.schema_name, pool_size=pool_size),
        "TICKET_CACHE_MAXSIZE": str(settings.ticket_cache_maxsize),
    }
    if settings.aggregate_cache_maxsize > 0:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_maxsize)
        env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    return env


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir / "pgdata")


def operator_desk(settings: Settings, *, pool_size: int) -> tuple[str, SupportDesk]:
    """The database's URL, and the desk a ``docket`` command makes its changes through
    (no ticket cache: it lives for one command), on a schema made ready."""
    url = database_url(settings)
    ensure_schema(url, settings.schema_name)
    return url, SupportDesk(eventsourcing_env(url, settings.schema_name, pool_size=pool_size))


@dataclass
class Workers:
    """What keeps the views current: the projection runner, and beside it the SLA deadline
    watch (with the SLA view), the automation watch (with the automations view) and the
    mail sender (with the outbox, when a mail server is set)."""

    runner: ProjectionRunner
    deadlines: DeadlineWatch | None
    sender: MailSender | None
    automations: AutomationWatch | None = None

    @classmethod
    def assemble(
        cls,
        settings: Settings,
        url: str,
        desk: SupportDesk,
        views: Collection[str] | None = None,
    ) -> Workers:
        """Workers for the named ``views`` (every view by default)."""
        views = list(views or VIEWS)
        unknown = sorted(set(views) - set(VIEWS))
        if unknown:
            raise ValueError(f"No view {', '.join(unknown)}; the views are {', '.join(VIEWS)}.")
        schema = settings.schema_name
        return cls(
            runner=ProjectionRunner(url, schema, [VIEWS[name] for name in views]),
            deadlines=DeadlineWatch(desk, url, schema) if "sla" in views else None,
            sender=mail_sender(settings, url, desk) if "outbox" in views else None,
            automations=(
                AutomationWatch(desk, url, schema, interval=settings.automation_sweep_seconds)
                if "automations" in views and settings.automation_sweep_seconds > 0
                else None
            ),
        )

    def start(self) -> None:
        """The runner in its threads, the watch and the sender beside it."""
        self.runner.start()
        self.start_beside()

    def beside(self) -> list[DeadlineWatch | AutomationWatch | MailSender]:
        """The watches and the sender this process runs, in the order they start."""
        return [w for w in (self.deadlines, self.automations, self.sender) if w is not None]

    def start_beside(self) -> None:
        """The watches and the sender only (``docket project`` runs the runner itself)."""
        for worker in self.beside():
            worker.start()

    def stop(self) -> None:
        for worker in reversed(self.beside()):
            worker.stop()
        self.runner.stop()


@dataclass
class Runtime:
    settings: Settings
    url: str
    desk: SupportDesk
    pool: ConnectionPool
    tokens: TokenStore
    attachments: AttachmentStore
    uploads: Uploads
    idempotency: IdempotencyStore
    workers: Workers
    reads: Reads
    """The API's reads: from the standby ``DOCKET_READ_DATABASE_URL`` names, if any."""
    primary_reads: Reads
    """The views on the primary: what writes decide with and what ``/healthz`` reports."""
    read_pool: ConnectionPool | None
    """The standby's pool, when reads are answered from one."""
    projecting: bool
    audit: Audit
    mail: MailIdentity
    intake: MailIntake
    sign_ins: SignInLinks
    counts: RequestCounts = field(default_factory=RequestCounts)

    @classmethod
    def start(
        cls, settings: Settings, url: str | None = None, *, project: bool | None = None
    ) -> Runtime:
        url = url or database_url(settings)
        schema = settings.schema_name
        ensure_schema(url, schema)
        desk = SupportDesk(desk_env(settings, url, pool_size=settings.pool_size))
        pool = connection_pool(url, settings.pool_size)
        workers = Workers.assemble(settings, url, desk)
        projecting = settings.run_projections if project is None else project
        attachments = AttachmentStore(pool, schema)
        identity = mail_identity(settings, url)
        wait = settings.read_wait_seconds
        primary_reads = Reads(
            pool, schema, board=workers.runner.board if projecting else None, wait_seconds=wait
        )
        read_pool = reads = None
        if settings.read_database_url:
            read_pool = connection_pool(settings.read_database_url, settings.pool_size)
            # this process's runner writes the primary: its board says nothing of the standby
            reads = Reads(read_pool, schema, wait_seconds=wait, primary=pool)
        runtime = cls(
            settings=settings,
            url=url,
            desk=desk,
            pool=pool,
            tokens=TokenStore(pool, schema),
            attachments=attachments,
            uploads=Uploads(attachments, max_bytes=settings.max_attachment_bytes),
            idempotency=IdempotencyStore(pool, schema),
            workers=workers,
            reads=reads or primary_reads,
            primary_reads=primary_reads,
            read_pool=read_pool,
            projecting=projecting,
            audit=Audit(read_pool or pool, schema, desk.mapper),
            mail=identity,
            intake=MailIntake(
                desk,
                pool,
                schema,
                attachments,
                identity,
                max_attachment_bytes=settings.max_attachment_bytes,
                trusted_authserv_id=settings.mail_trusted_authserv_id,
            ),
            sign_ins=SignInLinks(pool, schema, sign_in_secret(url, schema)),
            counts=RequestCounts(settings.metrics_dir),
        )
        runtime.tokens.create_tables()
        StaffStatus(pool, schema).create_tables()  # the token lookup asks it
        runtime.attachments.create_tables()
        runtime.idempotency.create_tables()
        runtime.intake.create_tables()
        runtime.sign_ins.create_tables()
        workers.runner.create_tables()
        if projecting:
            workers.start()
        runtime.counts.start()
        return runtime

    def position(self) -> int:
        with self.pool.connection() as conn:
            return log_head(conn, self.settings.schema_name)

    def database_ok(self) -> bool:
        try:
            with self.pool.connection(timeout=2.0) as conn:
                conn.execute("SELECT 1")
            return True
        except (psycopg.Error, TimeoutError):
            return False

    def read_position(self) -> int | None:
        """How far the standby reads are answered from has replayed the log (None: no
        standby, or it does not answer)."""
        if self.read_pool is None:
            return None
        try:
            with self.read_pool.connection(timeout=2.0) as conn:
                return log_head(conn, self.settings.schema_name)
        except (psycopg.Error, TimeoutError):
            return None

    def close(self) -> None:
        self.counts.stop()
        if self.projecting:
            self.workers.stop()
        if self.read_pool is not None:
            self.read_pool.close()
        self.pool.close()
        self.desk.close()
