"""HTML mail bodies as plain text a ticket's conversation can show.

Blocks and paragraphs become lines and blank lines, ``<li>`` a ``- `` item, ``<hr>`` a
rule, ``<pre>`` keeps its line breaks; scripts, styles and the head are dropped. A
``<blockquote>`` comes out ``>``-quoted, so the reply trimmer finds the quoted history
of an HTML mail as it does a plain one. A link shows its web address after its text
unless the text already says it. Markup that trips the parser falls back to its text
with every tag removed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mail.text import WHITESPACE, clean_body

_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_PARAGRAPHS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"])
_SKIPPED = frozenset(["script", "style", "head", "title", "template", "noscript", "object"])
_MAX_QUOTE_MARKS = 8
"""Deeper quotes are drawn at this depth, so hostile nesting cannot blow the text up."""
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.line: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[tuple[str | None, int]] = []

    def _end_line(self, *, keep_empty: bool = False) -> None:
        text = "".join(self.line)
        if self.pre_depth == 0:
            text = WHITESPACE.sub(" ", text.replace("\xa0", " ")).strip()
        if text or keep_empty:
            self.lines.append((self.quote_depth, text))
        self.line = []

    def _blank_line(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.quote_depth, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if tag == "br":
            self._end_line(keep_empty=True)
        elif tag == "hr":
            self._end_line()
            self.lines.append((self.quote_depth, "_" * 32))
        elif tag == "blockquote":
            self._blank_line()
            self.quote_depth += 1
        elif tag in _PARAGRAPHS:
            self._blank_line()
            self.pre_depth += tag == "pre"
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "li":
                self.line.append("- ")
        elif tag in ("td", "th"):
            self.line.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            web = href if href.startswith(("http://", "https://")) else None
            self.links.append((web, len(self.line)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._end_line()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._blank_line()
        elif tag in _PARAGRAPHS:
            self._end_line()
            self.pre_depth = max(0, self.pre_depth - (tag == "pre"))
            self._blank_line()
        elif tag in _BLOCKS:
            self._end_line()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            if href and href not in "".join(self.line[start:]):
                self.line.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for part in parts[:-1]:
                self.line.append(part)
                self._end_line(keep_empty=True)
            self.line.append(parts[-1])
        else:
            self.line.append(data)

    def text(self) -> str:
        self._end_line()
        while self.lines and not self.lines[-1][1]:
            self.lines.pop()
        rendered = []
        for depth, text in self.lines:
            prefix = "> " * min(depth, _MAX_QUOTE_MARKS)
            rendered.append((prefix + text).rstrip())
        joined = "\n".join(rendered)
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body; ``<blockquote>`` content comes out ``>``-quoted."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        return clean_body(extractor.text())
    except Exception:  # html.parser can still trip on some hostile markup
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", html)
        return clean_body(WHITESPACE.sub(" ", stripped).strip())
