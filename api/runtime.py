"""Everything a running Docket holds: the desk, the database pool, the stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
from psycopg_pool import ConnectionPool

from api.auth import TokenStore
from api.settings import Settings
from desk.deadline_watch import DeadlineWatch
from desk.service import SupportDesk
from mail.intake import MailIntake
from mail.sender import MailSender, SmtpServer
from projections.catalog import VIEWS
from projections.outbox import MailIdentity
from projections.reads import Reads
from projections.runner import ProjectionRunner, log_head
from replay.audit import Audit
from store.attachments import AttachmentStore
from store.database import ensure_schema, eventsourcing_env, start_embedded
from store.idempotency import IdempotencyStore


def mail_identity(settings: Settings) -> MailIdentity:
    return MailIdentity(sender=settings.mail_from, support_address=settings.support_address)


def mail_sender(settings: Settings, url: str) -> MailSender | None:
    """The SMTP sender ``DOCKET_SMTP_URL`` names, or None: emails then wait in the outbox."""
    if not settings.smtp_url:
        return None
    return MailSender(
        url,
        settings.schema_name,
        SmtpServer.from_url(settings.smtp_url),
        mail_identity(settings),
        max_age=timedelta(hours=settings.mail_max_age_hours),
    )


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir / "pgdata")


@dataclass
class Runtime:
    settings: Settings
    url: str
    desk: SupportDesk
    pool: ConnectionPool
    tokens: TokenStore
    attachments: AttachmentStore
    idempotency: IdempotencyStore
    runner: ProjectionRunner
    reads: Reads
    projecting: bool
    audit: Audit
    deadlines: DeadlineWatch
    mail: MailIdentity
    sender: MailSender | None
    intake: MailIntake
    counters: dict[tuple[str, str, int], int] = field(default_factory=dict)

    @classmethod
    def start(
        cls, settings: Settings, url: str | None = None, *, project: bool | None = None
    ) -> Runtime:
        url = url or database_url(settings)
        schema = settings.schema_name
        ensure_schema(url, schema)
        desk = SupportDesk(eventsourcing_env(url, schema, pool_size=settings.pool_size))
        pool = ConnectionPool(
            url,
            min_size=2,
            max_size=settings.pool_size,
            kwargs={"autocommit": True},
            timeout=5.0,
            open=True,
        )
        runner = ProjectionRunner(url, schema, VIEWS.values())
        projecting = settings.run_projections if project is None else project
        attachments = AttachmentStore(pool, schema)
        runtime = cls(
            settings=settings,
            url=url,
            desk=desk,
            pool=pool,
            tokens=TokenStore(pool, schema, settings.token_cache_seconds),
            attachments=attachments,
            idempotency=IdempotencyStore(pool, schema),
            runner=runner,
            reads=Reads(
                pool,
                schema,
                board=runner.board if projecting else None,
                wait_seconds=settings.read_wait_seconds,
            ),
            projecting=projecting,
            audit=Audit(pool, schema, desk.mapper),
            deadlines=DeadlineWatch(desk, url, schema),
            mail=mail_identity(settings),
            sender=mail_sender(settings, url) if projecting else None,
            intake=MailIntake(
                desk,
                pool,
                schema,
                attachments,
                mail_identity(settings),
                max_attachment_bytes=settings.max_attachment_bytes,
            ),
        )
        runtime.tokens.create_tables()
        runtime.attachments.create_tables()
        runtime.idempotency.create_tables()
        runtime.intake.create_tables()
        runner.create_tables()
        if projecting:
            runner.start()
            runtime.deadlines.start()
            if runtime.sender is not None:
                runtime.sender.start()
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

    def close(self) -> None:
        if self.sender is not None:
            self.sender.stop()
        if self.projecting:
            self.deadlines.stop()
            self.runner.stop()
        self.pool.close()
        self.desk.close()
