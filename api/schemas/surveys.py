"""Satisfaction surveys (the signed links of the survey email) and a member's preferences."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import Strict, example
from domain.channels import TIME_ZONE_MAX_CHARS
from domain.vocabulary import COMMENT_MAX_CHARS, Language


class SurveyAnswerIn(Strict):
    """The rating a survey page sends (as a form, or as JSON)."""

    model_config = example(score=5, comment="Quick and clear, thank you.")
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str = Field(default="", max_length=COMMENT_MAX_CHARS)


class SurveyRecordedOut(BaseModel):
    """The rating is on record, as the requester's rating of the ticket."""

    number: str
    score: int
    position: int = Field(description="Pass as min_position to read the ticket back.")


ChosenLanguage = Annotated[
    Language | None, Field(description="The language of your pages and emails: en or fr.")
]
"""A person's choice of language, as members and staff alike make it."""
ChosenTimeZone = Annotated[
    str | None,
    Field(
        max_length=TIME_ZONE_MAX_CHARS,
        description="The IANA time zone your pages and emails show times in.",
    ),
]
"""A person's choice of time zone, as members and staff alike make it."""


class PreferencesIn(Strict):
    """A member's own choices: what Docket sends them, the language they read it in, the
    time zone they read times in. Give those that change."""

    model_config = example(surveys=False)
    surveys: bool | None = Field(
        default=None, description="Whether a closed ticket of yours asks you for a rating."
    )
    language: ChosenLanguage = None
    time_zone: ChosenTimeZone = Field(default=None, examples=["Europe/Paris"])


class StaffPreferencesIn(Strict):
    """A staff member's own language and time zone. Give those that change."""

    model_config = example(language="fr", time_zone="Europe/Paris")
    language: ChosenLanguage = None
    time_zone: ChosenTimeZone = None
