"""Files over HTTP, as an outsider would try them: bytes that are not their type, empty
files, names that are paths, the same bytes from two accounts, one file on two tickets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import Server, created

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def upload(client: httpx.Client, name: str, data: bytes, kind: str) -> httpx.Response:
    return client.post("/v1/attachments", files={"file": (name, data, kind)})


def file_with(client: httpx.Client, *ids: str) -> dict[str, Any]:
    body = {"subject": "See file", "description": "d", "attachments": list(ids)}
    return created(client.post("/v1/tickets", json=body))


def test_bytes_that_are_no_png_are_refused_as_a_png_naming_the_file_and_what_they_are(
    server: Server,
) -> None:
    with server.client("requester") as rita:
        refused = upload(rita, "screen.png", b"<html><script>alert(1)</script>", "image/png")
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/attachment-content-mismatch")
    assert (problem["filename"], problem["found"]) == ("screen.png", "HTML")
    assert "screen.png" in problem["detail"] and "HTML" in problem["detail"]


def test_an_empty_file_or_a_type_a_browser_runs_is_refused(server: Server) -> None:
    with server.client("requester") as rita:
        empty = upload(rita, "empty.txt", b"", "text/plain")
        svg = upload(rita, "logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    assert (empty.status_code, empty.json()["type"].rpartition("/")[2]) == (
        422,
        "empty-attachment",
    )
    assert (svg.status_code, svg.json()["type"].rpartition("/")[2]) == (
        415, "unsupported-attachment-type",
    )  # fmt: skip


def test_a_path_for_a_name_is_kept_as_its_clean_base_name_and_the_download_is_named_by_it(
    server: Server,
) -> None:
    with server.client("requester") as rita:
        passwd = upload(rita, "../../../etc/passwd", b"root:x:0:0\n", "text/plain").json()
        accented = rita.post(  # the name as a form field: a client sends it as typed
            "/v1/attachments",
            files={"file": ("x", b"cv\n", "text/plain")},
            data={"filename": 'C:\\tmp\\r\u00e9sum\u00e9 \u202e"final".txt'},
        ).json()
        assert (passwd["filename"], accented["filename"]) == ("passwd", 'résumé "final".txt')
        filed = file_with(rita, passwd["id"], accented["id"])
        detail = rita.get(f"/v1/tickets/{filed['id']}", params={"min_position": filed["position"]})
        names = sorted(f["filename"] for f in detail.json()["attachments"])
        assert names == ["passwd", 'résumé "final".txt']
        plain = rita.get(f"/v1/attachments/{passwd['id']}")
        fancy = rita.get(f"/v1/attachments/{accented['id']}")
    assert plain.content == b"root:x:0:0\n"
    assert plain.headers["content-disposition"] == (
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    )
    assert fancy.headers["content-disposition"] == (
        'attachment; filename="r_sum_ _final_.txt"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt"
    )
    for download in (plain, fancy):
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_the_same_bytes_from_two_accounts_show_each_uploader_only_their_own_name_and_type(
    server: Server,
) -> None:
    secret = f"payroll {uuid.uuid4()}\n".encode()
    with server.client("requester") as rita:
        hers = upload(rita, "payroll.csv", secret, "text/csv").json()
        filed = file_with(rita, hers["id"])
    with server.client("requester_other_account") as carl:
        his = upload(carl, "guess.txt", secret, "text/plain").json()
        assert his["id"] != hers["id"]
        assert (his["filename"], his["content_type"]) == ("guess.txt", "text/plain")
        own = file_with(carl, his["id"])
        wait = {"min_position": own["position"]}
        listed = carl.get(f"/v1/tickets/{own['id']}", params=wait).json()["attachments"]
        assert [(f["filename"], f["content_type"]) for f in listed] == [
            ("guess.txt", "text/plain")
        ]
        assert carl.get(f"/v1/attachments/{hers['id']}", params=wait).status_code == 404
        refused = carl.post(
            "/v1/tickets", json={"subject": "s", "description": "d", "attachments": [hers["id"]]}
        )
        assert refused.status_code == 422
        assert refused.json()["type"].endswith("/unknown-attachment")
        download = carl.get(f"/v1/attachments/{his['id']}")
        assert download.headers["content-type"].startswith("text/plain")
    with server.client("requester") as rita:
        mine = rita.get(f"/v1/tickets/{filed['id']}", params=wait).json()["attachments"]
    assert [(f["filename"], f["content_type"]) for f in mine] == [("payroll.csv", "text/csv")]


def test_a_file_on_two_tickets_stays_downloadable_by_everyone_who_may_see_either(
    server: Server,
) -> None:
    """Tom (team admin) puts one screenshot on Rita's ticket, then on a ticket of his own:
    Rita, who sees only hers, still downloads it; Carl, of another account, never does."""
    with server.client("requester") as rita:
        ritas = file_with(rita)
    with server.client("team_admin") as tom:
        shot = upload(tom, "screen.png", PNG, "image/png").json()
        replied = tom.post(f"/v1/tickets/{ritas['id']}/messages",
                           json={"body": "Same here", "attachments": [shot["id"]]})  # fmt: skip
        assert replied.status_code == 200, replied.text
        toms = file_with(tom, shot["id"])
    wait = {"min_position": max(toms["position"], replied.json()["position"])}
    with server.client("requester") as rita:
        download = rita.get(f"/v1/attachments/{shot['id']}", params=wait)
        assert rita.get(f"/v1/tickets/{toms['id']}", params=wait).status_code == 404
    assert (download.status_code, download.content) == (200, PNG)
    assert download.headers["content-type"] == "image/png"
    with server.client("agent") as agent:
        assert agent.get(f"/v1/attachments/{shot['id']}", params=wait).status_code == 200
    with server.client("requester_other_account") as carl:
        assert carl.get(f"/v1/attachments/{shot['id']}", params=wait).status_code == 404
