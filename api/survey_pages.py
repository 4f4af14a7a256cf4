"""The small HTML pages a survey link opens: self-contained (inline CSS, no script, no
outside asset), in the language of the link, every value escaped."""

from __future__ import annotations

from html import escape

from domain.surveys import SURVEY_LIFETIME
from domain.vocabulary import COMMENT_MAX_CHARS

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1d2329;line-height:1.5}h1{font-size:1.4rem}fieldset{border:0;padding:0;margin:1rem 0;"
    "display:flex;gap:.5rem;flex-wrap:wrap}"
    "label.score{border:1px solid #9aa5b1;border-radius:.4rem;"
    "padding:.4rem .7rem;cursor:pointer}textarea{width:100%;min-height:6rem;font:inherit}"
    "button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:.4rem;"
    "background:#1f6feb;color:#fff;cursor:pointer}.muted{color:#56606b}"
)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did we do?",
        "intro": "Your rating of ticket {number}. Check the score and send it; a comment is "
        "welcome.",
        "scores": "Very dissatisfied|Dissatisfied|Neutral|Satisfied|Very satisfied",
        "comment": "Comment (optional)",
        "send": "Send my rating",
        "thanks": "Thank you",
        "recorded": "Your rating of ticket {number} ({score} out of 5) is recorded.",
        "refused": "This survey link does not work",
    },
    "fr": {
        "title": "Votre avis sur notre aide",
        "intro": "Votre note du ticket {number}. Vérifiez la note et envoyez-la ; un "
        "commentaire est le bienvenu.",
        "scores": "Très insatisfait|Insatisfait|Neutre|Satisfait|Très satisfait",
        "comment": "Commentaire (facultatif)",
        "send": "Envoyer ma note",
        "thanks": "Merci",
        "recorded": "Votre note du ticket {number} ({score} sur 5) est enregistrée.",
        "refused": "Ce lien d'enquête ne fonctionne pas",
    },
}


def _words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["en"])


def _page(language: str, title: str, content: str) -> str:
    lang = language if language in WORDS else "en"
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


FRENCH_DETAILS = {
    "survey-link-invalid": "Ce lien d'enquête n'a pas été envoyé par Docket (il est peut-être "
    "coupé ou modifié) : rouvrez le lien depuis l'e-mail, ou notez le ticket depuis votre "
    "liste de tickets.",
    "survey-link-expired": "Ce lien d'enquête ne fonctionne plus ({days} jours après la "
    "fermeture du ticket) : notez le ticket depuis votre liste de tickets.",
    "survey-already-answered": "Votre note de ce ticket est déjà enregistrée : merci. Un lien "
    "d'enquête enregistre une seule note.",
    "survey-no-longer-open": "Le ticket a été rouvert depuis l'envoi de cette enquête : elle "
    "vous sera proposée à nouveau à sa fermeture.",
}


def survey_refused(language: str, code: str, detail: str) -> str:
    """A refusal, for a browser: what the problem's detail says, on a page (in French for
    a French link)."""
    words = _words(language)
    if language == "fr" and code in FRENCH_DETAILS:
        detail = FRENCH_DETAILS[code].format(days=SURVEY_LIFETIME.days)
    return _page(language, words["refused"], f'<p class="muted">{escape(detail)}</p>')
