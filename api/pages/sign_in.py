"""Signing in with an emailed link, and out; the language of a visitor not signed in.

``POST /sign-in`` answers the same page whether or not the address is known: "if it is
one of ours, a link is on its way". The link (``/sign-in/<secret>``) opens a page with a
button rather than signing in on the GET, so a mail scanner that follows links does not
spend it. The button's POST spends it (once: ``store/sign_in.py``) and starts a session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import RuntimeDep
from api.pages.templating import page
from api.pages.visitors import (
    LANGUAGE_COOKIE,
    LIFETIME,
    SESSION_COOKIE,
    SignedIn,
    VisitorDep,
)
from api.problems import Problem
from api.runtime import Runtime
from desk.access import person_principal
from domain.messages import Msg
from domain.vocabulary import LANGUAGES
from projections import directory
from projections.kit import Tables
from store.sign_in import LINK_LIFETIME

router = APIRouter(include_in_schema=False)

EMAIL_MAX_CHARS = 320


def same_site_path(target: str | None) -> str:
    """Where to go next: a path on this site only (never ``//other.example`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


@router.get("/sign-in")
def sign_in_form(request: Request, visitor: VisitorDep, next: str = "/") -> Response:
    if visitor.principal is not None:
        return RedirectResponse(same_site_path(next), status_code=303)
    return page(request, visitor, "sign_in.html", {"next": same_site_path(next), "error": None})


@router.post("/sign-in")
def ask_for_link(
    request: Request,
    runtime: RuntimeDep,
    visitor: VisitorDep,
    email: Annotated[str, Form(max_length=EMAIL_MAX_CHARS)] = "",
) -> Response:
    address = email.strip()
    if "@" not in address or "\x00" in address or any(c.isspace() for c in address):
        error = Msg("Type the email address you use with Docket Support, such as ana@example.com.")
        context = {"next": "/", "error": error, "email": address}
        return page(request, visitor, "sign_in.html", context, status_code=422)
    links_for(runtime, address, visitor.language)
    return page(request, visitor, "sign_in_sent.html", {"email": address})


def links_for(
    runtime: Runtime,
    address: str,
    language: str,
    *,
    mailed: bool = True,
    lifetime: timedelta = LINK_LIFETIME,
) -> list[tuple[dict[str, Any], str | None]]:
    """A sign-in link for each person the directory knows at ``address``, in their own
    language (else ``language``): mailed, or (``mailed=False``, the operator's command)
    handed back to print. Each person with their link's secret (``None``: held back, the
    address had its share this hour)."""
    with runtime.pool.connection() as conn:
        people = directory.signing_in(conn, Tables(runtime.settings.schema_name), address)
    return [
        (
            person,
            runtime.sign_ins.ask(
                person_id=str(person["person_id"]),
                email=str(person["email"]),
                name=str(person["name"]),
                language=person["language"] if person["language"] in LANGUAGES else language,
                time_zone=person["time_zone"],
                mailed=mailed,
                lifetime=lifetime,
            ),
        )
        for person in people
    ]


@router.get("/sign-in/{secret}")
def sign_in_link(
    request: Request, runtime: RuntimeDep, visitor: VisitorDep, secret: str
) -> Response:
    usable = runtime.sign_ins.usable(secret)
    response = page(
        request,
        visitor,
        "sign_in_link.html",
        {"secret": secret, "usable": usable},
        status_code=200 if usable else 410,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a secret
    return response


@router.post("/sign-in/{secret}")
def use_link(request: Request, runtime: RuntimeDep, visitor: VisitorDep, secret: str) -> Response:
    if cross_site(request, runtime.settings.public_url):
        # another site posting a link of its own would sign the visitor in as someone else
        raise Problem(
            403,
            "cross-site-sign-in",
            Msg(
                "This sign-in was sent from another site, so it was refused and the link is "
                "unspent; open the link from your email again."
            ),
        )
    person_id = runtime.sign_ins.use(secret)
    person = None
    if person_id is not None:
        with runtime.pool.connection() as conn:
            person = directory.person(conn, Tables(runtime.settings.schema_name), person_id)
    if person is None:
        spent = page(
            request, visitor, "sign_in_link.html", {"secret": "", "usable": False}, status_code=410
        )
        spent.headers["Referrer-Policy"] = "no-referrer"
        return spent
    principal = person_principal(
        str(person["person_id"]), str(person["name"]), str(person["role"]), person["account_id"]
    )
    if visitor.session:  # signing in again, perhaps as someone else: the old session ends
        runtime.tokens.end(visitor.session)
    session = runtime.tokens.issue(
        principal, name="browser session", kind="session", expires_at=datetime.now(UTC) + LIFETIME
    ).token
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request, runtime.settings.public_url),
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, runtime: RuntimeDep, visitor: SignedIn) -> Response:
    if visitor.session:
        runtime.tokens.end(visitor.session)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{language}")
def choose_language(
    request: Request, visitor: VisitorDep, language: str, next: str = "/"
) -> Response:
    """The language of the pages for a visitor not signed in (a signed-in person sets
    theirs in the settings)."""
    response = RedirectResponse(same_site_path(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, path="/", samesite="lax"
        )
    return response


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site(request: Request, public_url: str) -> bool:
    """Whether a browser says the request comes from another site: its ``Sec-Fetch-Site``,
    else its ``Origin`` naming neither this server nor its public URL. A request that says
    neither (a program, an old browser) is taken as it comes."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = {origin_of(str(request.base_url)), origin_of(public_url)}
    return origin.lower() not in own


def secure(request: Request, public_url: str) -> bool:
    """Whether cookies are sent over HTTPS only: when Docket is reached over HTTPS (its
    public URL, or this request)."""
    return public_url.startswith("https://") or request.url.scheme == "https"
