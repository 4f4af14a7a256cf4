"""The languages Docket speaks: which one a person reads, and the message catalogs.

English is the language the code is written in (a :class:`~domain.messages.Msg`'s
template is its English text and the catalog's ``msgid``); every other language has a
gettext catalog, ``languages/locale/<language>/LC_MESSAGES/docket.po``, read with Babel
when a process first needs it (nothing to compile by hand: the ``.po`` in the repository
is what runs). A template with no translation yet is shown in English.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, format_timedelta
from babel.messages.pofile import read_po

from domain.messages import Msg, Text
from domain.vocabulary import LANGUAGES

ENGLISH = "en"
DOMAIN = "docket"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> dict[str, str]:
    """The catalog of ``language``: each English template and its translation."""
    if language == ENGLISH or language not in LANGUAGES:
        return {}
    path = catalog_path(language)
    if not path.exists():
        return {}
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def load_catalogs() -> None:
    """Read every catalog now (a server starting), not on the first request that needs one."""
    for language in LANGUAGES:
        translations(language)


def translator(language: str) -> Callable[[str], str]:
    found = translations(language)
    return lambda template: found.get(template, template)


def render(text: Text, language: str) -> str:
    """``text`` in ``language``: a :class:`Msg` through the catalog, plain text as it is."""
    if isinstance(text, Msg):
        return text.render(translator(language))
    return text


def known(language: str | None) -> str | None:
    """A language tag (``fr``, ``fr-CA``, ``FR_ca``) as one Docket speaks, if it does."""
    if not language:
        return None
    primary = language.strip().replace("_", "-").partition("-")[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str | None:
    """The language an ``Accept-Language`` header prefers among Docket's (RFC 9110,
    12.5.4): the highest q-value wins, the earlier of equals; ``q=0`` means not this one;
    ``*`` is any (English). ``None`` when it names none of them."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for index, item in enumerate(accept_language.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        language = ENGLISH if tag == "*" else known(tag)
        if language is None:
            continue
        if quality == 0.0:
            refused.add(language)
            continue
        ranked.append((-quality, index, language))
    for _, _, language in sorted(ranked):
        if language not in refused:
            return language
    return None


def when(at: datetime, language: str, time_zone: str | None) -> str:
    """An instant as a person reads it: the date and time in their time zone (UTC when they
    have none), in their language's way, naming the zone: ``mardi 1 décembre 2026 à 17:30
    (Europe/Paris)``, ``Tuesday, December 1, 2026 at 5:30 PM (Europe/Paris)``."""
    zone_name = time_zone or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    local = at.astimezone(zone)
    return render(
        Msg(
            "{date} at {time} ({zone})",
            date=format_date(local, "full", locale=language),
            time=format_time(local, "short", locale=language),
            zone=zone_name,
        ),
        language,
    )


def duration(seconds: float, language: str) -> str:
    """A span as a person reads it, rounded to its largest unit: ``4 heures``, ``30 minutes``."""
    return format_timedelta(timedelta(seconds=seconds), threshold=2, locale=language)
