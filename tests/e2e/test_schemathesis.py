"""Generated requests from our own OpenAPI schema never get a 5xx, for any role.

A bounded run (``EXAMPLES`` per operation and role) so ``make test`` stays quick;
refusals must be problem+json, and every answer must match its schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.e2e.conftest import Server

EXAMPLES = 15

# raw emails for POST /v1/inbound/email: some shaped like mail, some any bytes at all
schemathesis.openapi.media_type(
    "message/rfc822",
    st.one_of(
        st.binary(max_size=2000),
        st.builds(
            lambda sender, subject, body: (
                f"From: {sender}\r\nTo: support@docket.example\r\nSubject: {subject}\r\n\r\n{body}"
            ).encode("utf-8", "surrogatepass"),
            st.emails(),
            st.text(max_size=80),
            st.text(max_size=400),
        ),
    ),
)
ROLES = ("requester", "agent", "admin", "free_user", None)
"""A Docket admin reaches the routes no other role does (staff, outbox, dashboards)."""


def fuzz(operation: Any, base_url: str, headers: dict[str, str], failures: list[str]) -> int:
    """Send generated cases for one operation; return how many were sent."""
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        nonlocal sent
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
            return
        try:
            case.validate_response(response, checks=[response_schema_conformance], headers=headers)
        except FailureGroup as violation:
            failures.append(f"{case.method} {case.formatted_path}: {violation}"[:500])
        if response.status_code >= 400:
            assert response.headers["content-type"][0] == "application/problem+json", (
                case.method, case.formatted_path, response.status_code,
            )  # fmt: skip
            problem = response.json()
            assert problem["type"].startswith("https://docket.example/problems/"), problem
            assert problem["title"] and problem["detail"], problem

    check()
    return sent


def fuzz_every_operation(server: Server, roles: Sequence[str | None]) -> int:
    """Generated requests to every operation as each of ``roles``: how many were sent."""
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for role in roles:
            headers = {"Authorization": f"Bearer {server.tokens[role]}"} if role else {}
            sent += fuzz(operation, server.base_url, headers, failures)
    assert failures == [], server.log_tail()
    return sent


def archive_generated_required_fields(server: Server) -> None:
    """Generated custom fields may be required for every product: archived, so the e2e
    tests after this one still file tickets without naming them."""
    with server.client("admin") as admin:
        for field in admin.get("/v1/ticket-fields").json()["fields"]:
            if field["required"] and not field["archived"]:
                archived = admin.patch(
                    f"/v1/ticket-fields/{field['key']}", json={"archived": True}
                )
                assert archived.status_code == 200, archived.text


def everyone_back_in_english(server: Server) -> None:
    """Generated requests may set a demo person's language and time zone (``PATCH
    /v1/me/preferences``, ``PATCH /v1/staff/me/preferences``): put everyone back in English
    and UTC, so the tests after this one read the words they expect."""
    back = {"language": "en", "time_zone": "UTC"}
    for role, token in server.tokens.items():
        if not (isinstance(token, str) and token.startswith("dkt_")) or role == "mail_gateway":
            continue
        with server.client(role) as person:
            me = person.patch("/v1/me/preferences", json=back)
            if me.status_code == 403:  # staff: their own preferences are elsewhere
                me = person.patch("/v1/staff/me/preferences", json=back)
        assert me.status_code in (200, 409), f"{role}: {me.text}"


def test_generated_requests_never_get_a_server_error(server: Server) -> None:
    try:
        assert fuzz_every_operation(server, ROLES) >= 100
    finally:
        archive_generated_required_fields(server)
        everyone_back_in_english(server)


@pytest.mark.stress
def test_thousands_of_generated_requests_for_every_role_never_get_a_server_error(
    server: Server,
) -> None:
    roles: list[str | None] = [
        r for r, v in server.tokens.items() if isinstance(v, str) and v.startswith("dkt_")
    ]
    roles.append(None)
    try:
        assert fuzz_every_operation(server, roles) >= 2000
    finally:
        archive_generated_required_fields(server)
        everyone_back_in_english(server)
