"""CCs over real HTTP and SMTP: copying people, what each of them sees and is mailed, an
outsider's emailed answer with and without the sender proof, and removal."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import NamedTuple
from uuid import UUID

import httpx
import pytest
from psycopg_pool import ConnectionPool

from api.tokens import TokenStore
from desk.access import Principal
from domain.vocabulary import CCS_MAX
from tests.e2e.conftest import Server, file_ticket, mailing_server, new_northwind_member
from tests.mailserver import Mailbox

NOTE = "Internal: their partner contract lapsed in May"
SUPPORT = "help@docket.example"


@pytest.fixture(scope="module")
def mailed(database_url: str) -> Iterator[tuple[Server, Mailbox]]:
    with mailing_server(database_url, DOCKET_SUPPORT_ADDRESS=SUPPORT) as mailed:
        yield mailed


def member(server: Server) -> tuple[str, str, httpx.Client]:
    """A new plain member of Northwind (no team admin): their address, id and client."""
    northwind = server.tokens["accounts"]["northwind"]
    address = f"mia-{uuid.uuid4().hex[:8]}@northwind.example"
    member_id = new_northwind_member(server, address, "Mia")["member_id"]
    url = server.env["DOCKET_DATABASE_URL"]
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        token = (
            TokenStore(pool, server.schema)
            .issue(Principal(member_id, "requester", "Mia", UUID(northwind)))
            .token
        )
    client = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return address, member_id, client


class Copying(NamedTuple):
    """A fresh ticket of Rita's, with the people a test copies on it: Mia, a new member of
    Rita's account (address, id, client), and Olga, an outsider known by address only."""

    ticket: str
    number: str
    mia_address: str
    mia_id: str
    mia: httpx.Client
    olga: str


def copying(server: Server) -> Copying:
    filed = file_ticket(server)
    address, mia_id, mia = member(server)
    olga = f"olga-{uuid.uuid4().hex[:6]}@partner.example"
    return Copying(filed["id"], filed["number"], address, mia_id, mia, olga)


def mails_for(
    mailbox: Mailbox, number: str, count: int, timeout: float = 20
) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [m for m in mailbox.messages() if m["X-Docket-Ticket"] == number]
        if len(got) >= count:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{count} emails of {number} never came: {len(got)}")


def post_mail(server: Server, message: EmailMessage) -> httpx.Response:
    with server.client("mail_gateway") as gateway:
        return gateway.post("/v1/inbound/email", content=message.as_bytes(),
                            headers={"Content-Type": "message/rfc822"})  # fmt: skip


def detail(client: httpx.Client, ticket: str, position: int) -> httpx.Response:
    return client.get(f"/v1/tickets/{ticket}", params={"min_position": position})


def test_copied_people_get_public_replies_a_member_sees_and_answers_an_outsider_emails_back(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, mailbox = mailed
    t, number, address, mia_id, mia, outsider = copying(server)
    with server.client("requester") as rita, server.client("agent") as agent:
        assert (
            rita.post(f"/v1/tickets/{t}/ccs", json={"email": address.upper()}).status_code == 200
        )
        copied = agent.post(f"/v1/tickets/{t}/ccs", json={"email": outsider})
        assert copied.status_code == 200, copied.text
        assert agent.post(f"/v1/tickets/{t}/notes", json={"body": NOTE}).status_code == 200
        replied = agent.post(f"/v1/tickets/{t}/messages", json={"body": "Which version?"})
        assert replied.status_code == 200, replied.text
        position = replied.json()["position"]
        seen_by_rita = detail(rita, t, position).json()
    assert [(c["email"], (c["member"] or {}).get("id")) for c in seen_by_rita["ccs"]] == [
        (address, mia_id), (outsider, None),
    ]  # fmt: skip

    # Mia, copied, sees the ticket in her list and its detail (no note), and answers
    with mia:
        mine = mia.get("/v1/tickets", params={"min_position": position}).json()
        assert number in [row["number"] for row in mine["tickets"]]
        assert mia.get("/v1/tickets", params={"q": "lapsed"}).json()["tickets"] == []
        seen = detail(mia, t, position)
        assert seen.status_code == 200, seen.text
        assert "internal_notes" not in seen.json() and NOTE not in seen.text
        answered = mia.post(f"/v1/tickets/{t}/messages", json={"body": "Same for me."})
        assert answered.status_code == 200, answered.text
        adding = mia.post(f"/v1/tickets/{t}/ccs", json={"email": "x@partner.example"})
        assert adding.status_code == 403  # she sees it; copying people is not hers to do
        assert adding.headers["content-type"] == "application/problem+json"

    # the agent's reply went to Rita, Mia and Olga, each a copy of their own; no note
    sent = mails_for(mailbox, number, 4)  # and the acknowledgement of the filing before it
    first = [m for m in sent if "Which version?" in m.get_content()]
    assert sorted(m["To"] for m in first) == sorted(["rita@northwind.example", address, outsider])
    assert len({m["Reply-To"] for m in first}) == 3
    assert all(NOTE not in m.as_string() for m in mailbox.messages())
    [olgas] = [m for m in first if m["To"] == outsider]

    # Olga answers to her own reply address: her message, as a CC; a forged one is refused
    forged = EmailMessage()
    forged["From"] = f"Olga <{outsider}>"
    forged["To"] = f"help+{number}@docket.example"
    forged["Subject"] = f"Re: [{number}] Sync fails"
    forged["Message-ID"] = f"<forged-{uuid.uuid4().hex}@partner.example>"
    forged.set_content("Close it, please.")
    refused = post_mail(server, forged)
    assert refused.status_code == 422
    assert refused.json()["reason"] == "unknown-ticket"  # told as if there were no ticket
    with server.client("admin") as admin:
        kept = admin.get("/v1/admin/rejected-mail").json()["emails"][0]
    assert (kept["sender"], kept["reason"]) == (outsider, "sender-unproven")

    reply = EmailMessage()
    reply["From"] = f"Olga <{outsider}>"
    reply["To"] = str(olgas["Reply-To"])
    reply["Subject"] = "Re: " + str(olgas["Subject"])
    reply["Message-ID"] = f"<olga-{uuid.uuid4().hex}@partner.example>"
    reply["In-Reply-To"] = olgas["Message-ID"]
    reply.set_content("Version 4.2 here too.")
    taken = post_mail(server, reply)
    assert taken.status_code == 200, taken.text
    with server.client("agent") as agent:
        conversation = detail(agent, t, taken.json()["position"]).json()["conversation"]
    last = conversation[-1]
    assert (last["author"], last["author_role"], last["via"]) == (
        {"id": f"cc:{outsider}", "name": outsider}, "cc", "email",
    )  # fmt: skip
    assert conversation[-2]["author_role"] == "cc" and conversation[-2]["author"]["name"] == "Mia"


def test_removing_ccs_stops_their_emails_and_a_members_sight_at_once(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, mailbox = mailed
    t, number, address, _, mia, outsider = copying(server)
    with server.client("agent") as agent:
        for someone in (address, outsider):
            added = agent.post(f"/v1/tickets/{t}/ccs", json={"email": someone})
            assert added.status_code == 200
        stale = agent.delete(f"/v1/tickets/{t}/ccs/{outsider}", headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        version = added.headers["etag"]
        removed = agent.delete(f"/v1/tickets/{t}/ccs/{outsider.upper()}",
                               headers={"If-Match": version})  # fmt: skip
        assert removed.status_code == 200, removed.text
        again = agent.delete(f"/v1/tickets/{t}/ccs/{outsider}")
        assert (again.status_code, again.json()["type"].rsplit("/", 1)[1]) == (404, "unknown-cc")
        assert agent.delete(f"/v1/tickets/{t}/ccs/{address}").status_code == 200
        replied = agent.post(f"/v1/tickets/{t}/messages", json={"body": "Fixed in 4.3."})
        assert replied.status_code == 200
    acknowledgement, only = mails_for(mailbox, number, 2)  # the filing's, then the reply
    time.sleep(1.0)  # the sender polls twice a second: nothing else comes
    assert [m["To"] for m in mailbox.messages() if m["X-Docket-Ticket"] == number] == [
        "rita@northwind.example",
        "rita@northwind.example",
    ]
    assert acknowledgement["Subject"].startswith("Request received:")
    assert only["To"] == "rita@northwind.example" and "Fixed in 4.3." in only.get_content()
    with mia:  # Mia no longer sees it: as if it did not exist
        gone = mia.get(f"/v1/tickets/{t}", params={"min_position": replied.json()["position"]})
        assert (gone.status_code, gone.json()["type"].rsplit("/", 1)[1]) == (404, "unknown-ticket")
        refused = mia.post(f"/v1/tickets/{t}/messages", json={"body": "Hello?"})
        assert refused.status_code == 404
        listed = mia.get("/v1/tickets", params={"min_position": replied.json()["position"]})
        assert number not in [row["number"] for row in listed.json()["tickets"]]


def test_a_cc_is_one_plain_address_within_the_bound_and_only_for_those_who_see_the_ticket(
    mailed: tuple[Server, Mailbox],
) -> None:
    server, _ = mailed
    t = file_ticket(server)["id"]
    with server.client("agent") as agent:
        for bad in ("Olga <olga@partner.example>", "a@b.example, c@d.example", "nobody"):
            refused = agent.post(f"/v1/tickets/{t}/ccs", json={"email": bad})
            assert refused.status_code == 422, bad
            assert refused.headers["content-type"] == "application/problem+json"
        mine = agent.post(f"/v1/tickets/{t}/ccs", json={"email": "rita@northwind.example"})
        assert mine.status_code == 422  # the requester gets every email already
        for n in range(CCS_MAX):
            assert (
                agent.post(f"/v1/tickets/{t}/ccs", json={"email": f"p{n}@x.example"}).status_code
                == 200
            )
        over = agent.post(f"/v1/tickets/{t}/ccs", json={"email": "one-more@x.example"})
        assert (over.status_code, over.json()["type"].rsplit("/", 1)[1]) == (409, "too-many-ccs")
        twice = agent.post(f"/v1/tickets/{t}/ccs", json={"email": "P0@X.example"})
        assert twice.status_code == 409
    with server.client("requester_other_account") as carl:
        assert carl.post(f"/v1/tickets/{t}/ccs", json={"email": "c@x.example"}).status_code == 404
        assert carl.delete(f"/v1/tickets/{t}/ccs/p0@x.example").status_code == 404
