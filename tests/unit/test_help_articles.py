"""Help articles and help sessions: the rules, without a database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.article import ArticleContent, HelpArticle, HelpSession, article_id_for, slug_from
from domain.errors import ArticleWithdrawn, InvalidField, NothingChanged, UnknownHelpSession
from tests.builders import T0, requester, system


def published(**changes: object) -> HelpArticle:
    slug = changes.pop("slug", None)
    fields: dict[str, object] = {
        "title": "Files stop syncing",
        "body": "Pause and resume sync from the menu bar.",
        "language": "en",
        "products": ["Files"],
        "topics": ["sync"],
        **changes,
    }
    content = ArticleContent(**fields)  # type: ignore[arg-type]
    return HelpArticle.publish(content=content, slug=slug, stamp=system(T0))  # type: ignore[arg-type]


def test_a_published_article_takes_its_id_from_its_slug() -> None:
    article = published()
    assert article.slug == "files-stop-syncing"
    assert article.id == article_id_for("files-stop-syncing")
    assert [type(e).__name__ for e in article.collect_events()] == ["Published"]


def test_a_french_title_makes_a_plain_ascii_slug() -> None:
    assert slug_from("Les fichiers ne se synchronisent plus ") == (
        "les-fichiers-ne-se-synchronisent-plus"
    )
    assert slug_from("Échéance & facturation") == "echeance-facturation"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", "de"),
        ("title", " "),
        ("body", ""),
        ("products", ["Files", ""]),
        ("topics", ["x"] * 21),
        ("slug", "Not A Slug"),
    ],
)
def test_an_article_with_a_bad_field_is_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(InvalidField) as refused:
        published(**{field: value})
    assert refused.value.field == field


def test_a_revision_records_the_new_content_and_the_same_content_records_nothing() -> None:
    article = published()
    article.collect_events()
    article.revise(
        content=ArticleContent(
            "Files stop syncing", "New steps.", "en", ["Files"], ["sync", "desktop"]
        ),
        stamp=system(),
    )
    (revised,) = article.collect_events()
    assert isinstance(revised, HelpArticle.Revised)
    assert (article.content.body, article.content.topics) == ("New steps.", ["sync", "desktop"])
    with pytest.raises(NothingChanged):
        article.revise(
            content=ArticleContent(
                "Files stop syncing", "New steps.", "en", ["Files"], ["sync", "desktop"]
            ),
            stamp=system(),
        )


def test_a_withdrawn_article_is_neither_revised_nor_withdrawn_again_nor_opened() -> None:
    article = published()
    article.withdraw(stamp=system())
    with pytest.raises(ArticleWithdrawn):
        article.withdraw(stamp=system())
    with pytest.raises(ArticleWithdrawn):
        article.revise(content=ArticleContent("t", "b", "en", [], []), stamp=system())
    session = HelpSession.start(session_id=uuid4(), person_id="req-1", account_id="acct-1",
                                stamp=requester())  # fmt: skip
    with pytest.raises(ArticleWithdrawn):
        session.open_article(article=article, person_id="req-1", stamp=requester())


def test_a_session_that_opened_an_article_and_filed_nothing_is_deflected() -> None:
    article = published()
    session = HelpSession.start(session_id=uuid4(), person_id="req-1", account_id="acct-1",
                                stamp=requester())  # fmt: skip
    assert not session.deflected
    session.open_article(article=article, person_id="req-1", stamp=requester())
    session.open_article(article=article, person_id="req-1", stamp=requester())
    assert session.deflected and session.opened == [str(article.id)]
    session.file_ticket_anyway(ticket_id=uuid4(), number="T-000001", person_id="req-1",
                               stamp=requester())  # fmt: skip
    assert not session.deflected
    kinds = [type(e).__name__ for e in session.collect_events()]
    assert kinds == ["Started", "ArticleOpened", "ArticleOpened", "TicketFiledAnyway"]


def test_a_session_belongs_to_the_person_who_began_it() -> None:
    session = HelpSession.start(session_id=uuid4(), person_id="req-1", account_id="acct-1",
                                stamp=requester())  # fmt: skip
    with pytest.raises(UnknownHelpSession):
        session.open_article(article=published(), person_id="req-2", stamp=requester())
    with pytest.raises(UnknownHelpSession):
        session.file_ticket_anyway(ticket_id=uuid4(), number="T-000002", person_id="req-2",
                                   stamp=requester())  # fmt: skip


def test_article_events_are_hash_chained() -> None:
    article = published()
    article.revise(
        content=ArticleContent("Files stop syncing", "Other.", "en", ["Files"], ["sync"]),
        stamp=system(),
    )
    first, second = article.collect_events()
    assert isinstance(first, HelpArticle.Published) and isinstance(second, HelpArticle.Revised)
    assert second.prev_hash == first.event_hash != ""
