"""Help articles on PostgreSQL: loading, suggestion ranking, recommendations, deflection.

The corpus is the one Docket ships (``importers/articles``): five English and
three French articles about Files and Dash.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from desk.service import SupportDesk
from domain.article import ArticleContent, article_id_for
from importers.help_articles import SHIPPED, load_articles, parse_article
from projections import articles
from projections.catalog import VIEWS
from projections.kit import Tables
from projections.runner import ProjectionRunner
from replay.rebuild import rebuild
from replay.verify import verify_log
from store.eventstore import docket_mapper
from store.log import log_head
from tests.builders import desk_with_account, later, new_member, requester, system


@pytest.fixture
def corpus(desk: SupportDesk, runner: ProjectionRunner) -> SupportDesk:
    report = load_articles(desk, SHIPPED, system())
    assert report.counts() == {"published": 8}
    runner.catch_up()
    return desk


def top(conn: psycopg.Connection[Any], schema: str, text: str, **options: Any) -> list[str]:
    return [r["slug"] for r in articles.suggest(conn, Tables(schema), text, **options)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My files are not syncing anymore on my laptop, sync is paused", "files-stop-syncing"),
        ("I deleted a folder by mistake, how do I get it back?", "restore-deleted-files"),
        ("The charts are empty and the dashboard shows no data", "dash-dashboard-shows-no-data"),
        ("I cannot sign in, I forgot my password", "reset-password-and-two-step"),
        ("My card payment failed, where is the invoice?", "update-payment-method-and-invoices"),
        ("Mes fichiers ne se synchronisent plus depuis ce matin",
         "les-fichiers-ne-se-synchronisent-plus"),
        ("Comment obtenir un remboursement de mon abonnement annuel ?",
         "demander-un-remboursement"),
        ("Je veux partager mon tableau de bord avec un collègue",
         "partager-un-tableau-de-bord-dash"),
    ],
)  # fmt: skip
def test_the_best_suggestion_answers_the_ticket_in_english_and_french(
    corpus: SupportDesk, conn: psycopg.Connection[Any], schema: str, text: str, expected: str
) -> None:
    assert top(conn, schema, text)[0] == expected


def test_a_long_ticket_with_many_unrelated_words_still_finds_its_article(
    corpus: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    text = (
        "Hello team, hope you are well. We upgraded our office network last week and "
        "since Tuesday nothing on my laptop reaches the others: the Files icon has a "
        "yellow badge and says sync paused. Colleagues in accounting see the same. "
        "We have a board meeting on Friday and need the quarterly reports. Thanks! "
    ) * 3
    assert top(conn, schema, text)[0] == "files-stop-syncing"


def test_an_article_about_the_tickets_product_is_boosted(
    corpus: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    text = "the app shows an error badge"
    assert top(conn, schema, text)[0] == "files-stop-syncing"
    assert top(conn, schema, text, product="Dash")[0] == "dash-dashboard-shows-no-data"
    assert top(conn, schema, text, product="dash")[0] == "dash-dashboard-shows-no-data"
    found = articles.suggest(conn, Tables(schema), text, product="Dash")
    assert found[0]["product_match"] and "<b>" in found[0]["snippet"]


def test_a_language_keeps_suggestions_to_it_and_noise_suggests_nothing(
    corpus: SupportDesk, conn: psycopg.Connection[Any], schema: str
) -> None:
    french = articles.suggest(conn, Tables(schema), "synchronisation fichiers", language="fr")
    assert {r["language"] for r in french} == {"fr"}
    assert top(conn, schema, "!!! ??? -- 'or' \"\" & | :*") == []
    assert top(conn, schema, "the and of or") == []


def test_withdrawn_articles_are_never_suggested(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    corpus.withdraw_article(article_id_for("restore-deleted-files"), stamp=system())
    runner.catch_up()
    assert "restore-deleted-files" not in top(conn, schema, "restore deleted files")


def test_loading_again_records_nothing_and_a_changed_file_records_a_revision(
    corpus: SupportDesk,
    runner: ProjectionRunner,
    conn: psycopg.Connection[Any],
    schema: str,
    tmp_path: Path,
) -> None:
    head = log_head(conn, schema)
    assert load_articles(corpus, SHIPPED, system()).counts() == {"unchanged": 8}
    assert log_head(conn, schema) == head
    folder = tmp_path / "articles"
    shutil.copytree(SHIPPED, folder)
    changed = folder / "files-stop-syncing.md"
    changed.write_text(changed.read_text().replace("1 GB", "2 GB"))
    (folder / "broken.md").write_text("no front matter\n")
    corpus.withdraw_article(article_id_for("restore-deleted-files"), stamp=system())
    report = load_articles(corpus, folder, system())
    assert report.outcomes["files-stop-syncing"] == "revised"
    assert report.outcomes["restore-deleted-files"] == "withdrawn"
    assert report.outcomes["broken"].startswith("refused")
    assert report.counts() == {"revised": 1, "withdrawn": 1, "unchanged": 6, "refused": 1}
    runner.catch_up()
    row = articles.article(conn, Tables(schema), article_id_for("files-stop-syncing"))
    assert row is not None and "2 GB" in row["body"] and row["version"] == 2


def test_the_front_matter_gives_title_language_products_and_topics() -> None:
    parsed = parse_article(
        "x", "---\ntitle: A title\nlanguage: fr\nproducts: [Files, Dash]\ntopics: a, b\n---\nB\n"
    )
    assert (parsed.title, parsed.language, parsed.products, parsed.topics, parsed.body) == (
        "A title", "fr", ["Files", "Dash"], ["a", "b"], "B\n",
    )  # fmt: skip


def open_in_session(desk: SupportDesk, account: Any, slug: str, session: Any = None) -> Any:
    session = session or uuid4()
    desk.open_article(session, article_id=article_id_for(slug), person_id="req-1",
                      account_id=str(account), stamp=requester(later(hours=1)))  # fmt: skip
    return session


def file_for(
    desk: SupportDesk, account: Any, product: str, topic: str, session: Any = None
) -> Any:
    return desk.file_ticket(
        account_id=account, requester_id="req-1", subject="Help", description="Please.",
        type="question", priority="normal", product=product, topic=topic,
        stamp=requester(later(hours=2)), help_session=session,
    )  # fmt: skip


def test_recommendations_follow_the_accounts_past_tickets_topics_and_products(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(corpus)
    for _ in range(3):
        file_for(corpus, account, "Dash", "refresh")
    file_for(corpus, account, "Files", "sync")
    runner.catch_up()
    basis, found = articles.recommendations(conn, Tables(schema), str(account))
    assert basis == "past_tickets"
    relevance = {r["slug"]: r["relevance"] for r in found}
    # 3 tickets on the topic "refresh" (x2) and the product Dash (x1)
    assert found[0]["slug"] == "dash-dashboard-shows-no-data"
    assert relevance["dash-dashboard-shows-no-data"] == 9
    assert relevance["files-stop-syncing"] == 3  # one ticket on "sync", about Files
    assert relevance["update-payment-method-and-invoices"] == 4  # Dash x3 + Files x1
    assert [r["relevance"] for r in found] == sorted(relevance.values(), reverse=True)


def test_an_account_without_tickets_gets_the_most_read_articles(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(corpus)
    session = open_in_session(corpus, account, "reset-password-and-two-step")
    open_in_session(corpus, account, "reset-password-and-two-step", session)
    open_in_session(corpus, account, "restore-deleted-files")
    quiet = corpus.open_account(name="Quiet", plan="business", support_tier="standard",
                                stamp=system()).account_id  # fmt: skip
    runner.catch_up()
    basis, found = articles.recommendations(conn, Tables(schema), str(quiet))
    assert basis == "most_read"
    assert [r["slug"] for r in found[:2]] == [
        "reset-password-and-two-step",
        "restore-deleted-files",
    ]
    assert [r["read_count"] for r in found[:3]] == [2, 1, 0]


def test_deflection_counts_sessions_that_opened_an_article_and_filed_nothing(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(corpus)
    open_in_session(corpus, account, "files-stop-syncing")  # deflected
    twice = open_in_session(corpus, account, "files-stop-syncing")
    open_in_session(corpus, account, "restore-deleted-files", twice)  # deflected
    filed = open_in_session(corpus, account, "dash-dashboard-shows-no-data")
    file_for(corpus, account, "Dash", "", filed)  # opened, then filed anyway
    file_for(corpus, account, "Files", "", uuid4())  # filed without opening anything
    runner.catch_up()
    figures = articles.deflection(conn, Tables(schema))
    assert figures == articles.Deflection(
        sessions=4, opened_article=3, filed_anyway=2, opened_then_filed=1, deflected=2
    )
    assert figures.rate == pytest.approx(2 / 3)
    none = articles.deflection(conn, Tables(schema), since=later(days=1))
    assert (none.sessions, none.rate) == (0, None)


def test_a_session_id_another_person_uses_is_their_own_session_not_the_first_ones(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    account = desk_with_account(corpus)
    new_member(corpus, account, "req-2", "b@acme.test", "B")
    session = open_in_session(corpus, account, "files-stop-syncing")
    corpus.file_ticket(
        account_id=account, requester_id="req-2", subject="s", description="d",
        type="bug", priority="normal", product="Files", stamp=requester(who="req-2"),
        help_session=session,
    )  # fmt: skip
    runner.catch_up()
    figures = articles.deflection(conn, Tables(schema))
    # two sessions: req-1's opened an article and filed nothing; req-2's only filed
    assert (figures.sessions, figures.opened_article, figures.deflected) == (2, 1, 1)


def test_a_session_id_chosen_to_match_an_articles_id_takes_nothing_from_it(
    corpus: SupportDesk,
) -> None:
    account = desk_with_account(corpus)
    squatted = article_id_for("printing-invoices")  # a slug nobody has published yet
    open_in_session(corpus, account, "files-stop-syncing", squatted)
    published = corpus.publish_article(
        content=ArticleContent(
            "Printing invoices", "Open Billing, then Print.", "en", ["Files"], ["billing"]
        ),
        stamp=system(),
        slug="printing-invoices",
    )
    assert published.article_id == squatted


def test_the_articles_view_rebuilt_from_zero_equals_the_live_one(
    corpus: SupportDesk, runner: ProjectionRunner, database_url: str, schema: str
) -> None:
    account = desk_with_account(corpus)
    open_in_session(corpus, account, "files-stop-syncing")
    session = open_in_session(corpus, account, "restore-deleted-files")
    file_for(corpus, account, "Files", "", session)
    corpus.withdraw_article(article_id_for("demander-un-remboursement"), stamp=system())
    runner.catch_up()
    checked = rebuild(database_url, schema, [VIEWS["articles"]], check=True)
    assert checked.differences == {"articles": []}


def test_the_log_with_articles_sessions_and_a_policy_change_verifies_whole(
    corpus: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any], schema: str
) -> None:
    """Every kind of stream is sealed: a log holding them all verifies, nothing 'missing'."""
    account = desk_with_account(corpus)
    session = open_in_session(corpus, account, "files-stop-syncing")
    file_for(corpus, account, "Files", "", session)
    corpus.change_sla_targets(
        tier="standard",
        data={"first_response": "20h", "next_reply": "20h", "resolution": "100h"},
        stamp=system(),
    )
    runner.catch_up()
    assert verify_log(conn, schema, docket_mapper().transcoder).ok
    kinds = {r[0] for r in conn.execute(f'SELECT DISTINCT kind FROM "{schema}".audit_feed')}
    assert {"HelpArticle.Published", "HelpSession.ArticleOpened",
            "SlaPolicyBook.TargetsChanged"} <= kinds  # fmt: skip
