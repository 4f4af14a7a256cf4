"""Team accounts over real HTTP: a Docket admin opens one and sells it seats and Premium;
its team admin adds members; the subscription is for its admins and billing admins only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.e2e.conftest import Server, if_match


def opened_account(server: Server, **fields: Any) -> str:
    body = {
        "name": "Fabrikam",
        "plan": "business",
        "seats": 2,
        "products": ["Files", "Dash"],
        **fields,
    }
    with server.client("admin") as admin:
        made = admin.post("/v1/accounts", json=body)
    assert made.status_code == 201, made.text
    account_id: str = made.json()["id"]
    return account_id


def test_members_beyond_the_seats_are_refused_with_what_to_do(server: Server) -> None:
    account = opened_account(server)
    with server.client("admin") as admin:
        for n in (1, 2):
            added = admin.post(
                f"/v1/accounts/{account}/members",
                json={"email": f"p{n}@fabrikam.example", "name": f"P{n}"},
            )
            assert added.status_code == 201, added.text
        full = admin.post(
            f"/v1/accounts/{account}/members", json={"email": "p3@fabrikam.example", "name": "P3"}
        )
        assert full.status_code == 409
        assert full.headers["content-type"] == "application/problem+json"
        assert full.json()["type"].endswith("seats-exhausted")
        assert "raise the seats" in full.json()["detail"]
        fewer = admin.post(f"/v1/accounts/{account}/seats", json={"seats": 1})
        assert fewer.status_code == 409
        more = admin.post(f"/v1/accounts/{account}/seats", json={"seats": 3})
        assert more.status_code == 200
        assert more.headers["etag"] == f'"{more.json()["version"]}"'


def test_a_team_admin_manages_the_members_of_their_account_only(server: Server) -> None:
    northwind = server.tokens["accounts"]["northwind"]
    contoso = server.tokens["accounts"]["contoso"]
    with server.client("team_admin") as tom:
        mine = tom.post(
            f"/v1/accounts/{northwind}/members",
            json={
                "email": "new@northwind.example",
                "name": "New",
                "language": "fr",
                "time_zone": "Europe/Paris",
            },
        )
        assert mine.status_code == 201, mine.text
        theirs = tom.post(
            f"/v1/accounts/{contoso}/members", json={"email": "x@contoso.example", "name": "X"}
        )
        assert theirs.status_code == 404
        assert tom.post(f"/v1/accounts/{northwind}/seats", json={"seats": 99}).status_code == 403


def test_the_subscription_is_shown_to_admins_and_billing_admins_only(server: Server) -> None:
    northwind = server.tokens["accounts"]["northwind"]
    with server.client("team_admin") as tom:
        shown = tom.get(f"/v1/accounts/{northwind}/subscription")
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["plan"] == "business" and body["seats"] >= body["seats_taken"] >= 2
        assert body["premium"]["Files"]["level"] == "enhanced"
    with server.client("requester") as plain:
        hidden = plain.get(f"/v1/accounts/{northwind}/subscription")
        assert hidden.status_code == 404
        assert hidden.headers["content-type"] == "application/problem+json"
        me = plain.get("/v1/me").json()
    with server.client("requester_other_account") as stranger:
        assert stranger.get(f"/v1/accounts/{northwind}/subscription").status_code == 404
    with server.client("admin") as admin:
        made = admin.put(
            f"/v1/accounts/{northwind}/members/{me['id']}/roles", json={"roles": ["billing_admin"]}
        )
        assert made.status_code == 200, made.text
        position = made.json()["position"]
    with server.client("requester") as payer:  # pays, sees the subscription, is no admin
        shown = payer.get(
            f"/v1/accounts/{northwind}/subscription", params={"min_position": position}
        )
        assert shown.status_code == 200, shown.text
        assert (
            payer.post(
                f"/v1/accounts/{northwind}/members",
                json={"email": "y@northwind.example", "name": "Y"},
            ).status_code
            == 403
        )
    with server.client("admin") as admin:
        back = admin.put(
            f"/v1/accounts/{northwind}/members/{me['id']}/roles", json={"roles": ["member"]}
        )
        assert back.status_code == 200


def test_premium_is_for_teams_of_ten_seats_and_ends_at_the_renewal_date(server: Server) -> None:
    renews = date.today() + timedelta(days=30)
    small = opened_account(server, seats=9, renewal_on=renews.isoformat())
    with server.client("admin") as admin:
        refused = admin.put(f"/v1/accounts/{small}/premium/Files", json={"level": "essentials"})
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("premium-not-available")
        assert admin.post(f"/v1/accounts/{small}/seats", json={"seats": 10}).status_code == 200
        added = admin.put(f"/v1/accounts/{small}/premium/Files", json={"level": "essentials"})
        assert added.status_code == 200, added.text
        removed = admin.delete(f"/v1/accounts/{small}/premium/Files")
        assert removed.status_code == 200, removed.text
        shown = admin.get(
            f"/v1/accounts/{small}/subscription",
            params={"min_position": removed.json()["position"]},
        ).json()
    until = shown["premium"]["Files"]["until"]
    assert until is not None and until.startswith(renews.isoformat())


def test_a_stale_if_match_changes_nothing_on_an_account(server: Server) -> None:
    account = opened_account(server)
    path, renamed = f"/v1/accounts/{account}/name", {"name": "Renamed"}
    with server.client("admin") as admin:
        stale = admin.post(path, json=renamed, headers=if_match(7))
        assert stale.status_code == 412
        fresh = admin.post(path, json=renamed, headers=if_match(1))
        assert fresh.status_code == 200, fresh.text


def test_a_team_admin_demoted_to_member_loses_the_admins_powers_on_the_next_request(
    server: Server,
) -> None:
    northwind = server.tokens["accounts"]["northwind"]
    with server.client("team_admin") as tom:
        tom_id = tom.get("/v1/me").json()["id"]
    with server.client("admin") as admin:
        demoted = admin.put(
            f"/v1/accounts/{northwind}/members/{tom_id}/roles", json={"roles": ["member"]}
        )
        assert demoted.status_code == 200, demoted.text
        seen = admin.get(
            f"/v1/accounts/{northwind}/subscription",
            params={"min_position": demoted.json()["position"]},
        )
        assert seen.status_code == 200
    try:
        with server.client("team_admin") as tom:
            assert tom.get("/v1/me").json()["role"] == "requester"
            refused = tom.post(
                f"/v1/accounts/{northwind}/members",
                json={"email": "z@northwind.example", "name": "Z"},
            )
            assert refused.status_code == 403
            assert tom.get("/v1/tickets", params={"scope": "team"}).status_code == 403
    finally:
        with server.client("admin") as admin:
            back = admin.put(
                f"/v1/accounts/{northwind}/members/{tom_id}/roles", json={"roles": ["admin"]}
            )
            assert back.status_code == 200
            admin.get(
                f"/v1/accounts/{northwind}/subscription",
                params={"min_position": back.json()["position"]},
            )


def test_a_control_character_in_a_product_or_group_is_refused_and_names_the_field(
    server: Server,
) -> None:
    account = opened_account(server, seats=10, products=[])
    with server.client("admin") as admin:
        bad = admin.put(f"/v1/accounts/{account}/premium/a%00b", json={"level": "enhanced"})
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"][0]["field"] == "product"
        team = admin.post(f"/v1/accounts/{account}/account-team", json={"group": "t\u0007x"})
        assert team.status_code == 422
