"""Help articles as customers read and search them, and help sessions for deflection.

Folds the events of help articles and help sessions. Each article row keeps a
``tsvector`` built with its own language's text search configuration (English
or French): the title weighs A, topics and products B, the body C. A GIN index
serves the suggestions, which query every article in its own language.

Deflection, as counted here: a help session *opened an article* when it has at
least one ``ArticleOpened``; it was *deflected* when it opened an article and
filed no ticket. The deflection rate is deflected / sessions that opened an
article (sessions that opened nothing say nothing about the articles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from domain.article import SEARCH_CONFIGS, HelpArticle, HelpSession
from projections import dashboard
from projections.kit import Fact, Layout, Tables, View, clean_text, each_fact, fetch_all, fetch_one

NAME = "articles"
ARTICLES = "help_articles"
SESSIONS = "help_sessions"

PRODUCT_BOOST = 2.0
"""How much an article about the product the ticket is for weighs over another."""
TOPIC_WEIGHT = 2
PRODUCT_WEIGHT = 1
"""Recommendations: a past ticket on one of the article's topics counts twice one on its
products (a topic says more about the question than the product does)."""
MAX_QUERY_WORDS = 200
WORD = re.compile(r"\w+")
MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|[#*_`>|]+")


def plain_text(markdown: str) -> str:
    """The words of a Markdown body without its markup (links keep their text)."""
    return MARKUP.sub(lambda m: m.group(1) or " ", markdown)


TABLES = Layout(
    {
        ARTICLES: """
            article_id uuid PRIMARY KEY,
            slug text NOT NULL,
            title text NOT NULL,
            body text NOT NULL,
            plain text NOT NULL,
            language text NOT NULL,
            config regconfig NOT NULL,
            products text[] NOT NULL,
            topics text[] NOT NULL,
            withdrawn boolean NOT NULL DEFAULT false,
            version integer NOT NULL,
            published_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            read_count integer NOT NULL DEFAULT 0,
            search tsvector NOT NULL
        """,
        SESSIONS: """
            session_id uuid PRIMARY KEY,
            person_id text NOT NULL,
            account_id text NOT NULL,
            started_at timestamptz NOT NULL,
            articles_opened integer NOT NULL DEFAULT 0,
            first_opened_at timestamptz,
            tickets_filed integer NOT NULL DEFAULT 0,
            first_filed_at timestamptz
        """,
    },
    indexes=[(ARTICLES, "_search", "USING gin (search)"), (SESSIONS, "_started", "(started_at)")],
)


SEARCH_VECTOR = (
    "setweight(to_tsvector(%(config)s::regconfig, %(title)s), 'A') || "
    "setweight(to_tsvector(%(config)s::regconfig, %(labels)s), 'B') || "
    "setweight(to_tsvector(%(config)s::regconfig, %(plain)s), 'C')"
)


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    match e:
        case HelpArticle.Published():
            cur.execute(
                f"INSERT INTO {t(ARTICLES)} (article_id, slug, title, body, plain, "
                "language, config, products, topics, version, published_at, "
                "updated_at, search) VALUES (%(id)s, %(slug)s, %(title)s, %(body)s, "
                "%(plain)s, %(language)s, %(config)s::regconfig, %(products)s, "
                f"%(topics)s, %(version)s, %(at)s, %(at)s, {SEARCH_VECTOR}) "
                "ON CONFLICT (article_id) DO NOTHING",
                article_row(fact),
            )
        case HelpArticle.Revised():
            cur.execute(
                f"UPDATE {t(ARTICLES)} SET title = %(title)s, body = %(body)s, "
                "plain = %(plain)s, language = %(language)s, "
                "config = %(config)s::regconfig, products = %(products)s, "
                "topics = %(topics)s, version = %(version)s, updated_at = %(at)s, "
                f"search = {SEARCH_VECTOR} WHERE article_id = %(id)s",
                article_row(fact),
            )
        case HelpArticle.Withdrawn():
            cur.execute(
                f"UPDATE {t(ARTICLES)} SET withdrawn = true, version = %s, "
                "updated_at = %s WHERE article_id = %s",
                (fact.version, e.timestamp, fact.stream_id),
            )
        case HelpSession.Started():
            cur.execute(
                f"INSERT INTO {t(SESSIONS)} (session_id, person_id, account_id, "
                "started_at) VALUES (%s, %s, %s, %s) ON CONFLICT (session_id) DO NOTHING",
                (fact.stream_id, clean_text(e.person_id), clean_text(e.account_id), e.timestamp),
            )
        case HelpSession.ArticleOpened():
            cur.execute(
                f"UPDATE {t(SESSIONS)} SET articles_opened = articles_opened + 1, "
                "first_opened_at = coalesce(first_opened_at, %s) WHERE session_id = %s",
                (e.timestamp, fact.stream_id),
            )
            cur.execute(
                f"UPDATE {t(ARTICLES)} SET read_count = read_count + 1 WHERE article_id = %s",
                (UUID(e.article_id),),
            )
        case HelpSession.TicketFiledAnyway():
            cur.execute(
                f"UPDATE {t(SESSIONS)} SET tickets_filed = tickets_filed + 1, "
                "first_filed_at = coalesce(first_filed_at, %s) WHERE session_id = %s",
                (e.timestamp, fact.stream_id),
            )


def article_row(fact: Fact) -> dict[str, Any]:
    """The parameters of an article's row (and its search vector), as published or revised."""
    e = fact.event
    title, body = clean_text(e.title), clean_text(e.body)
    products = [clean_text(p) for p in e.products]
    topics = [clean_text(p) for p in e.topics]
    return {
        "id": fact.stream_id,
        "slug": clean_text(getattr(e, "slug", "")),
        "title": title,
        "body": body,
        "plain": plain_text(body),
        "language": e.language,
        "config": SEARCH_CONFIGS[e.language],
        "products": products,
        "topics": topics,
        "labels": " ".join(topics + products),
        "version": fact.version,
        "at": e.timestamp,
    }


VIEW = View(
    NAME,
    frozenset(
        {
            HelpArticle.Published,
            HelpArticle.Revised,
            HelpArticle.Withdrawn,
            HelpSession.Started,
            HelpSession.ArticleOpened,
            HelpSession.TicketFiledAnyway,
        }
    ),
    TABLES.create,
    each_fact(apply_fact),
    TABLES.tables,
)


# --- reads -----------------------------------------------------------------------------------

LISTED = (
    "article_id, slug, title, language, products, topics, withdrawn, version, published_at, "
    "updated_at, read_count"
)


def article(conn: psycopg.Connection[Any], t: Tables, article_id: UUID) -> dict[str, Any] | None:
    return fetch_one(
        conn, f"SELECT {LISTED}, body FROM {t(ARTICLES)} WHERE article_id = %s", (article_id,)
    )


def articles(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    language: str | None = None,
    product: str | None = None,
    with_withdrawn: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Articles by title, optionally in one language or about one product (any case)."""
    return fetch_all(
        conn,
        f"SELECT {LISTED} FROM {t(ARTICLES)} "
        "WHERE (%(with_withdrawn)s OR NOT withdrawn) "
        "AND (%(language)s::text IS NULL OR language = %(language)s) "
        "AND (%(product)s::text IS NULL OR EXISTS "
        "(SELECT 1 FROM unnest(products) p WHERE lower(p) = lower(%(product)s))) "
        "ORDER BY title, article_id LIMIT %(limit)s",
        {"with_withdrawn": with_withdrawn, "language": language, "product": product,
         "limit": limit},
    )  # fmt: skip


def query_words(text: str) -> str:
    """The text's distinct words OR-ed in ``websearch_to_tsquery`` syntax.

    A ticket being written is long and says many things: an article should match on
    any of its words and rank by how many, and how close, rather than need them all.
    Only word characters reach PostgreSQL, so no text makes a query syntax error.
    """
    words: list[str] = []
    for word in WORD.findall(text.lower()):
        if word not in words and word != "or":
            words.append(word)
            if len(words) == MAX_QUERY_WORDS:
                break
    return " or ".join(words)


def suggest(
    conn: psycopg.Connection[Any],
    t: Tables,
    text: str,
    *,
    product: str | None = None,
    language: str | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """The published articles that best answer ``text``, best first.

    Each article is matched and ranked (``ts_rank_cd``, normalised to 0..1) in its own
    language's configuration; an article about ``product`` scores ``PRODUCT_BOOST``
    times more. The snippet is the body's passage around the matched words.
    """
    words = query_words(text)
    if not words:
        return []
    queries = ", ".join(
        f"websearch_to_tsquery('{cfg}', %(words)s) AS q_{code}"
        for code, cfg in SEARCH_CONFIGS.items()
    )
    pick = " ".join(f"WHEN '{code}' THEN q.q_{code}" for code in SEARCH_CONFIGS)
    # one "language = x AND search @@ q_x" branch per language: a form the GIN index serves
    matches = " OR ".join(
        f"(a.language = '{code}' AND a.search @@ q.q_{code})" for code in SEARCH_CONFIGS
    )
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""
            WITH q AS (SELECT {queries}),
            candidates AS (
                SELECT a.*, CASE a.language {pick} END AS query
                FROM {t(ARTICLES)} a, q
                WHERE NOT a.withdrawn
                  AND (%(language)s::text IS NULL OR a.language = %(language)s)
                  AND ({matches})
            ),
            ranked AS (
                SELECT article_id, slug, title, language, products, topics, read_count,
                       plain, config, query,
                       ts_rank_cd(search, query, 32) * CASE WHEN EXISTS (
                           SELECT 1 FROM unnest(products) p WHERE lower(p) = lower(%(product)s)
                       ) THEN %(boost)s ELSE 1 END AS score,
                       EXISTS (
                           SELECT 1 FROM unnest(products) p WHERE lower(p) = lower(%(product)s)
                       ) AS product_match
                FROM candidates
                WHERE search @@ query
                ORDER BY score DESC, read_count DESC, title
                LIMIT %(limit)s
            )
            SELECT article_id, slug, title, language, products, topics, read_count,
                   score, product_match,
                   regexp_replace(ts_headline(config, plain, query,
                               'MaxWords=35, MinWords=12, MaxFragments=2, '
                               'FragmentDelimiter=" … "'), '[[:space:]]+', ' ', 'g') AS snippet
            FROM ranked
            ORDER BY score DESC, read_count DESC, title
            """,
            {"words": words, "language": language, "product": product or None,
             "boost": PRODUCT_BOOST, "limit": limit},
        )  # fmt: skip
        return cur.fetchall()


def recommendations(
    conn: psycopg.Connection[Any],
    t: Tables,
    account_id: str,
    *,
    language: str | None = None,
    limit: int = 10,
) -> tuple[str, list[dict[str, Any]]]:
    """Articles for an account, from its past tickets (the dashboard view's rows).

    Relevance = over the account's tickets, ``TOPIC_WEIGHT`` for each ticket whose topic is
    one of the article's topics plus ``PRODUCT_WEIGHT`` for each whose product is one of
    its products (names compared in any case); ties go to the most read. When nothing
    relates (no tickets, or none on the articles' products or topics), the most read
    articles. Answers the basis (``past_tickets`` or ``most_read``) and the articles.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""
            WITH mine AS (
                SELECT lower(product) AS product, lower(topic) AS topic, count(*) AS n
                FROM {t(dashboard.TICKETS)} WHERE account_id = %(account)s
                GROUP BY 1, 2
            ),
            scored AS (
                SELECT {LISTED},
                    %(topic_weight)s * (SELECT coalesce(sum(m.n), 0) FROM mine m
                        WHERE m.topic <> '' AND m.topic IN (SELECT lower(x) FROM unnest(topics) x))
                    + %(product_weight)s * (SELECT coalesce(sum(m.n), 0) FROM mine m
                        WHERE m.product <> ''
                          AND m.product IN (SELECT lower(x) FROM unnest(products) x))
                    AS relevance
                FROM {t(ARTICLES)}
                WHERE NOT withdrawn
                  AND (%(language)s::text IS NULL OR language = %(language)s)
            )
            SELECT * FROM scored WHERE relevance > 0
            ORDER BY relevance DESC, read_count DESC, title LIMIT %(limit)s
            """,
            {"account": account_id, "language": language, "limit": limit,
             "topic_weight": TOPIC_WEIGHT, "product_weight": PRODUCT_WEIGHT},
        )  # fmt: skip
        related = cur.fetchall()
        if related:
            return "past_tickets", related
        cur.execute(
            f"SELECT {LISTED}, 0 AS relevance FROM {t(ARTICLES)} WHERE NOT withdrawn "
            "AND (%(language)s::text IS NULL OR language = %(language)s) "
            "ORDER BY read_count DESC, updated_at DESC, title LIMIT %(limit)s",
            {"language": language, "limit": limit},
        )
        return "most_read", cur.fetchall()


@dataclass(frozen=True)
class Deflection:
    sessions: int
    opened_article: int
    filed_anyway: int
    opened_then_filed: int
    deflected: int

    @property
    def rate(self) -> float | None:
        """Deflected / sessions that opened an article; ``None`` when none opened one."""
        return self.deflected / self.opened_article if self.opened_article else None


def deflection(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    account_ids: tuple[str, ...] = (),
) -> Deflection:
    """Figures of the help sessions started in ``[since, before)``."""
    row = conn.execute(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE articles_opened > 0),
               count(*) FILTER (WHERE tickets_filed > 0),
               count(*) FILTER (WHERE articles_opened > 0 AND tickets_filed > 0),
               count(*) FILTER (WHERE articles_opened > 0 AND tickets_filed = 0)
        FROM {t(SESSIONS)}
        WHERE (%(since)s::timestamptz IS NULL OR started_at >= %(since)s)
          AND (%(before)s::timestamptz IS NULL OR started_at < %(before)s)
          AND (cardinality(%(accounts)s::text[]) = 0 OR account_id = ANY(%(accounts)s))
        """,
        {"since": since, "before": before, "accounts": list(account_ids)},
    ).fetchone()
    assert row is not None
    return Deflection(*(int(v) for v in row))
