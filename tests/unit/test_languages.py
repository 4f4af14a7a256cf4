"""What Docket tells people comes in French and English: every template of the code has
its French translation in the catalog, with the same placeholders, and nothing more; a
request's language is the best of its ``Accept-Language``."""

from __future__ import annotations

import string

import pytest

from domain.errors import InvalidField, TicketClosed
from domain.messages import Msg
from languages import negotiate, render
from languages.catalog import extracted, read


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_template_in_the_code_has_a_french_translation() -> None:
    catalog = read("fr")
    untranslated = sorted(
        {t for t, _ in extracted() if (m := catalog.get(t)) is None or not m.string}
    )
    assert untranslated == [], "run python -m languages.catalog and translate these"


def test_the_french_catalog_holds_no_template_the_code_no_longer_has() -> None:
    templates = {t for t, _ in extracted()}
    stale = sorted(str(m.id) for m in read("fr") if m.id and m.id not in templates)
    assert stale == [], "run python -m languages.catalog to drop them"


def test_the_code_says_a_good_many_things_through_templates() -> None:
    assert len({t for t, _ in extracted()}) > 250


def test_each_translation_has_the_placeholders_of_its_template() -> None:
    wrong = {
        str(m.id): str(m.string)
        for m in read("fr")
        if m.id and placeholders(str(m.id)) != placeholders(str(m.string))
    }
    assert wrong == {}


def test_a_message_is_english_as_text_and_french_through_the_catalog() -> None:
    refusal = TicketClosed(
        Msg(
            "Ticket {number} is closed: reopen it before adding to its conversation.",
            number="T-000042",
        )
    )
    assert (
        refusal.detail
        == str(refusal)
        == ("Ticket T-000042 is closed: reopen it before adding to its conversation.")
    )
    assert render(refusal.message, "fr") == (
        "Le ticket T-000042 est fermé : rouvrez-le avant d'ajouter quoi que ce soit à sa "
        "conversation."
    )


def test_a_value_that_is_a_message_is_said_in_the_same_language() -> None:
    message = Msg(
        "{what} is being changed by many writers at once; nothing was changed. Retry in a moment.",
        what=Msg("Ticket {number}", number="T-000007"),
    )
    assert render(message, "fr").startswith("Ticket T-000007 : trop de modifications")
    assert str(message).startswith("Ticket T-000007 is being changed")


def test_plain_text_is_shown_as_it_is_in_every_language() -> None:
    assert render(InvalidField("x", "as it was").message, "fr") == "as it was"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR_ca", "fr"),
        ("en-US,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE, fr;q=0.7, en;q=0.5", "fr"),
        ("en;q=0.4, fr-BE;q=0.9", "fr"),
        ("fr;q=0, en;q=0.1", "en"),
        ("fr;q=0", None),
        ("de, es", None),
        ("*", "en"),
        ("fr;q=abc, en;q=0.2", "en"),
        ("", None),
        (None, None),
    ],
)
def test_the_request_language_is_the_best_of_accept_language(
    header: str | None, language: str | None
) -> None:
    assert negotiate(header) == language


def test_a_staff_member_reads_english_until_they_choose_another_language() -> None:
    from uuid import uuid4

    from domain.errors import NothingChanged
    from domain.staff import StaffMember
    from tests.builders import system as stamp

    member = StaffMember.register(
        staff_id=uuid4(),
        name="Zoé",
        email="zoe@docket.example",
        role="agent",
        groups=[],
        stamp=stamp(),
    )
    assert member.language == "en"
    member.choose_language(language="fr", stamp=stamp())
    assert member.language == "fr"
    assert isinstance(member.collect_events()[-1], StaffMember.LanguageChosen)
    with pytest.raises(NothingChanged):
        member.choose_language(language="fr", stamp=stamp())
    with pytest.raises(InvalidField):
        member.choose_language(language="de", stamp=stamp())


DETAIL_AT = {"InvalidField": 1, "Problem": 2, "MailRefused": 1, "AttachmentRefused": 1,
             "bad_query": 1, "BadCursor": 0}  # fmt: skip
"""Where the refusals that take a detail other than first take it."""


def refusals_in_plain_text() -> list[str]:
    """Each refusal in the code whose detail is a string or f-string, not a ``Msg``."""
    import ast
    from pathlib import Path

    from domain import errors
    from languages.catalog import FOLDERS, ROOT

    named = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.DocketError)
    }
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                at = DETAIL_AT.get(name or "", 0 if name in named else None)
                if at is None or at >= len(node.args):
                    continue
                detail = node.args[at]
                if isinstance(detail, ast.JoinedStr) or (
                    isinstance(detail, ast.Constant) and isinstance(detail.value, str)
                ):
                    found.append(f"{Path(path).relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_refusal_says_its_detail_with_a_message_template() -> None:
    """Wrap the detail in Msg("…", name=value): see docs/languages.md."""
    assert refusals_in_plain_text() == []


def test_an_automation_notice_is_framed_in_its_reader_language_and_says_the_rule_words() -> None:
    from projections.outbox import Notice, compose

    notice = Notice("automation", "T-000009", "Synchro en panne", text="Still waiting on you.")
    subject, french = compose(notice, "fr", None)
    assert subject == "Re: [T-000009] Synchro en panne"
    assert "À propos du ticket T-000009 (Synchro en panne) :\n\nStill waiting on you." in french
    _, english = compose(notice, "en", None)
    assert "About ticket T-000009 (Synchro en panne):\n\nStill waiting on you." in english


@pytest.mark.parametrize(
    ("count", "english", "french"),
    [
        (0, "0 bytes", "0 octets"),
        (12, "12 bytes", "12 octets"),
        (1023, "1,023 bytes", "1\u202f023 octets"),
        (1536, "1.5 KB", "1,5 Ko"),
        (7 * 1024 * 1024 // 2, "3.5 MB", "3,5 Mo"),
    ],
)
def test_a_file_size_reads_in_the_readers_language_and_a_small_file_is_never_zero(
    count: int, english: str, french: str
) -> None:
    from api.pages.templating import words

    assert words("en", None)["size"](count) == english
    assert words("fr", None)["size"](count) == french
