"""Help articles from a folder of Markdown files: ``docket articles load DIR``.

Each ``*.md`` file is one article; its file name (without ``.md``) is its slug.
The file opens with a small front matter between ``---`` lines::

    ---
    title: Files stop syncing on your computer
    language: en
    products: Files, Dash
    topics: sync, desktop app
    ---
    The body, in Markdown.

``products`` and ``topics`` are comma-separated (brackets allowed). Loading is
idempotent: an article whose file is unchanged records nothing, a changed file
records a revision, a new file publishes; an article withdrawn over the API
stays withdrawn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from desk.service import SupportDesk
from domain.article import ArticleContent
from domain.errors import DocketError, InvalidField
from domain.messages import Msg
from domain.stamp import Stamp

SHIPPED = Path(__file__).resolve().parent / "articles"
"""The articles Docket ships with (``docket seed-demo`` loads them)."""
FIELDS = ("title", "language", "products", "topics")


@dataclass(frozen=True)
class ArticleFile:
    slug: str
    title: str
    language: str
    products: list[str]
    topics: list[str]
    body: str


def labels(value: str) -> list[str]:
    inner = value.strip().removeprefix("[").removesuffix("]")
    return [part.strip().strip("\"'") for part in inner.split(",") if part.strip()]


def parse_article(slug: str, text: str) -> ArticleFile:
    """The article in ``text``; raises :class:`InvalidField` naming what is wrong."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise InvalidField(
            "front_matter", Msg("{slug}.md must open with a '---' line.", slug=slug)
        )
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise InvalidField(
            "front_matter", Msg("{slug}.md: no closing '---' line.", slug=slug)
        ) from None
    found: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in FIELDS:
            raise InvalidField(
                "front_matter",
                Msg(
                    "{slug}.md: {strip!r} is not one of {names}.",
                    slug=slug,
                    strip=line.strip(),
                    names=", ".join(FIELDS),
                ),
            )
        found[key] = value.strip()
    for key in ("title", "language"):
        if not found.get(key):
            raise InvalidField(
                key, Msg("{slug}.md: the front matter has no {key}.", slug=slug, key=key)
            )
    return ArticleFile(
        slug=slug,
        title=found["title"].strip("\"'"),
        language=found["language"].strip("\"'"),
        products=labels(found.get("products", "")),
        topics=labels(found.get("topics", "")),
        body="\n".join(lines[end + 1 :]).strip() + "\n",
    )


@dataclass(frozen=True)
class LoadReport:
    outcomes: dict[str, str]
    """slug → ``published``, ``revised``, ``unchanged``, ``withdrawn`` or ``refused: …``."""

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.partition(":")[0] for o in self.outcomes.values()))


def load_articles(desk: SupportDesk, folder: Path, stamp: Stamp) -> LoadReport:
    """Publish or revise every article of ``folder``; a file the rules refuse is reported."""
    outcomes: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        slug = path.stem
        try:
            a = parse_article(slug, path.read_text(encoding="utf-8"))
            content = ArticleContent(a.title, a.body, a.language, a.products, a.topics)
            outcomes[slug] = desk.sync_article(slug=slug, content=content, stamp=stamp)
        except (DocketError, UnicodeDecodeError) as error:
            outcomes[slug] = f"refused: {error}"
    return LoadReport(outcomes)
