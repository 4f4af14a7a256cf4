"""One's own language and time zone over HTTP: a member through ``PATCH
/v1/me/preferences``, a staff member through ``PATCH /v1/staff/me/preferences``; the very
next answer is in the language chosen. Each test puts the person back in English and UTC (the server is shared)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.e2e.conftest import Server

ENGLISH_UTC = {"language": "en", "time_zone": "UTC"}


@contextmanager
def restored(server: Server, role: str, path: str) -> Iterator[None]:
    try:
        yield
    finally:
        with server.client(role) as c:
            back = c.patch(path, json=ENGLISH_UTC)
        assert back.status_code in (200, 409), back.text


def refused_in(client: httpx.Client, language: str) -> httpx.Response:
    """A refusal (an unknown ticket), once it is said in ``language`` (the directory
    catches up with a write in a moment)."""
    deadline = time.monotonic() + 10
    while True:
        refused = client.get("/v1/tickets/T-999998")
        if refused.headers["content-language"] == language or time.monotonic() > deadline:
            return refused
        time.sleep(0.05)


def test_a_member_chooses_french_and_a_time_zone_and_is_answered_in_french(
    server: Server,
) -> None:
    path = "/v1/me/preferences"
    with (
        restored(server, "requester_other_account", path),
        server.client("requester_other_account") as carl,
    ):
        chose = carl.patch(path, json={"language": "fr", "time_zone": "Europe/Paris"})
        assert chose.status_code == 200, chose.text
        refused = refused_in(carl, "fr")
        assert refused.json()["detail"].startswith("Aucun ticket T-999998")
        again = carl.patch(path, json={"language": "fr"})
        assert again.status_code == 409
        assert again.json()["type"].endswith("/nothing-changed")
        bad = carl.patch(path, json={"time_zone": "Mars/Base"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "time_zone"
        assert carl.patch(path, json={"language": "de"}).status_code == 422
        assert carl.patch(path, json={}).status_code == 422


def test_a_staff_member_chooses_french_through_their_own_preferences(server: Server) -> None:
    path = "/v1/staff/me/preferences"
    with restored(server, "auditor", path), server.client("auditor") as auditor:
        chose = auditor.patch(path, json={"language": "fr", "time_zone": "America/Montreal"})
        assert chose.status_code == 200, chose.text
        assert set(chose.json()) == {"id", "version", "position"}
        assert refused_in(auditor, "fr").json()["detail"].startswith("Aucun ticket T-999998")
        assert auditor.patch(path, json={"language": "fr"}).status_code == 409
    for role, status in (("requester", 403), (None, 401)):
        with server.client(role) as other:
            assert other.patch(path, json={"language": "fr"}).status_code == status
