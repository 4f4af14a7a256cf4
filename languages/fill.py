"""Fill translations into a catalog from a JSON file of ``{"English": "traduction"}``:
``python -m languages.fill fr words.json``. Templates the file does not name are left as
they are; one it names that the code does not have is reported, not added."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import write_po

from languages import catalog_path
from languages.catalog import read


def main() -> None:
    language, source = sys.argv[1], Path(sys.argv[2])
    given: dict[str, str] = json.loads(source.read_text(encoding="utf-8"))
    found = read(language)
    unknown = []
    for english, translated in given.items():
        entry = found.get(english)
        if entry is None:
            unknown.append(english)
            continue
        entry.string = translated
    with catalog_path(language).open("wb") as po:
        write_po(po, found, width=99, sort_output=True, include_lineno=False)
    left = [str(m.id) for m in found if m.id and not m.string]
    print(f"{len(given) - len(unknown)} filled, {len(left)} still to translate")
    for english in unknown:
        print(f"not in the code: {english!r}", file=sys.stderr)
    for english in left:
        print(f"to translate: {english!r}")


if __name__ == "__main__":
    main()
