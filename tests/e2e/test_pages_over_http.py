"""The pages' HTTP rules, without a browser: sign-in links, session cookies, CSRF,
refusals as pages, compression."""

from __future__ import annotations

import re

import httpx

from bench.harness import sign_in_link
from tests.e2e.conftest import Server

HTML = {"Accept": "text/html"}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
"""A one-pixel PNG (the upload checks a file's bytes are of its type)."""


def link(server: Server, person: str = "requester") -> str:
    return sign_in_link(server, person)


def test_a_sign_in_link_signs_in_once_into_an_http_only_lax_session(server: Server) -> None:
    path = link(server)
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        shown = browser.get(path)
        assert shown.status_code == 200
        assert shown.headers["referrer-policy"] == "no-referrer"
        assert "docket_session" not in browser.cookies  # the GET spends nothing
        signed = browser.post(path)
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain http here; https public URLs set it
        home = browser.get("/")
        assert home.status_code == 200 and "Welcome, Rita Requester" in home.text
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as other:
        again = other.post(path)
        assert again.status_code == 410
        assert "docket_session" not in other.cookies


def test_asking_for_a_link_answers_alike_for_a_known_and_an_unknown_address(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        known = browser.post("/sign-in", data={"email": "tom@northwind.example"})
        unknown = browser.post("/sign-in", data={"email": "who@nowhere.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("tom@northwind.example", "X") == unknown.text.replace(
        "who@nowhere.example", "X"
    )


def test_a_post_without_the_csrf_token_is_refused_as_problem_json_or_a_page(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        browser.post(link(server))
        as_page = browser.post("/sign-out", data={})
        assert as_page.status_code == 403
        assert as_page.headers["content-type"].startswith("text/html")
        as_problem = browser.post("/sign-out", data={}, headers={"Accept": "application/json"})
        assert as_problem.status_code == 403
        assert as_problem.headers["content-type"].startswith("application/problem+json")
        assert as_problem.json()["type"].endswith("/csrf-refused")
        assert browser.get("/").status_code == 200  # still signed in


def test_a_page_is_not_found_as_a_page_and_the_api_as_problem_json(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        page = client.get("/no/such/page", headers=HTML)
        api = client.get("/v1/no/such/thing", headers=HTML)
    assert page.status_code == api.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert api.headers["content-type"].startswith("application/problem+json")


def test_pages_and_their_assets_are_compressed_and_the_api_is_not(server: Server) -> None:
    with httpx.Client(
        base_url=server.base_url, headers={"Accept-Encoding": "gzip"}, timeout=30
    ) as c:
        script = c.get("/static/vendor/htmx-2.0.7/htmx.min.js")
        api = c.get(
            "/v1/dashboard/summary",
            headers={"Authorization": f"Bearer {server.tokens['analyst']}"},
        )
    assert script.headers.get("content-encoding") == "gzip"
    assert api.status_code == 200 and "content-encoding" not in api.headers


def test_a_sign_in_posted_from_another_site_is_refused_and_spends_nothing(
    server: Server,
) -> None:
    path = link(server)
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        for sent_from in (
            {"Origin": "https://attacker.example"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            refused = browser.post(path, headers=sent_from)
            assert refused.status_code == 403, refused.text
            assert "docket_session" not in browser.cookies
        same_site = browser.post(
            path, headers={"Origin": server.base_url, "Sec-Fetch-Site": "same-origin"}
        )
        assert same_site.status_code == 303  # the link was not spent by the refusals


def test_signing_in_again_ends_the_session_the_browser_had(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        assert browser.post(link(server, "requester")).status_code == 303
        first = browser.cookies["docket_session"]
        assert browser.post(link(server, "team_admin")).status_code == 303
        assert "Welcome, Tom" in browser.get("/").text
        assert browser.cookies["docket_session"] != first
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as stale:
        stale.cookies.set("docket_session", first)
        again = stale.get("/support")
        assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


def test_a_billing_admins_home_leads_to_the_subscription_and_a_plain_members_does_not(
    server: Server,
) -> None:
    northwind = server.tokens["accounts"]["northwind"]
    people = {"Paul Payer": ["billing_admin"], "Mia Member": ["member"]}
    homes = {}
    for name, roles in people.items():
        email = name.split()[0].lower() + ".home@northwind.example"
        with server.client("admin") as admin:
            added = admin.post(
                f"/v1/accounts/{northwind}/members", json={"email": email, "name": name}
            )
            assert added.status_code == 201, added.text
            member = added.json()["member_id"]
            if roles != ["member"]:
                made = admin.put(
                    f"/v1/accounts/{northwind}/members/{member}/roles", json={"roles": roles}
                )
                assert made.status_code == 200, made.text
            last = made if roles != ["member"] else added
            seen = admin.get(  # the directory has read the member and their roles
                f"/v1/accounts/{northwind}/subscription",
                params={"min_position": last.json()["position"]},
            )
            assert seen.status_code == 200, seen.text
        with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
            path = sign_in_link(server, member, name=name, email=email)
            assert browser.post(path).status_code == 303
            homes[name] = browser.get("/").text
            if "billing_admin" in roles:
                assert browser.get("/support/subscription").status_code == 200
    assert 'href="/support/subscription"' in homes["Paul Payer"]
    assert 'href="/support/subscription"' not in homes["Mia Member"]


def test_a_file_of_a_type_docket_does_not_take_is_filed_from_the_portal_as_a_download(
    server: Server,
) -> None:
    """A browser names a log file ``text/x-log`` and a person cannot change it: the portal
    keeps it as ``application/octet-stream`` instead of refusing the whole filing."""
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        assert browser.post(link(server)).status_code == 303
        form = browser.get("/support/new").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        filed = browser.post(
            "/support/new",
            data={"csrf": csrf.group(1), "subject": "Sync log", "description": "Attached.",
                  "type": "bug", "priority": "normal", "product": "Files"},
            files=[("files", ("sync.log", b"E42 sync stopped", "text/x-log")),
                   ("files", ("shot.png", PNG, "image/png"))],
        )  # fmt: skip
        assert filed.status_code == 303, filed.text
        number = filed.headers["location"].split("/support/tickets/")[1].split("?")[0]
    with server.client("requester") as rita:
        files = rita.get(f"/v1/tickets/{number}").json()["attachments"]
    assert {(f["filename"], f["content_type"]) for f in files} == {
        ("sync.log", "application/octet-stream"),
        ("shot.png", "image/png"),
    }


def test_my_tickets_take_the_dates_typed_without_choosing_a_range_first(server: Server) -> None:
    with server.client("requester") as rita:
        filed = rita.post(
            "/v1/tickets", json={"subject": "Dated", "description": "Today.", "type": "bug"}
        ).json()
    with httpx.Client(base_url=server.base_url, headers=HTML, timeout=30) as browser:
        assert browser.post(link(server)).status_code == 303
        at = filed["position"]
        past = browser.get(f"/support?tab=all&created=&created_from=2001-01-01"
                           f"&created_to=2001-01-31&at={at}")  # fmt: skip
        assert past.status_code == 200 and filed["number"] not in past.text
        today = browser.get(f"/support?tab=all&created=&created_from=2001-01-01&at={at}")
        assert filed["number"] in today.text
        backwards = browser.get("/support?tab=all&created_from=2001-02-01&created_to=2001-01-01")
        assert backwards.status_code == 422
        assert "on or before" in backwards.text
