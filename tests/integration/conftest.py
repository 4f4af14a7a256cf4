"""Fixtures the integration tests share: a desk, every view's runner, a connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from desk.answers import Receipt
from desk.service import SupportDesk
from mail.intake import MailIntake
from projections.catalog import VIEWS
from projections.runner import ProjectionRunner
from tests.builders import agent_reply, desk_with_account, file, later
from tests.mailserver import Mailbox, mail_intake, smtp_server


@pytest.fixture
def desk(pg_env: dict[str, str]) -> Iterator[SupportDesk]:
    desk = SupportDesk(pg_env)
    yield desk
    desk.close()


@pytest.fixture
def runner(database_url: str, schema: str, desk: SupportDesk) -> ProjectionRunner:
    runner = ProjectionRunner(database_url, schema, VIEWS.values())
    runner.create_tables()
    return runner


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool]:
    """A pool of up to two autocommit connections to the test database."""
    with ConnectionPool(database_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as p:
        yield p


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def mail() -> Iterator[tuple[str, Mailbox]]:
    """A loopback SMTP server: its URL, and what it was sent."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def intake_options() -> dict[str, Any]:
    """What a test module's inbound mail is set up with besides the defaults."""
    return {}


@pytest.fixture
def intake(
    database_url: str, schema: str, desk: SupportDesk, intake_options: dict[str, Any]
) -> Iterator[MailIntake]:
    """On a pool of one connection: taking an email never needs two of them at once."""
    with ConnectionPool(database_url, min_size=1, max_size=1,
                        kwargs={"autocommit": True}) as pool:  # fmt: skip
        yield mail_intake(desk, pool, schema, **intake_options)


def worked_tickets(desk: SupportDesk, count: int = 3) -> list[Receipt]:
    account = desk_with_account(desk)
    tickets = [file(desk, account, at=later(hours=i)) for i in range(count)]
    for i, t in enumerate(tickets):
        for n in range(3):
            agent_reply(desk, t.ticket_id, f"reply {i}.{n}", later(hours=i, days=n + 1))
    return tickets


@pytest.fixture
def worked(desk: SupportDesk, runner: ProjectionRunner) -> list[Receipt]:
    """Three worked tickets, every view caught up with them."""
    tickets = worked_tickets(desk)
    runner.catch_up()
    return tickets
