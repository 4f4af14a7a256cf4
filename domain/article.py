"""Help articles, and the help session a person goes through before filing a ticket.

A :class:`HelpArticle` is a page of the knowledge base: published, revised,
withdrawn. Its id follows from its slug (:func:`article_id_for`), so a slug is
taken once, whether the article came from the API or from a Markdown file.

A :class:`HelpSession` is one person's deflection step while writing a ticket:
the client asks for suggestions, opens some, and then either goes away (the
ticket was deflected) or files the ticket anyway. The session is put on record
by its first fact; a session nobody acted on leaves no trace.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import ArticleWithdrawn, InvalidField, NothingChanged, UnknownHelpSession
from domain.messages import Msg
from domain.stamp import Stamp
from domain.vocabulary import (
    BODY_MAX_BYTES,
    LANGUAGES,
    NAME_MAX_CHARS,
    checked_choice,
    checked_text,
)

SEARCH_CONFIGS = {"en": "english", "fr": "french"}
"""The PostgreSQL text search configuration each language is indexed and queried with."""
TITLE_MAX_CHARS = 200
SLUG_MAX_CHARS = 100
MAX_LABELS = 20
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slug_from(text: str) -> str:
    """``"Les fichiers ne se synchronisent plus"`` → ``les-fichiers-ne-se-synchronisent-plus``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:SLUG_MAX_CHARS].strip("-")


def article_id_for(slug: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"docket:article:{slug}")


def checked_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > SLUG_MAX_CHARS:
        raise InvalidField(
            "slug",
            Msg(
                "slug is lower-case letters, digits and single hyphens, at most "
                "{SLUG_MAX_CHARS} characters; got {slug!r}.",
                SLUG_MAX_CHARS=SLUG_MAX_CHARS,
                slug=slug,
            ),
        )
    return slug


def checked_labels(field: str, values: list[str]) -> list[str]:
    """Products or topics: distinct non-blank names, in the order given."""
    if not isinstance(values, list) or len(values) > MAX_LABELS:
        raise InvalidField(
            field,
            Msg(
                "{field} is a list of at most {MAX_LABELS} names.",
                field=field,
                MAX_LABELS=MAX_LABELS,
            ),
        )
    seen: list[str] = []
    for value in values:
        checked_text(field, value, max_chars=NAME_MAX_CHARS)
        if value.strip() not in seen:
            seen.append(value.strip())
    return seen


class HelpArticle(ChainedAggregate):
    """A knowledge-base article in one language, about some products and topics."""

    class Published(ChainedAggregate.Created):
        title: str
        body: str
        language: str
        products: list[str]
        topics: list[str]
        slug: str

    class Revised(ChainedAggregate.Event):
        title: str
        body: str
        language: str
        products: list[str]
        topics: list[str]

    class Withdrawn(ChainedAggregate.Event):
        pass

    @classmethod
    def publish(
        cls, *, content: ArticleContent, stamp: Stamp, slug: str | None = None
    ) -> HelpArticle:
        c = checked_content(content)
        slug = checked_slug(slug if slug is not None else slug_from(c.title))
        # the event's fields are the content's, in the content's order
        return cls(id=article_id_for(slug), **asdict(c), slug=slug, stamp=stamp)

    @event(Published)
    def __init__(
        self,
        id: UUID,
        title: str,
        body: str,
        language: str,
        products: list[str],
        topics: list[str],
        slug: str,
        stamp: Stamp,
    ) -> None:
        self.slug = slug
        self.content = ArticleContent(title, body, language, list(products), list(topics))
        """What the article says now, and for which products and topics."""
        self.withdrawn = False

    def revise(self, *, content: ArticleContent, stamp: Stamp) -> None:
        self.check_not_withdrawn()
        c = checked_content(content)
        if c == self.content:
            raise NothingChanged(Msg("Article {slug} already reads that way.", slug=self.slug))
        self._revised(**asdict(c), stamp=stamp)

    @event(Revised)
    def _revised(
        self,
        title: str,
        body: str,
        language: str,
        products: list[str],
        topics: list[str],
        stamp: Stamp,
    ) -> None:
        self.content = ArticleContent(title, body, language, list(products), list(topics))

    def withdraw(self, *, stamp: Stamp) -> None:
        self.check_not_withdrawn()
        self._withdrawn(stamp=stamp)

    @event(Withdrawn)
    def _withdrawn(self, stamp: Stamp) -> None:
        self.withdrawn = True

    def check_not_withdrawn(self) -> None:
        if self.withdrawn:
            raise ArticleWithdrawn(Msg("Article {slug} was withdrawn.", slug=self.slug))


@dataclass(frozen=True)
class ArticleContent:
    """What an article says, and for which products and topics."""

    title: str
    body: str
    language: str
    products: list[str]
    topics: list[str]


def checked_content(content: ArticleContent) -> ArticleContent:
    return ArticleContent(
        title=checked_text("title", content.title, max_chars=TITLE_MAX_CHARS).strip(),
        body=checked_text("body", content.body, max_bytes=BODY_MAX_BYTES),
        language=checked_choice("language", content.language, LANGUAGES),
        products=checked_labels("products", content.products),
        topics=checked_labels("topics", content.topics),
    )


class HelpSession(ChainedAggregate):
    """One person's look at help articles while writing a ticket."""

    class Started(ChainedAggregate.Created):
        person_id: str
        account_id: str

    class ArticleOpened(ChainedAggregate.Event):
        article_id: str
        person_id: str
        account_id: str

    class TicketFiledAnyway(ChainedAggregate.Event):
        ticket_id: str
        number: str

    @classmethod
    def start(
        cls, *, session_id: UUID, person_id: str, account_id: str, stamp: Stamp
    ) -> HelpSession:
        checked_text("person_id", person_id, max_chars=NAME_MAX_CHARS)
        checked_text("account_id", account_id, max_chars=NAME_MAX_CHARS)
        return cls(id=session_id, person_id=person_id, account_id=account_id, stamp=stamp)

    @event(Started)
    def __init__(self, id: UUID, person_id: str, account_id: str, stamp: Stamp) -> None:
        self.person_id = person_id
        self.account_id = account_id
        self.opened: list[str] = []
        self.tickets: list[str] = []

    def open_article(self, *, article: HelpArticle, person_id: str, stamp: Stamp) -> None:
        """Opening the same article again is a fact too: read counts count openings."""
        self.check_belongs_to(person_id)
        article.check_not_withdrawn()
        self._article_opened(
            article_id=str(article.id),
            person_id=person_id,
            account_id=self.account_id,
            stamp=stamp,
        )

    @event(ArticleOpened)
    def _article_opened(
        self, article_id: str, person_id: str, account_id: str, stamp: Stamp
    ) -> None:
        if article_id not in self.opened:
            self.opened.append(article_id)

    def file_ticket_anyway(
        self, *, ticket_id: UUID, number: str, person_id: str, stamp: Stamp
    ) -> None:
        self.check_belongs_to(person_id)
        self._ticket_filed_anyway(ticket_id=str(ticket_id), number=number, stamp=stamp)

    @event(TicketFiledAnyway)
    def _ticket_filed_anyway(self, ticket_id: str, number: str, stamp: Stamp) -> None:
        self.tickets.append(number)

    @property
    def deflected(self) -> bool:
        """An article was opened and no ticket filed (so far)."""
        return bool(self.opened) and not self.tickets

    def check_belongs_to(self, person_id: str) -> None:
        if person_id != self.person_id:
            raise UnknownHelpSession(Msg("No help session {id} of yours.", id=self.id))
