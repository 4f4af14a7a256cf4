"""Keep the message catalogs in step with the code: ``python -m languages.catalog``.

Every ``Msg("…")`` template in Docket's folders is a catalog entry. The command rewrites
each language's ``docket.po`` with the templates the code has now: a translation already
there is kept, a new template gets an empty one to fill in, a template the code no longer
has is dropped. ``tests/unit/test_languages.py`` fails while any template has no
translation or the catalog holds one the code no longer has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from domain.vocabulary import LANGUAGES
from languages import DOMAIN, ENGLISH, catalog_path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = (
    "domain", "languages", "store", "projections", "desk", "mail", "importers", "replay", "api",
)  # fmt: skip
"""The folders whose code says things to people."""
KEYWORDS = {"Msg": None, "_": None}
"""What Babel's extractor looks for: the first argument of ``Msg(...)`` in the code, and of
``_(...)`` in the pages' templates (``api/pages/templates``)."""
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def extracted() -> Iterator[tuple[str, str]]:
    """Each template in the code, with where it is (``folder/file.py``)."""
    for folder in FOLDERS:
        for filename, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=METHODS, keywords=KEYWORDS
        ):
            if isinstance(message, str):
                yield message, f"{folder}/{filename}"


def read(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def update(language: str) -> list[str]:
    """Rewrite ``language``'s catalog for the code as it is; the templates still to translate."""
    path = catalog_path(language)
    old = read(language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
    new = Catalog(
        locale=language,
        domain=DOMAIN,
        project="Docket",
        copyright_holder="Docket",
        charset="utf-8",
        fuzzy=False,
    )
    if path.exists():  # no churn: the creation date stays the first one
        new.creation_date = old.creation_date
    new.last_translator = "Docket <support@docket.example>"
    new.language_team = "Docket"
    for message, where in extracted():
        entry = new.get(message)
        if entry is not None:
            entry.locations.append((where, 0))
            continue
        known = old.get(message)
        new.add(message, known.string if known is not None else "", locations=[(where, 0)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, new, width=99, sort_output=True, include_lineno=False)
    return [str(m.id) for m in new if m.id and not m.string]


def main() -> None:
    for language in LANGUAGES:
        if language == ENGLISH:
            continue
        untranslated = update(language)
        print(f"{catalog_path(language).relative_to(ROOT)}: {len(untranslated)} to translate")
        for template in untranslated:
            print(f"  {template}")


if __name__ == "__main__":
    main()
