"""The small HTML pages a survey link opens: self-contained (inline CSS, no script, no
outside asset), in the language of the link, every value escaped."""

from __future__ import annotations

from html import escape

from domain.messages import Msg
from domain.vocabulary import COMMENT_MAX_CHARS, LANGUAGES
from languages import translator

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1d2329;line-height:1.5}h1{font-size:1.4rem}fieldset{border:0;padding:0;margin:1rem 0;"
    "display:flex;gap:.5rem;flex-wrap:wrap}"
    "label.score{border:1px solid #9aa5b1;border-radius:.4rem;"
    "padding:.4rem .7rem;cursor:pointer}textarea{width:100%;min-height:6rem;font:inherit}"
    "button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:.4rem;"
    "background:#1f6feb;color:#fff;cursor:pointer}.muted{color:#56606b}"
)

WORDS: dict[str, Msg] = {
    "title": Msg("How did we do?"),
    "intro": Msg(
        "Your rating of ticket {number}. Check the score and send it; a comment is welcome."
    ),
    "scores": Msg("Very dissatisfied|Dissatisfied|Neutral|Satisfied|Very satisfied"),
    "comment": Msg("Comment (optional)"),
    "send": Msg("Send my rating"),
    "thanks": Msg("Thank you"),
    "recorded": Msg("Your rating of ticket {number} ({score} out of 5) is recorded."),
    "refused": Msg("This survey link does not work"),
}
"""The pages' words, in the message catalog like every other page's (their values are
filled in where they are used)."""


def _words(language: str) -> dict[str, str]:
    translate = translator(language if language in LANGUAGES else "en")
    return {name: translate(word.template) for name, word in WORDS.items()}


def _page(language: str, title: str, content: str) -> str:
    lang = language if language in LANGUAGES else "en"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{content}</body></html>"
    )


def survey_form(language: str, token: str, number: str, score: int | None) -> str:
    """The rating, ``score`` chosen already (the link's), ready to send in one click."""
    words = _words(language)
    labels = words["scores"].split("|")
    choices = "".join(
        f'<label class="score"><input type="radio" name="score" value="{n}" required'
        f"{' checked' if n == score else ''}> {n} · {escape(label)}</label>"
        for n, label in enumerate(labels, 1)
    )
    content = (
        f"<p>{escape(words['intro'].format(number=number))}</p>"
        f'<form method="post" action="/v1/surveys/{escape(token)}">'
        f"<fieldset>{choices}</fieldset>"
        f'<label for="comment">{escape(words["comment"])}</label>'
        f'<textarea id="comment" name="comment" maxlength="{COMMENT_MAX_CHARS}"></textarea>'
        f'<button type="submit">{escape(words["send"])}</button></form>'
    )
    return _page(language, words["title"], content)


def survey_thanks(language: str, number: str, score: int) -> str:
    words = _words(language)
    said = words["recorded"].format(number=number, score=score)
    return _page(language, words["thanks"], f"<p>{escape(said)}</p>")


def survey_refused(language: str, code: str, detail: str) -> str:
    """A refusal, for a browser: what the problem's detail says (in the link's language
    already), on a page."""
    words = _words(language)
    return _page(language, words["refused"], f'<p class="muted">{escape(detail)}</p>')
