"""Every endpoint against every role: the expected status, cell by cell.

The table is written out here by hand (not derived from ``desk.access.ROLE_MATRIX``),
so a change of the matrix in code that was not meant shows up as a failure.
Each cell works on a fresh ticket filed by the demo requester (Northwind).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, file_ticket, surveys_on, token_for

FOUNDING_ENHANCED = {
    "first_response": "1h",
    "next_reply": "4h",
    "resolution": "48h",
    "urgent": {"first_response": "30m", "next_reply": "1h", "resolution": "8h"},
}
"""The shipped premium_enhanced targets: putting them again changes nothing."""

ARTICLE = {"title": "Matrix article", "body": "Body.", "language": "en", "slug": "matrix-article"}
REVISION = {"title": "Matrix article", "body": "Another body.", "language": "en"}

_START = datetime.now(UTC) + timedelta(hours=1)
CALLBACK = {"phone": "+14155552671", "subject": "Call me", "window_start": _START.isoformat(),
            "window_end": (_START + timedelta(hours=2)).isoformat()}  # fmt: skip
NEEDS_CALLBACK = {"callback_made"}
"""Endpoints whose cell works on a ticket with a callback to make."""
COPIED = "copied@partner.example"
NEEDS_CC = {"cc_remove"}
"""Endpoints whose cell works on a ticket that copies ``COPIED``."""

ROLES = [
    "requester", "team_admin", "requester_other_account", "free_user",
    "agent", "auditor", "analyst", "admin", None,
]  # fmt: skip

# Who may, in ROLES order: the rows most endpoints share.
ADMIN_ONLY = [403, 403, 403, 403, 403, 403, 403, 200, 401]
ADMIN_CREATES = [403, 403, 403, 403, 403, 403, 403, 201, 401]
STAFF_ONLY = [403, 403, 403, 403, 200, 403, 403, 200, 401]
"""Agents and admins; everyone else with a token 403, without one 401."""
ANALYSTS = [403, 403, 403, 403, 403, 403, 200, 200, 401]
"""Analysts and admins."""
AUDITORS = [403, 403, 403, 403, 200, 200, 403, 200, 401]
"""Agents, auditors and admins."""
EVERY_STAFF_ROLE = [403, 403, 403, 403, 200, 200, 200, 200, 401]
SIGNED_IN = [200, 200, 200, 200, 200, 200, 200, 200, 401]
TICKET_PEOPLE = [200, 200, 404, 404, 200, 403, 403, 200, 401]
"""The requester, their team admin, agents and admins; another account's customers 404."""
CUSTOMERS_FILE = [201, 201, 201, 403, 403, 403, 403, 403, 401]
"""Customers on a paid plan file; staff do not."""

# endpoint: (method + path template, body, needs a closed ticket, expected per role in ROLES order)
MATRIX: dict[str, tuple[str, dict[str, Any] | None, bool, list[int]]] = {
    "file": ("POST /v1/tickets", {"subject": "s", "description": "d"}, False, CUSTOMERS_FILE),
    "message": ("POST /v1/tickets/{t}/messages", {"body": "hello"}, False, TICKET_PEOPLE),
    "note": ("POST /v1/tickets/{t}/notes", {"body": "internal"}, False, STAFF_ONLY),
    "close": ("POST /v1/tickets/{t}/status", {"status": "closed"}, False, TICKET_PEOPLE),
    "pending": ("POST /v1/tickets/{t}/status", {"status": "pending"}, False,
                [403, 403, 404, 404, 200, 403, 403, 200, 401]),
    "priority": ("POST /v1/tickets/{t}/priority", {"priority": "urgent"}, False, STAFF_ONLY),
    "assignment": ("POST /v1/tickets/{t}/assignment", {"agent_id": None, "group": "tier-2"}, False,
                   STAFF_ONLY),
    "type": ("POST /v1/tickets/{t}/type", {"type": "billing"}, False, STAFF_ONLY),
    "product": ("POST /v1/tickets/{t}/product", {"product": "Dash"}, False, STAFF_ONLY),
    "tags": ("POST /v1/tickets/{t}/tags", {"add": ["matrix"]}, False, STAFF_ONLY),
    # macros ({m}: a fresh shared macro an admin wrote; a personal one is its owner's alone)
    "macro_list": ("GET /v1/macros", None, False, STAFF_ONLY),
    "macro_create": ("POST /v1/macros", {"title": "M", "status": "pending"}, False,
                     [403, 403, 403, 403, 201, 403, 403, 201, 401]),
    "macro_detail": ("GET /v1/macros/{m}", None, False, STAFF_ONLY),
    "macro_change": ("PATCH /v1/macros/{m}", {"title": "N"}, False, ADMIN_ONLY),
    "macro_delete": ("DELETE /v1/macros/{m}", None, False, ADMIN_ONLY),
    "macro_preview": ("POST /v1/tickets/{t}/macros/{m}/preview", None, False, STAFF_ONLY),
    "macro_apply": ("POST /v1/tickets/{t}/macros/{m}/apply", None, False, STAFF_ONLY),
    "reopen": ("POST /v1/tickets/{t}/reopen", None, True, TICKET_PEOPLE),
    "merge": ("POST /v1/tickets/{t}/merge", {"into": "{into}"}, False, STAFF_ONLY),
    "rating": ("POST /v1/tickets/{t}/rating", {"score": 5}, True,
               [200, 403, 404, 404, 403, 403, 403, 403, 401]),
    "me": ("GET /v1/me", None, False, SIGNED_IN),
    "detail": ("GET /v1/tickets/{t}?min_position={p}", None, False,
               [200, 200, 404, 404, 200, 200, 403, 200, 401]),
    "list": ("GET /v1/tickets?min_position={p}", None, False,
             [200, 200, 200, 200, 200, 200, 403, 200, 401]),
    "team": ("GET /v1/tickets?scope=team", None, False,
             [403, 200, 403, 403, 403, 403, 403, 403, 401]),
    "inbox": ("GET /v1/inbox", None, False, STAFF_ONLY),
    "account": ("GET /v1/accounts/{a}/tickets", None, False,
                [403, 200, 403, 403, 200, 200, 403, 200, 401]),
    "feed": ("GET /v1/feed", None, False, EVERY_STAFF_ROLE),
    "history": ("GET /v1/audit/tickets/{t}/events", None, False, AUDITORS),
    "state": ("GET /v1/audit/tickets/{t}/state?version=1", None, False, AUDITORS),
    "backlog": ("GET /v1/audit/backlog?as_of=2025-01-01T00:00:00Z", None, False,
                [403, 403, 403, 403, 403, 200, 200, 200, 401]),
    "verify": ("GET /v1/audit/verify?ticket={t}", None, False,
               [403, 403, 403, 403, 403, 200, 403, 200, 401]),
    "dashboard": ("GET /v1/dashboard/summary", None, False, ANALYSTS),
    "sla_summary": ("GET /v1/sla/summary", None, False, ANALYSTS),
    "sla_policy": ("GET /v1/sla/policy", None, False, EVERY_STAFF_ROLE),
    "sla_policy_change": ("PUT /v1/sla/policies/premium_enhanced", FOUNDING_ENHANCED, False,
                          ADMIN_ONLY),
    "article_publish": ("POST /v1/articles", ARTICLE, False, ADMIN_CREATES),
    "article_revise": ("PUT /v1/articles/{art}", REVISION, False, ADMIN_ONLY),
    "article_withdraw": ("DELETE /v1/articles/{art}", None, False, ADMIN_ONLY),
    "article_detail": ("GET /v1/articles/files-stop-syncing", None, False, SIGNED_IN),
    "article_list": ("GET /v1/articles?language=fr", None, False, SIGNED_IN),
    "article_suggest": ("GET /v1/articles/suggest?q=sync+paused&product=Files", None, False,
                        SIGNED_IN),
    "article_opened": ("POST /v1/articles/files-stop-syncing/opened", {"help_session": "new"},
                       False, [200, 200, 200, 200, 403, 403, 403, 403, 401]),
    "recommendations": ("GET /v1/accounts/{a}/recommendations", None, False, TICKET_PEOPLE),
    "deflection": ("GET /v1/dashboard/deflection", None, False, ANALYSTS),
    "tags_dashboard": ("GET /v1/dashboard/tags", None, False,
                       [403, 403, 403, 403, 200, 403, 200, 200, 401]),
    "outbox": ("GET /v1/admin/outbox", None, False, ADMIN_ONLY),
    "rejected_mail": ("GET /v1/admin/rejected-mail", None, False, ADMIN_ONLY),
    "inbound_email": ("POST /v1/inbound/email", {"raw": "From: a@b.c"}, False,
                      [403, 403, 403, 403, 403, 403, 403, 403, 401]),
    "callback": ("POST /v1/callbacks", CALLBACK, False, CUSTOMERS_FILE),
    "callback_made": ("POST /v1/tickets/{t}/callback", {"outcome": "reached"}, False, STAFF_ONLY),
    "cc_add": ("POST /v1/tickets/{t}/ccs", {"email": "{u}@partner.example"}, False, TICKET_PEOPLE),
    "cc_remove": ("DELETE /v1/tickets/{t}/ccs/" + COPIED, None, False, TICKET_PEOPLE),
    # accounts ({acct}: a fresh account the admin opened for the cell; {a}: Northwind)
    "account_open": ("POST /v1/accounts", {"name": "Matrix", "plan": "business", "seats": 10},
                     False, ADMIN_CREATES),
    "account_seats": ("POST /v1/accounts/{acct}/seats", {"seats": 12}, False, ADMIN_ONLY),
    "account_premium": ("PUT /v1/accounts/{acct}/premium/Files", {"level": "enhanced"}, False,
                        ADMIN_ONLY),
    "account_member": ("POST /v1/accounts/{a}/members", {"email": "m@northwind.example",
                                                          "name": "Matrix Member"},
                       False, [403, 201, 403, 403, 403, 403, 403, 201, 401]),
    "subscription": ("GET /v1/accounts/{a}/subscription", None, False,
                     [404, 200, 404, 404, 403, 403, 403, 200, 401]),
    # Docket's staff and support groups; {s} is a fresh agent in tier-2, {u} a fresh word
    "staff_register": ("POST /v1/staff", {"name": "M", "email": "{u}@docket.example",
                                          "role": "analyst"}, False, ADMIN_CREATES),
    "staff_list": ("GET /v1/staff", None, False, ADMIN_ONLY),
    "staff_detail": ("GET /v1/staff/{s}", None, False, ADMIN_ONLY),
    "staff_deactivate": ("POST /v1/staff/{s}/deactivation", None, False, ADMIN_ONLY),
    "staff_open_tickets": ("GET /v1/staff/{s}/open-tickets", None, False, STAFF_ONLY),
    "group_create": ("POST /v1/groups", {"name": "g-{u}"}, False, ADMIN_CREATES),
    "group_list": ("GET /v1/groups", None, False, STAFF_ONLY),
    "group_join": ("PUT /v1/groups/tier-1/members/{s}", None, False, ADMIN_ONLY),
    "group_leave": ("DELETE /v1/groups/tier-2/members/{s}", None, False, ADMIN_ONLY),
    # saved views of the inbox; {v} is a fresh view an admin shared with all staff
    "view_save": ("POST /v1/views", {"name": "m", "filters": {"status": "open"}}, False,
                  [403, 403, 403, 403, 201, 403, 403, 201, 401]),
    "view_share": ("POST /v1/views", {"name": "m", "shared": True}, False, ADMIN_CREATES),
    "view_list": ("GET /v1/views", None, False, STAFF_ONLY),
    "view_detail": ("GET /v1/views/{v}", None, False, STAFF_ONLY),
    "view_tickets": ("GET /v1/views/{v}/tickets", None, False, STAFF_ONLY),
    "view_change": ("PATCH /v1/views/{v}", {"name": "m-{u}"}, False, ADMIN_ONLY),
    "view_remove": ("DELETE /v1/views/{v}", None, False, ADMIN_ONLY),
    "inbox_views": ("GET /v1/inbox/views", None, False, STAFF_ONLY),
    # custom ticket fields; {f} is a fresh text field an admin defined for the cell
    "ticket_fields": ("GET /v1/ticket-fields", None, False, SIGNED_IN),
    "ticket_field": ("GET /v1/ticket-fields/{f}", None, False, SIGNED_IN),
    "ticket_field_define": ("POST /v1/ticket-fields", {"key": "m_{u}", "kind": "text",
                            "labels": {"en": "M", "fr": "M"}}, False, ADMIN_CREATES),
    "ticket_field_revise": ("PATCH /v1/ticket-fields/{f}", {"labels": {"en": "N", "fr": "N"}},
                            False, ADMIN_ONLY),
    "custom_fields": ("PATCH /v1/tickets/{t}/custom-fields", {"custom_fields": {"{f}": "v"}},
                      False, STAFF_ONLY),
    # time-based automations: admins keep the rule book, agents read it
    "automation_list": ("GET /v1/automations", None, False, STAFF_ONLY),
    "automation_detail": ("GET /v1/automations/pending-reminder", None, False, STAFF_ONLY),
    "automation_add": ("POST /v1/automations", {"id": "m-{u}", "name": "Matrix {u}",
                                                "conditions": {"since": "last_update",
                                                               "hours": 8000},
                                                "actions": [{"type": "set_status",
                                                             "status": "pending"}]},
                       False, ADMIN_CREATES),
    "automation_change": ("PATCH /v1/automations/pending-reminder", {"enabled": False}, False,
                          ADMIN_ONLY),
}  # fmt: skip


def cells(matrix: Mapping[str, tuple[Any, ...]]) -> list[tuple[str, str | None, int]]:
    """Every cell of a matrix whose rows end with the statuses in ROLES order."""
    return [
        (endpoint, role, row[-1][i])
        for endpoint, row in matrix.items()
        for i, role in enumerate(ROLES)
    ]


def answer(server: Server, role: str | None, route: str, **kwargs: Any) -> httpx.Response:
    """What ``role`` is answered for ``route`` ("METHOD /path")."""
    method, path = route.split(" ")
    with server.client(role) as client:
        call: Callable[..., httpx.Response] = getattr(client, method.lower())
        return call(path, **kwargs)


def assert_cell(response: httpx.Response, expected: int) -> None:
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"


def fresh_agent(server: Server) -> str:
    with server.client("admin") as admin:
        email = f"m-{uuid.uuid4().hex}@docket.example"
        agent = {"name": "Matrix", "email": email, "role": "agent", "groups": ["tier-2"]}
        made = admin.post("/v1/staff", json=agent)
    assert made.status_code == 201, made.text
    staff_id: str = made.json()["id"]
    return staff_id


def fresh_article(server: Server) -> str:
    with server.client("admin") as admin:
        made = admin.post("/v1/articles", json={**ARTICLE, "slug": f"m-{uuid.uuid4().hex}"})
    assert made.status_code == 201, made.text
    article_id: str = made.json()["id"]
    return article_id


def fresh_view(server: Server) -> str:
    with server.client("admin") as admin:
        made = admin.post("/v1/views", json={"name": "Cell", "shared": True})
    assert made.status_code == 201, made.text
    view_id: str = made.json()["id"]
    return view_id


def fresh_macro(server: Server) -> str:
    """A shared macro, once the macros view lists it."""
    with server.client("admin") as admin:
        made = admin.post(
            "/v1/macros", json={"title": "Cell", "shared": True, "tags_add": ["cell"]}
        )
        assert made.status_code == 201, made.text
        macro_id: str = made.json()["id"]
        seen = admin.get(f"/v1/macros/{macro_id}?min_position={made.json()['position']}")
        assert seen.status_code == 200, seen.text
    return macro_id


def fresh_account(server: Server) -> str:
    with server.client("admin") as admin:
        made = admin.post(
            "/v1/accounts",
            json={"name": "Cell", "plan": "business", "seats": 10, "products": ["Files"]},
        )
    assert made.status_code == 201, made.text
    account_id: str = made.json()["id"]
    return account_id


def fresh_field(server: Server) -> str:
    """A fresh optional text field, for every product: filing is never held up by it."""
    key = f"m_{uuid.uuid4().hex[:12]}"
    with server.client("admin") as admin:
        made = admin.post(
            "/v1/ticket-fields",
            json={"key": key, "kind": "text", "labels": {"en": "M", "fr": "M"}},
        )
    assert made.status_code == 201, made.text
    return key


@pytest.mark.parametrize(("endpoint", "role", "expected"), cells(MATRIX))
def test_role_matrix_cell(server: Server, endpoint: str, role: str | None, expected: int) -> None:
    route, body, needs_closed, _ = MATRIX[endpoint]
    if endpoint in NEEDS_CALLBACK:
        with server.client("requester") as requester:
            asked = requester.post("/v1/callbacks", json=CALLBACK)
        assert asked.status_code == 201, asked.text
        filed = asked.json()
    else:
        filed = file_ticket(server)
    ticket = filed["number"]
    if endpoint in NEEDS_CC:
        with server.client("agent") as agent:
            copied = agent.post(f"/v1/tickets/{ticket}/ccs", json={"email": COPIED})
        assert copied.status_code == 200, copied.text
    if needs_closed:
        with server.client("agent") as agent:
            assert (
                agent.post(f"/v1/tickets/{ticket}/status", json={"status": "closed"}).status_code
                == 200
            )
    if body is not None and "help_session" in body:  # a session is one person's
        body = {**body, "help_session": str(uuid.uuid4())}
    kwargs = {"json": body} if body is not None else {}
    northwind = server.tokens["accounts"]["northwind"]
    art = fresh_article(server) if "{art}" in route else ""
    acct = fresh_account(server) if "{acct}" in route else ""
    s = fresh_agent(server) if "{s}" in route else ""
    v = fresh_view(server) if "{v}" in route else ""
    m = fresh_macro(server) if "{m}" in route else ""
    f = fresh_field(server) if "{f}" in route or "custom_fields" in (body or {}) else ""
    if body is not None:  # a fresh word where a body needs one (an email, a group's name)
        u = uuid.uuid4().hex[:12]  # and {into}: a fresh ticket of the same requester's
        into = file_ticket(server)["number"] if "{into}" in body.values() else ""
        fresh = {
            k: v.replace("{u}", u).replace("{into}", into) if isinstance(v, str) else v
            for k, v in body.items()
        }
        if "custom_fields" in fresh:  # the cell's own field, by its key
            fresh["custom_fields"] = {f: "v"}
        kwargs = {"json": fresh}
    route = route.format(
        t=ticket, p=filed["position"], a=northwind, art=art, acct=acct, s=s, v=v, m=m, f=f
    )
    assert_cell(answer(server, role, route, **kwargs), expected)


# --- the contact form and its queue ------------------------------------------------------
# Each cell works on a fresh contact request sent from a client address of its own
# (X-Forwarded-For, trusted from 127.0.0.1), so the form's limits never decide a cell.
# A request to turn into a ticket comes from a paid member's address only in the cells
# where it should succeed: that address's own limit is small.

CONTACT_FORM = {"name": "N", "email": "x@nowhere.example", "subject": "s", "description": "d"}
CONTACT_MATRIX: dict[str, tuple[str, dict[str, Any] | None, list[int]]] = {
    "contact_form": ("POST /v1/contact", CONTACT_FORM, [202] * 9),
    "contact_queue": ("GET /v1/contact-requests", None, STAFF_ONLY),
    "contact_detail": ("GET /v1/contact-requests/{c}", None, STAFF_ONLY),
    "contact_answer": ("POST /v1/contact-requests/{c}/answer", {"body": "Answered."}, STAFF_ONLY),
    "contact_ticket": (
        "POST /v1/contact-requests/{c}/ticket",
        {"account_id": "{a}"},
        [403, 403, 403, 403, 201, 403, 403, 201, 401],
    ),
}


def contact_request(server: Server, email: str) -> str:
    """A fresh contact request's reference, once the agents' queue has it."""
    client = ".".join(str(b) for b in (10, *uuid.uuid4().bytes[:3]))
    with server.client() as anonymous:
        sent = anonymous.post(
            "/v1/contact",
            json={**CONTACT_FORM, "email": email},
            headers={"X-Forwarded-For": client},
        )
    assert sent.status_code == 202, sent.text
    reference: str = sent.json()["reference"]
    with server.client("agent") as agent:
        for _ in range(100):
            if agent.get(f"/v1/contact-requests/{reference}").status_code == 200:
                return reference
            time.sleep(0.1)
    raise AssertionError(f"{reference} never reached the contact queue")


@pytest.mark.parametrize(("endpoint", "role", "expected"), cells(CONTACT_MATRIX))
def test_contact_matrix_cell(
    server: Server, endpoint: str, role: str | None, expected: int
) -> None:
    route, body, _ = CONTACT_MATRIX[endpoint]
    succeeds = expected < 400
    email = "rita@northwind.example" if endpoint == "contact_ticket" and succeeds else None
    reference = contact_request(server, email or f"m-{uuid.uuid4().hex[:8]}@nowhere.example")
    northwind = server.tokens["accounts"]["northwind"]
    if body is not None:
        body = {k: v.format(a=northwind) if isinstance(v, str) else v for k, v in body.items()}
        if "email" in body:  # every cell's form from an address of its own
            body["email"] = f"f-{uuid.uuid4().hex[:8]}@nowhere.example"
    client_address = ".".join(str(b) for b in (10, *uuid.uuid4().bytes[:3]))
    kwargs: dict[str, Any] = {"headers": {"X-Forwarded-For": client_address}}
    if body is not None:
        kwargs["json"] = body
    assert_cell(answer(server, role, route.format(c=reference), **kwargs), expected)


# --- satisfaction surveys ----------------------------------------------------------------
# A survey link takes no token (the signed link is the proof): every caller is answered
# alike, on a fresh closing each. A member's preferences are their own, so each cell that
# turns surveys off turns them on again.

SURVEY_MATRIX: dict[str, tuple[str, dict[str, Any] | None, list[int]]] = {
    "survey_page": ("GET /v1/surveys/{token}?score=5", None, [200] * 9),
    "survey_answer": ("POST /v1/surveys/{token}", {"score": 5}, [200] * 9),
    "member_preferences": ("PATCH /v1/me/preferences", {"surveys": False},
                           [200, 200, 200, 200, 403, 403, 403, 403, 401]),
}  # fmt: skip


@pytest.mark.parametrize(("endpoint", "role", "expected"), cells(SURVEY_MATRIX))
def test_survey_matrix_cell(
    server: Server, endpoint: str, role: str | None, expected: int
) -> None:
    route, body, _ = SURVEY_MATRIX[endpoint]
    token = ""
    if "{token}" in route:
        surveys_on(server)
        filed = file_ticket(server)
        with server.client("agent") as agent:
            closed = agent.post(f"/v1/tickets/{filed['number']}/status", json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        token = token_for(server, filed["id"])
    if endpoint == "member_preferences" and role is not None and expected == 200:
        surveys_on(server, role)  # each cell turns them off from on
    kwargs = {"json": body} if body is not None else {}
    response = answer(server, role, route.format(token=token), **kwargs)
    if endpoint == "member_preferences" and response.status_code == 200:
        assert answer(server, role, route, json={"surveys": True}).status_code == 200
    assert_cell(response, expected)


def test_a_requester_of_another_account_can_never_reach_a_ticket_or_its_attachment(
    server: Server,
) -> None:
    with server.client("requester") as owner:
        upload = owner.post(
            "/v1/attachments", files={"file": ("log.txt", b"secret log", "text/plain")}
        )
        assert upload.status_code == 201
        attachment = upload.json()["id"]
        filed = owner.post(
            "/v1/tickets",
            json={"subject": "s", "description": "d", "attachments": [attachment]},
        ).json()
        assert owner.get(f"/v1/attachments/{attachment}").content == b"secret log"
    with server.client("requester_other_account") as stranger:
        for path in (
            f"/v1/tickets/{filed['number']}/messages",
            f"/v1/tickets/{filed['id']}/messages",
        ):
            assert stranger.post(path, json={"body": "hi"}).status_code == 404
        assert stranger.post(f"/v1/tickets/{filed['number']}/reopen").status_code == 404
        assert stranger.get(f"/v1/attachments/{attachment}").status_code == 404
    with server.client("team_admin") as admin:  # a colleague's file, once the ticket is seen
        download = admin.get(
            f"/v1/attachments/{attachment}", params={"min_position": filed["position"]}
        )
        assert download.status_code == 200
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-disposition"].startswith("attachment")


def test_uploads_of_unknown_types_or_over_the_limit_are_refused(server: Server) -> None:
    with server.client("requester") as c:
        exe = c.post(
            "/v1/attachments", files={"file": ("a.exe", b"MZ", "application/x-msdownload")}
        )
        assert exe.status_code == 415
        big = c.post(
            "/v1/attachments", files={"file": ("big.txt", b"x" * (11 * 1024 * 1024), "text/plain")}
        )
        assert big.status_code == 413
        assert (
            c.post(
                "/v1/tickets", json={"subject": "s", "description": "d", "attachments": ["f" * 64]}
            ).status_code
            == 422
        )


# --- API tokens (issue 16, item 7) ---------------------------------------------------------
# Each cell gets tokens of its own: "{own}" one the caller issued for themself (an admin's
# for the anonymous cell), "{other}" one an admin issued for the tier-2 agent, so no cell
# revokes a token another test uses.

TOKEN_MATRIX: dict[str, tuple[str, dict[str, Any] | None, list[int]]] = {
    "token_issue_own": ("POST /v1/tokens", {"name": "matrix"}, [201] * 8 + [401]),
    "token_issue_for_person": (
        "POST /v1/tokens",
        {"name": "matrix", "person_id": "{tier2}"},
        ADMIN_CREATES,
    ),
    "token_issue_mail_gateway": (
        "POST /v1/tokens",
        {"name": "matrix", "mail_gateway": True},
        ADMIN_CREATES,
    ),
    "token_list": ("GET /v1/tokens", None, SIGNED_IN),
    "token_revoke_own": ("DELETE /v1/tokens/{own}", None, [204] * 8 + [401]),
    "token_revoke_others": (
        "DELETE /v1/tokens/{other}",
        None,
        [404, 404, 404, 404, 404, 404, 404, 204, 401],
    ),
}


def issued_token_id(server: Server, role: str, **body: Any) -> str:
    with server.client(role) as c:
        made = c.post("/v1/tokens", json={"name": "matrix setup", **body})
    assert made.status_code == 201, made.text
    token_id: str = made.json()["id"]
    return token_id


@pytest.mark.parametrize(("endpoint", "role", "expected"), cells(TOKEN_MATRIX))
def test_token_role_matrix_cell(
    server: Server, endpoint: str, role: str | None, expected: int
) -> None:
    route, body, _ = TOKEN_MATRIX[endpoint]
    tier2 = str(uuid.uuid5(uuid.NAMESPACE_URL, "docket:demo:agent_tier2"))
    own = issued_token_id(server, role or "admin") if "{own}" in route else ""
    other = issued_token_id(server, "admin", person_id=tier2) if "{other}" in route else ""
    if body is not None:
        body = {k: v.format(tier2=tier2) if isinstance(v, str) else v for k, v in body.items()}
    kwargs = {"json": body} if body is not None else {}
    assert_cell(answer(server, role, route.format(own=own, other=other), **kwargs), expected)
