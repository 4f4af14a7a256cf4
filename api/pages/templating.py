"""Rendering a page: Jinja2 templates, in the reader's language and time zone.

Templates live in ``api/pages/templates/``. Every word a person reads is written
``{{ _("English text {name}", name=value) }}``: the English is the catalog's ``msgid``
(``python -m languages.catalog`` extracts them from the templates as from the code's
``Msg``), the values are named. Autoescaping is on for every template; ``_`` returns plain
text, so a translated value is escaped like any other.

Dates and times go through ``moment`` (a date and time, short, in the reader's zone and
language) and ``day``; spans through ``span``; a file's size through ``size``. Every page
is sent with a ``Content-Security-Policy`` of Docket's own host, ``no-store`` caching (pages
show a person's tickets) and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.pages.visitors import Visitor
from domain.messages import Msg
from languages import duration, render, translator

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parents[1] / "static"

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""What a page may load and where its forms may go: Docket's own host, no inline script."""


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset
    env.filters["plain"] = plain
    return env


def plain(value: Any) -> str:
    """A recorded value as a reader reads it: a mapping or a list as JSON (not Python's
    repr), anything else as text."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


@cache
def asset(name: str) -> str:
    """The URL of one of Docket's own static files, with its content's hash, so a browser
    keeps it for a year (``/static`` says so) and fetches it anew once it changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def words(language: str, time_zone: str | None) -> dict[str, Callable[..., str]]:
    """The helpers every template gets for its reader."""
    translate = translator(language)
    tz = zone(time_zone)

    def _(template: str, /, **values: Any) -> str:
        return translate(template).format(**values) if values else translate(template)

    def say(text: Msg | str) -> str:
        return render(text, language)

    def moment(at: datetime | None) -> str:
        if at is None:
            return ""
        return format_datetime(at.astimezone(tz), "short", tzinfo=tz, locale=language)

    def day(at: datetime | date | None) -> str:
        """An instant's day in the reader's zone; a calendar date (a renewal) as it is."""
        if at is None:
            return ""
        if not isinstance(at, datetime):
            return format_date(at, "medium", locale=language)
        return format_date(at.astimezone(tz), "medium", locale=language)

    def span(seconds: float | None) -> str:
        return "" if seconds is None else duration(abs(seconds), language)

    def decimal(value: float | None, decimals: int = 2) -> str:
        """A figure as the reader writes it (``0,25`` in French); none is a dash."""
        if value is None:
            return "—"
        return format_decimal(round(value, decimals), locale=language)

    def size(count: int) -> str:
        """A file's size as a person reads it: bytes under a kilobyte, else kilobytes or
        megabytes to one decimal (``1,5 Ko`` in French)."""
        if count < 1024:
            return _("{n} bytes", n=format_decimal(count, locale=language))
        if count < 1024 * 1024:
            return _("{n} KB", n=format_decimal(round(count / 1024, 1), locale=language))
        return _("{n} MB", n=format_decimal(round(count / 1024 / 1024, 1), locale=language))

    return {"_": _, "say": say, "moment": moment, "day": day, "span": span,
            "decimal": decimal, "size": size}  # fmt: skip


def page(
    request: Request,
    visitor: Visitor,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered for its reader, with the headers every page carries. Every
    template gets ``visitor`` (who, ``visitor.csrf`` for its forms), ``language``,
    ``path`` and the helpers of :func:`words`."""
    language = visitor.language
    html = (
        environment()
        .get_template(template)
        .render(
            **words(language, visitor.time_zone),
            visitor=visitor,
            language=language,
            time_zone=visitor.time_zone or "UTC",
            path=request.url.path,
            **(context or {}),
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response
