"""``docket admin init``: the first Docket admin on an empty desk, and refused once there is
one; ``docket tokens`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.e2e.conftest import DOCKET, docket, running_server


@pytest.fixture
def empty_desk(database_url: str) -> Iterator[dict[str, str]]:
    """The environment of a ``docket`` command on a schema nobody has used yet."""
    schema = "init_" + uuid.uuid4().hex[:12]
    yield {**os.environ, "DOCKET_DATABASE_URL": database_url, "DOCKET_SCHEMA": schema}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def init(env: dict[str, str], email: str = "ops@example.org") -> subprocess.CompletedProcess[str]:
    return docket(env, "admin", "init", "--email", email, "--name", "Olga Ops")


def test_admin_init_on_an_empty_desk_registers_an_admin_and_prints_a_token_that_works(
    empty_desk: dict[str, str], database_url: str
) -> None:
    done = init(empty_desk)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("dkt_") and "\n" not in token
    schema = empty_desk["DOCKET_SCHEMA"]
    with running_server(database_url, schema=schema, seed=False) as server:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as c:
            me = c.get("/v1/me").json()
            assert me["role"] == "admin" and me["name"] == "Olga Ops"
            listed = c.get("/v1/tokens").json()["tokens"]
    assert [t["name"] for t in listed] == ["admin init"]


def test_a_second_admin_init_is_refused_with_the_reason(empty_desk: dict[str, str]) -> None:
    assert init(empty_desk).returncode == 0
    again = init(empty_desk, "someone@example.org")
    assert again.returncode != 0
    assert again.stdout == ""
    assert "has an admin already (Olga Ops <ops@example.org>)" in again.stderr


def test_admin_init_is_refused_once_seed_demo_has_registered_an_admin(
    empty_desk: dict[str, str],
) -> None:
    assert docket(empty_desk, "seed-demo").returncode == 0
    refused = init(empty_desk)
    assert refused.returncode != 0
    assert "has an admin already" in refused.stderr


def test_of_concurrent_admin_inits_exactly_one_wins(empty_desk: dict[str, str]) -> None:
    ready = docket(empty_desk, "tokens", "list")  # the schema and its tables, made once
    assert ready.returncode == 0, ready.stderr
    inits = [
        subprocess.Popen(
            [*DOCKET, "admin", "init", "--email", f"o{i}@x.org", "--name", f"Op {i}"],
            env=empty_desk,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    codes = [p.wait(timeout=120) for p in inits]
    for p in inits:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        p.stderr.close()
    assert sorted(codes) == [0, 1, 1]


def test_the_command_line_issues_lists_and_revokes_tokens(
    empty_desk: dict[str, str],
) -> None:
    admin_token = init(empty_desk).stdout.strip()
    issued = docket(empty_desk, "tokens", "issue", "--name", "postfix", "--mail-gateway")
    assert issued.returncode == 0, issued.stderr
    secret = issued.stdout.strip()
    listed = json.loads(docket(empty_desk, "tokens", "list").stdout)
    assert {t["name"] for t in listed} == {"admin init", "postfix"}
    assert admin_token not in json.dumps(listed) and secret not in json.dumps(listed)
    gateway = next(t for t in listed if t["name"] == "postfix")
    assert gateway["holder"]["role"] == "mail_gateway" and secret.startswith(gateway["prefix"])
    assert docket(empty_desk, "tokens", "revoke", gateway["id"]).returncode == 0
    assert [t["name"] for t in json.loads(docket(empty_desk, "tokens", "list").stdout)] == [
        "admin init"
    ]
    unknown = docket(empty_desk, "tokens", "revoke", str(uuid.uuid4()))
    assert unknown.returncode != 0 and "docket tokens list" in unknown.stderr


def test_the_command_line_issues_a_token_for_a_person_the_directory_knows(
    empty_desk: dict[str, str],
) -> None:
    seeded = json.loads(docket(empty_desk, "seed-demo").stdout)
    issued = docket(empty_desk, "tokens", "issue", "--name", "n", "--person", seeded["agent_id"])
    assert issued.returncode == 0, issued.stderr
    assert "Alex Agent (agent)" in issued.stderr
    nobody = docket(empty_desk, "tokens", "issue", "--name", "n", "--person", "nobody")
    assert nobody.returncode != 0 and "register them first" in nobody.stderr


def test_an_operator_prints_a_sign_in_link_for_someone_they_set_up_and_it_signs_them_in(
    empty_desk: dict[str, str], database_url: str
) -> None:
    """No mail server: the operator hands over the link the email would carry."""
    assert init(empty_desk).returncode == 0
    nobody = docket(empty_desk, "admin", "sign-in-link", "--email", "who@nowhere.example")
    assert nobody.returncode == 1 and "nobody has the address" in nobody.stderr
    printed = docket(empty_desk, "admin", "sign-in-link", "--email", "OPS@example.org")
    assert printed.returncode == 0, printed.stderr
    assert "Olga Ops" in printed.stderr and "for 15 min" in printed.stderr
    link = printed.stdout.strip()
    path = "/sign-in/" + link.rsplit("/sign-in/", 1)[1]
    schema = empty_desk["DOCKET_SCHEMA"]
    html = {"Accept": "text/html"}
    with (
        running_server(database_url, schema=schema, seed=False) as server,
        httpx.Client(base_url=server.base_url, headers=html, timeout=30) as browser,
    ):
        assert browser.post(path).status_code == 303
        assert "Welcome, Olga Ops" in browser.get("/").text
    too_long = docket(empty_desk, "admin", "sign-in-link", "--email", "ops@example.org",
                      "--minutes", "5000")  # fmt: skip
    assert too_long.returncode == 2
