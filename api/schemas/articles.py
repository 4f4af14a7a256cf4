"""Help articles: managing them, suggestions while writing, recommendations, deflection."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import NO_CONTROL, AccountId, MinPosition, Strict, example
from domain.article import MAX_LABELS, SLUG_MAX_CHARS, TITLE_MAX_CHARS
from domain.vocabulary import BODY_MAX_BYTES, NAME_MAX_CHARS, Language

Label = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS)]


class ArticleRevision(Strict):
    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)
    body: str = Field(min_length=1, max_length=BODY_MAX_BYTES, description="Markdown.")
    language: Language
    products: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)
    topics: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)


class ArticleIn(ArticleRevision):
    model_config = example(
        title="Files stop syncing on your computer",
        body="Click the Files icon and choose **Resume sync**.",
        language="en",
        products=["Files"],
        topics=["sync"],
    )
    slug: str | None = Field(
        default=None,
        max_length=SLUG_MAX_CHARS,
        description="Defaults to the title, made URL-safe.",
    )


class ArticleReceiptOut(BaseModel):
    """What an article write answers."""

    id: str
    slug: str
    version: int
    position: int


class ArticleHeading(BaseModel):
    """What an article is, as the lists, the detail and a suggestion show it."""

    id: str
    slug: str
    title: str
    language: Language
    products: list[str]
    topics: list[str]


class ArticleQuery(Strict):
    language: Language | None = None
    product: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL)
    include_withdrawn: bool = Field(default=False, description="Admins only.")
    limit: int = Field(default=100, ge=1, le=500)
    min_position: MinPosition = None


class ArticleOut(ArticleHeading):
    withdrawn: bool
    version: int
    published_at: datetime
    updated_at: datetime
    read_count: int = Field(description="How many times the article was opened from help.")
    body: str | None = Field(default=None, description="Markdown; in the detail only.")


class ArticleList(BaseModel):
    articles: list[ArticleOut]


class SuggestQuery(Strict):
    q: str = Field(min_length=1, max_length=4000, description="The ticket being written.")
    product: str | None = Field(
        default=None, max_length=200, pattern=NO_CONTROL, description="Boosted, not a filter."
    )
    language: Language | None = Field(default=None, description="Only articles in it.")
    limit: int = Field(default=5, ge=1, le=20)
    help_session: UUID | None = Field(
        default=None, description="Keep the session of an earlier suggestion for this ticket."
    )


class Suggestion(ArticleHeading):
    snippet: str = Field(description="The body around the matched words, matches in <b>.")
    score: float
    product_match: bool


class Suggestions(BaseModel):
    help_session: UUID = Field(
        description="Send it with POST /v1/articles/{id}/opened and POST /v1/tickets."
    )
    articles: list[Suggestion]


class ArticleOpenedIn(Strict):
    help_session: UUID


class ArticleOpenedOut(BaseModel):
    help_session: UUID
    article_id: str
    position: int


class RecommendationQuery(Strict):
    language: Language | None = None
    limit: int = Field(default=10, ge=1, le=50)
    min_position: MinPosition = None


class Recommendation(ArticleOut):
    relevance: int = Field(description="2 per past ticket on a topic, 1 per one on a product.")


class Recommendations(BaseModel):
    account_id: str
    basis: Literal["past_tickets", "most_read"]
    articles: list[Recommendation]


class DeflectionQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    since: str | None = Field(
        default=None, alias="from", max_length=40, description="ISO date (UTC) or instant."
    )
    until: str | None = Field(
        default=None, alias="to", max_length=40, description="ISO date (inclusive) or instant."
    )
    account: list[AccountId] = Field(default_factory=list, max_length=50)
    min_position: MinPosition = None


class DeflectionOut(BaseModel):
    position: int
    sessions: int = Field(description="Help sessions started in the range (on record).")
    opened_article: int = Field(description="Sessions that opened at least one article.")
    filed_anyway: int = Field(description="Sessions that filed a ticket.")
    opened_then_filed: int = Field(description="Sessions that opened an article and filed.")
    deflected: int = Field(description="Sessions that opened an article and filed no ticket.")
    deflection_rate: float | None = Field(
        description="deflected / opened_article; null when no session opened an article."
    )
