"""What Docket tells a person, as a template and its values, in no language yet.

A :class:`Msg` is English when it becomes text (``str(msg)``); :mod:`languages` renders
it in another language through the message catalog. Refusals take one as their detail
(``InvalidField("email", Msg("{email} is not an email address.", email=email))``), so
the domain says what to say and the way in, which knows who reads it, says it in their
language. A value that is itself a :class:`Msg` is rendered in the same language.

The template is the catalog's ``msgid``: write it as a plain string literal (never an
f-string) with named ``{placeholders}``, so Babel's extractor finds it; the values are
keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Msg:
    """A message template with its named values; English by ``str()``."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def render(self, translate: Callable[[str], str]) -> str:
        """The text, each template (this one's and any value's) looked up by ``translate``."""
        values = {
            name: value.render(translate) if isinstance(value, Msg) else value
            for name, value in self.params.items()
        }
        return translate(self.template).format(**values)

    def __str__(self) -> str:
        return self.render(lambda template: template)

    def __repr__(self) -> str:
        return f"Msg({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Msg):
            return (self.template, self.params) == (other.template, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.template)


Text = str | Msg
"""What a detail may be: a :class:`Msg`, or plain text (shown as it is, in English)."""


def message_of(error: BaseException) -> Text:
    """What an exception tells a person: its :class:`Msg` when it carries one."""
    message = getattr(error, "message", None)
    if isinstance(message, (str, Msg)):
        return message
    if error.args and isinstance(error.args[0], Msg):
        return error.args[0]
    return str(error)
