"""A real Docket server over HTTP: ``docket serve`` in a subprocess, on the test PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from bench.harness import Server, docket_server
from domain.surveys import SurveyLink
from store.secrets import server_secret
from tests.mailserver import Mailbox, smtp_server

__all__ = [
    "DOCKET",
    "Server",
    "created",
    "docket",
    "file_ticket",
    "if_match",
    "mailing_server",
    "running_server",
    "surveys_on",
    "token_for",
]

DOCKET = [sys.executable, "-m", "api.cli"]
"""The ``docket`` command, as an operator runs it."""


def docket(
    env: dict[str, str], *args: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """``docket ARGS`` on the desk ``env`` names: its exit code, output and errors."""
    return subprocess.run(
        [*DOCKET, *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def running_server(
    database_url: str, *, schema: str | None = None, seed: bool = True, **settings: str
) -> AbstractContextManager[Server]:
    return docket_server(database_url, schema=schema, seed=seed, **settings)


@contextmanager
def mailing_server(database_url: str, **settings: str) -> Iterator[tuple[Server, Mailbox]]:
    """A seeded server that mails through a loopback SMTP server of its own: both, stopped
    after."""
    with (
        smtp_server() as (url, mailbox),
        running_server(database_url, seed=True, DOCKET_SMTP_URL=url, **settings) as server,
    ):
        yield server, mailbox


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[Server]:
    # no automation watch: a rule the fuzzers switch on must not work other tests' tickets
    with running_server(database_url, DOCKET_AUTOMATION_SWEEP_SECONDS="0") as running:
        yield running


def created(response: httpx.Response) -> dict[str, Any]:
    """The body of a ``201 Created`` answer; any other answer fails the test, showing its text."""
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def if_match(version: int) -> dict[str, str]:
    """The header that makes a write hold only on the ``version`` the client read."""
    return {"If-Match": f'"{version}"'}


def file_ticket(server: Server, role: str = "requester", **fields: Any) -> dict[str, Any]:
    body = {"subject": "Sync fails", "description": "Since this morning.", "type": "bug", **fields}
    with server.client(role) as c:
        return created(c.post("/v1/tickets", json=body))


def new_northwind_member(server: Server, email: str, name: str, **profile: str) -> dict[str, Any]:
    """Tom, Northwind's team admin, adds a plain member: the answer's body (``member_id``,
    ``position``); ``profile`` is the rest of what he types (``language``, ``time_zone``)."""
    northwind = server.tokens["accounts"]["northwind"]
    member = {"email": email, "name": name, **profile}
    with server.client("team_admin") as tom:
        return created(tom.post(f"/v1/accounts/{northwind}/members", json=member))


def server_mail_secret(server: Server) -> bytes:
    """The secret the server signs with (drawn once, kept in its database)."""
    given = server.env.get("DOCKET_MAIL_SECRET", "")
    return given.encode() or server_secret(
        server.env["DOCKET_DATABASE_URL"], server.schema, "mail-reply"
    )


def surveys_on(server: Server, role: str = "requester") -> None:
    """The demo member asks for surveys (generated requests may have turned them off)."""
    with server.client(role) as member:
        on = member.patch("/v1/me/preferences", json={"surveys": True})
    assert on.status_code in (200, 409), on.text


def token_for(
    server: Server,
    ticket_id: str,
    *,
    cycle: int = 1,
    language: str = "en",
    closed_at: datetime | None = None,
    secret: bytes | None = None,
) -> str:
    """The token of the survey link the server's email carries for that closing."""
    link = SurveyLink.for_closing(UUID(ticket_id), cycle, language, closed_at or datetime.now(UTC))
    return link.token(secret if secret is not None else server_mail_secret(server))
