"""The help centre: publishing and revising help articles, and the help sessions in which
a person reads suggested articles before (or instead of) filing a ticket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Recording

from desk.answers import ArticleReceipt
from desk.core import DeskCore, position
from domain.article import ArticleContent, HelpArticle, article_id_for, checked_slug
from domain.errors import AlreadyExists, NothingChanged, UnknownArticle
from domain.messages import Msg
from domain.stamp import Stamp


class HelpCentre(DeskCore):
    def publish_article(
        self, *, content: ArticleContent, stamp: Stamp, slug: str | None = None
    ) -> ArticleReceipt:
        """A new article; its slug (from the title unless given) must not be taken."""
        article = HelpArticle.publish(content=content, slug=slug, stamp=stamp)
        try:
            recordings = self.save(article)
        except IntegrityError:
            raise AlreadyExists(
                Msg(
                    "An article with slug {slug} exists already; revise it instead.",
                    slug=article.slug,
                )
            ) from None
        return article_receipt(article, recordings)

    def revise_article(
        self, article_id: UUID, *, content: ArticleContent, stamp: Stamp
    ) -> ArticleReceipt:
        """New content for an article; the same content again raises NothingChanged."""
        return self._change_article(article_id, lambda a: a.revise(content=content, stamp=stamp))

    def article_receipt(self, article_id: UUID) -> ArticleReceipt:
        """The article as it stands (position 0: nothing new to wait for)."""
        article = self._article(article_id)
        return ArticleReceipt(article.id, article.slug, article.version, 0)

    def withdraw_article(self, article_id: UUID, *, stamp: Stamp) -> ArticleReceipt:
        return self._change_article(article_id, lambda a: a.withdraw(stamp=stamp))

    def sync_article(self, *, slug: str, content: ArticleContent, stamp: Stamp) -> str:
        """Make the article ``slug`` read as given: ``published``, ``revised``,
        ``unchanged`` (nothing recorded) or ``withdrawn`` (left alone)."""
        try:
            article = self._article(article_id_for(checked_slug(slug)))
        except UnknownArticle:
            self.publish_article(content=content, slug=slug, stamp=stamp)
            return "published"
        if article.withdrawn:
            return "withdrawn"
        try:
            self.revise_article(article.id, content=content, stamp=stamp)
        except NothingChanged:
            return "unchanged"
        return "revised"

    def open_article(
        self,
        help_session: UUID,
        *,
        article_id: UUID,
        person_id: str,
        account_id: str,
        stamp: Stamp,
    ) -> int:
        """Record that the person opened a suggested article in their help session."""
        article = self._article(article_id)
        _, _, at = self._saved_again(
            lambda: self._help_session(help_session, person_id, account_id, stamp),
            lambda session: session.open_article(
                article=article, person_id=person_id, stamp=stamp
            ),
            Msg("The help session"),
        )
        return at

    def _change_article(
        self, article_id: UUID, command: Callable[[HelpArticle], object]
    ) -> ArticleReceipt:
        article, _, at = self._saved_again(
            lambda: self._article(article_id),
            command,
            Msg("Article {article_id}", article_id=article_id),
        )
        return ArticleReceipt(article.id, article.slug, article.version, at)

    def _article(self, article_id: UUID) -> HelpArticle:
        return self._get(
            HelpArticle,
            article_id,
            UnknownArticle(Msg("No article {article_id}.", article_id=article_id)),
        )


def article_receipt(article: HelpArticle, recordings: list[Recording[Any]]) -> ArticleReceipt:
    return ArticleReceipt(article.id, article.slug, article.version, position(recordings))
