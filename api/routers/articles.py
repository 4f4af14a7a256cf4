"""Help articles: managed by admins, suggested while a ticket is written, recommended to
an account, and the deflection figures those suggestions earn.

Three routers, one resource: ``/v1/articles``, an account's recommendations under
``/v1/accounts`` and the deflection dashboard under ``/v1/dashboard``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.answers import bad_query, read_problems
from api.deps import CorrelationId, CurrentPrincipal, RuntimeDep, allowed, stamp_for
from api.problems import Problem, responses
from api.routers.dashboard import instant
from api.schemas.articles import (
    ArticleIn,
    ArticleList,
    ArticleOpenedIn,
    ArticleOpenedOut,
    ArticleOut,
    ArticleQuery,
    ArticleReceiptOut,
    ArticleRevision,
    DeflectionOut,
    DeflectionQuery,
    Recommendation,
    RecommendationQuery,
    Recommendations,
    Suggestion,
    Suggestions,
    SuggestQuery,
)
from desk.access import Principal
from desk.answers import ArticleReceipt
from domain.article import SLUG, ArticleContent, article_id_for
from domain.errors import NothingChanged
from domain.messages import Msg

router = APIRouter(prefix="/v1/articles", tags=["articles"])
accounts_router = APIRouter(prefix="/v1/accounts", tags=["articles"])
dashboard_router = APIRouter(prefix="/v1/dashboard", tags=["dashboard"])

PROBLEMS = responses(
    {
        404: "No such article (or help session) for the caller",
        409: "The article was withdrawn, or its slug is taken",
        422: "Invalid field",
    },
    waits_for="articles view",
)


def article_ref(ref: str) -> UUID:
    """An article by its id or its slug; anything else names no article."""
    try:
        return UUID(ref)
    except ValueError:
        if len(ref) <= 100 and SLUG.match(ref):
            return article_id_for(ref)
    raise Problem(404, "unknown-article", Msg("No article {ref!r}.", ref=ref[:100]))


def receipt(found: ArticleReceipt, status: int = 200) -> JSONResponse:
    body = ArticleReceiptOut(
        id=str(found.article_id), slug=found.slug, version=found.version, position=found.position
    )
    return JSONResponse(
        body.model_dump(),
        status_code=status,
        headers={"Location": f"/v1/articles/{found.article_id}", "ETag": f'"{found.version}"'},
    )


def article_out(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": str(row["article_id"]),
        **{k: row[k] for k in ArticleOut.model_fields if k in row and k != "id"},
        **extra,
    }


# --- managing ----------------------------------------------------------------------------------


@router.post("", status_code=201, response_model=ArticleReceiptOut, responses=PROBLEMS)
def publish_article(
    article: ArticleIn, who: CurrentPrincipal, runtime: RuntimeDep, correlation: CorrelationId
) -> JSONResponse:
    """Publish an article; its slug (from the title unless given) must be new."""
    allowed(who, "manage_articles")
    found = runtime.desk.publish_article(
        content=article_content(article),
        slug=article.slug,
        stamp=stamp_for(who, correlation, None),
    )
    return receipt(found, 201)


@router.put("/{article_id}", response_model=ArticleReceiptOut, responses=PROBLEMS)
def revise_article(
    article_id: str,
    article: ArticleRevision,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    correlation: CorrelationId,
) -> JSONResponse:
    """Replace an article's content; the same content again changes nothing (and says so
    with position 0)."""
    allowed(who, "manage_articles")
    ref = article_ref(article_id)
    try:
        found = runtime.desk.revise_article(
            ref, content=article_content(article), stamp=stamp_for(who, correlation, None)
        )
    except NothingChanged:
        found = runtime.desk.article_receipt(ref)
    return receipt(found)


@router.delete("/{article_id}", response_model=ArticleReceiptOut, responses=PROBLEMS)
def withdraw_article(
    article_id: str, who: CurrentPrincipal, runtime: RuntimeDep, correlation: CorrelationId
) -> JSONResponse:
    """Withdraw an article: it is no longer listed, suggested, recommended or opened."""
    allowed(who, "manage_articles")
    found = runtime.desk.withdraw_article(
        article_ref(article_id), stamp=stamp_for(who, correlation, None)
    )
    return receipt(found)


# --- reading -----------------------------------------------------------------------------------


@router.get("", response_model=ArticleList, responses=PROBLEMS)
def list_articles(
    query: Annotated[ArticleQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> ArticleList:
    """Published articles by title, in one language or about one product if asked."""
    allowed(who, "read_articles")
    if query.include_withdrawn and who.role != "admin":
        raise Problem(403, "role-not-allowed", Msg("Only admins list withdrawn articles."))
    with read_problems():
        rows = runtime.reads.article_list(
            language=query.language, product=query.product,
            with_withdrawn=query.include_withdrawn, limit=query.limit,
            min_position=query.min_position,
        )  # fmt: skip
    return ArticleList(articles=[ArticleOut(**article_out(r)) for r in rows])


@router.get("/suggest", response_model=Suggestions, responses=PROBLEMS)
def suggest_articles(
    query: Annotated[SuggestQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> Suggestions:
    """The articles that may answer the ticket being written (``q``), best first.

    Full-text search in each article's own language, on any of the text's words,
    ranked by cover density; articles about ``product`` are boosted. Answers a help
    session id to send back when an article is opened and when the ticket is filed.
    """
    allowed(who, "read_articles")
    rows = runtime.reads.suggest_articles(
        query.q, product=query.product, language=query.language, limit=query.limit
    )
    suggestions = [
        Suggestion(
            id=str(r["article_id"]),
            score=round(float(r["score"]), 6),
            **{k: r[k] for k in Suggestion.model_fields if k not in ("id", "score")},
        )
        for r in rows
    ]
    return Suggestions(help_session=query.help_session or uuid4(), articles=suggestions)


@router.get("/{article_id}", response_model=ArticleOut, responses=PROBLEMS)
def read_article(
    article_id: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> ArticleOut:
    allowed(who, "read_articles")
    ref = article_ref(article_id)
    with read_problems():
        row = runtime.reads.article(ref, min_position)
    if row is None or (row["withdrawn"] and who.role != "admin"):
        raise Problem(
            404, "unknown-article", Msg("No article {article_id!r}.", article_id=article_id[:100])
        )
    return ArticleOut(**article_out(row))


@router.post("/{article_id}/opened", response_model=ArticleOpenedOut, responses=PROBLEMS)
def article_opened(
    article_id: str,
    opened: ArticleOpenedIn,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    correlation: CorrelationId,
) -> ArticleOpenedOut:
    """Record that the caller opened a suggested article in their help session."""
    allowed(who, "open_article")
    account_id = customer_account(who)
    position = runtime.desk.open_article(
        opened.help_session, article_id=article_ref(article_id), person_id=who.id,
        account_id=str(account_id), stamp=stamp_for(who, correlation, None),
    )  # fmt: skip
    return ArticleOpenedOut(
        help_session=opened.help_session, article_id=str(article_ref(article_id)),
        position=position,
    )  # fmt: skip


def customer_account(who: Principal) -> UUID:
    if who.account_id is None:
        raise Problem(403, "not-a-member", Msg("Only members of a customer account do this."))
    return who.account_id


ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


# --- an account's recommendations --------------------------------------------------------------


@accounts_router.get(
    "/{account}/recommendations", response_model=Recommendations, responses=PROBLEMS
)
def account_recommendations(
    account: str,
    query: Annotated[RecommendationQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
) -> Recommendations:
    """Articles related to the account's past tickets (topics, products), most useful
    first; the most read articles when none relate."""
    allowed(who, "account_recommendations")
    unknown = Problem(
        404,
        "unknown-account",
        Msg("No account {account!r} that you belong to.", account=account[:64]),
    )
    if not who.is_staff and str(who.account_id) != account:
        raise unknown
    if not ACCOUNT_ID.fullmatch(account):  # no account has such an id (a NUL, say)
        raise unknown
    with read_problems():
        found = runtime.reads.recommendations(
            account[:64], language=query.language, limit=query.limit,
            min_position=query.min_position,
        )  # fmt: skip
    if found is None:
        raise unknown
    basis, rows = found
    return Recommendations(
        account_id=account,
        basis=basis,  # type: ignore[arg-type]
        articles=[Recommendation(**article_out(r, relevance=int(r["relevance"]))) for r in rows],
    )


# --- deflection --------------------------------------------------------------------------------


@dashboard_router.get("/deflection", response_model=DeflectionOut, responses=PROBLEMS)
def deflection(
    query: Annotated[DeflectionQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> DeflectionOut:
    """Help sessions started in the range: how many opened an article, how many filed a
    ticket anyway, and the deflection rate = sessions that opened an article and filed no
    ticket / sessions that opened an article."""
    allowed(who, "deflection")
    since = instant("from", query.since, end=False) if query.since else None
    before = instant("to", query.until, end=True) if query.until else None
    if since is not None and before is not None and since >= before:
        raise bad_query("from", Msg("from must come before to."))
    with read_problems():
        figures, position = runtime.reads.deflection(
            since=since, before=before, account_ids=tuple(query.account),
            min_position=query.min_position,
        )  # fmt: skip
    rate = figures.rate
    return DeflectionOut(
        position=position,
        deflection_rate=None if rate is None else round(rate, 4),
        **dataclasses.asdict(figures),
    )


def article_content(article: ArticleRevision) -> ArticleContent:
    return ArticleContent(
        article.title, article.body, article.language, article.products, article.topics
    )
