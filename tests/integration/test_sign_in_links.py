"""Emailed sign-in links on PostgreSQL: one use each, and no more than an hour's share for
one address however many ask at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from psycopg_pool import ConnectionPool

from store.sign_in import MAX_LINKS_PER_HOUR, SignInLinks


@pytest.fixture
def links(database_url: str, schema: str) -> Iterator[SignInLinks]:
    with ConnectionPool(database_url, min_size=1, max_size=8, kwargs={"autocommit": True}) as p:
        made = SignInLinks(p, schema, b"s" * 32)
        made.create_tables()
        yield made


def ask(links: SignInLinks, email: str = "Rita@Northwind.example") -> str | None:
    return links.ask(person_id="p-1", email=email, name="Rita", language="en", time_zone=None)


def test_a_link_signs_in_once(links: SignInLinks) -> None:
    token = ask(links)
    assert token is not None and links.usable(token)
    assert links.use(token) == "p-1"
    assert links.use(token) is None and not links.usable(token)
    assert links.use(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_many_asking_at_once_for_one_address_are_sent_no_more_than_its_share(
    links: SignInLinks,
) -> None:
    spellings = ["rita@northwind.example", "RITA@northwind.example", "Rita@Northwind.example"]
    with ThreadPoolExecutor(8) as threads:
        sent = list(threads.map(lambda n: ask(links, spellings[n % 3]), range(24)))
    assert len([t for t in sent if t is not None]) == MAX_LINKS_PER_HOUR
    assert ask(links, "someone.else@northwind.example") is not None  # their own share
