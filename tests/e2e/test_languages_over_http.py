"""Problem details over HTTP in the reader's language: the person's own (their token's),
else the request's ``Accept-Language``, else English; ``Content-Language`` says which."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import Server, new_northwind_member

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}


def test_a_caller_with_no_language_of_their_own_is_answered_in_the_one_they_prefer(
    server: Server,
) -> None:
    with server.client("mail_gateway") as gateway:  # a program: no person, no language
        french = gateway.get("/v1/inbox", headers=FRENCH)
        english = gateway.get("/v1/inbox")
    assert french.status_code == english.status_code == 403
    assert french.json()["type"] == english.json()["type"]
    assert french.json()["type"].endswith("/role-not-allowed")
    assert french.headers["content-language"] == "fr"
    assert french.json()["title"] == "Interdit"
    assert french.json()["detail"].startswith("Le rôle mail_gateway ne permet pas de faire cela")
    assert english.headers["content-language"] == "en"
    assert english.json()["detail"].startswith("The mail_gateway role cannot do this")


def test_a_persons_own_language_is_chosen_over_the_one_the_request_prefers(
    server: Server,
) -> None:
    with server.client("requester") as c:  # the demo requester reads Docket in English
        refused = c.get("/v1/tickets/T-999999", headers=FRENCH)
    assert refused.status_code == 404
    assert refused.headers["content-language"] == "en"
    assert refused.json()["detail"].startswith("No ticket T-999999 that you can see")


def test_a_request_without_a_token_is_refused_in_its_language(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        french = c.get("/v1/me", headers={"Accept-Language": "fr"})
        english = c.get("/v1/me", headers={"Accept-Language": "de, en;q=0.5"})
    assert french.status_code == english.status_code == 401
    assert french.json()["detail"] == (
        "Envoyez votre jeton d'API sous la forme 'Authorization: Bearer <jeton>'."
    )
    assert english.json()["detail"] == "Send your API token as 'Authorization: Bearer <token>'."


def test_a_request_that_does_not_validate_names_its_fields_in_french(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:  # the contact form
        refused = c.post(
            "/v1/contact",
            json={"name": "A", "email": "a@b.example", "description": "x"},
            headers=FRENCH,
        )
        too_long = c.post(
            "/v1/contact",
            json={"name": "A", "email": "a@b.example", "subject": "s" * 5000, "description": "x"},
            headers=FRENCH,
        )
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"].endswith("/invalid-request")
    assert body["errors"][0] == {"field": "subject", "message": "ce champ est obligatoire"}
    assert body["detail"] == (
        "subject : ce champ est obligatoire. Corrigez la requête et renvoyez-la."
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "subject"
    assert too_long.json()["errors"][0]["message"].startswith("ceci doit compter au plus")


def test_a_route_or_method_that_is_not_there_is_said_in_french(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        nowhere = c.get("/v1/nowhere", headers=FRENCH)
        wrong_method = c.put("/v1/me", headers=FRENCH)
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"].startswith("Il n'y a rien à cette adresse")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["title"] == "Méthode non autorisée"
    assert wrong_method.headers["content-language"] == "fr"


def french_member_token(server: Server) -> str:
    email = f"amelie.{time.monotonic_ns()}@northwind.example"
    added = new_northwind_member(server, email, "Amélie", language="fr", time_zone="Europe/Paris")
    with server.client("admin") as admin:
        issued = admin.post(
            "/v1/tokens",
            params={"min_position": added["position"]},
            json={"name": "amélie", "person_id": added["member_id"]},
        )
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["token"]
    return token


def test_a_french_member_is_answered_in_french_whatever_the_request_prefers(
    server: Server,
) -> None:
    token = french_member_token(server)
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as amelie:
        plain = amelie.get("/v1/tickets/T-999999")
        asking_english = amelie.get("/v1/tickets/T-999999", headers={"Accept-Language": "en"})
        not_allowed = amelie.get("/v1/inbox")
        closed = amelie.post(
            "/v1/tickets", json={"subject": "x", "description": "y", "type": "nonsense"}
        )
    for answer in (plain, asking_english, not_allowed, closed):
        assert answer.headers["content-language"] == "fr", answer.text
    assert plain.json()["detail"].startswith("Aucun ticket T-999999 que vous puissiez voir")
    assert asking_english.json()["detail"] == plain.json()["detail"]
    assert not_allowed.status_code == 403
    assert closed.status_code == 422
    assert closed.json()["errors"][0]["field"] == "type"
    assert closed.json()["errors"][0]["message"].startswith("ceci doit valoir l'un de")


def test_an_english_member_without_accept_language_is_answered_in_english(
    server: Server,
) -> None:
    with server.client("requester") as c:
        refused = c.post("/v1/tickets", json={"description": "x", "type": "bug"})
    assert refused.headers["content-language"] == "en"
    assert refused.json()["errors"][0]["message"] == "this field is required"
