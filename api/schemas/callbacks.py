"""A callback request: a customer asks to be phoned back, in a window or as soon as
possible."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Strict, example
from domain.channels import TIME_ZONE_MAX_CHARS
from domain.vocabulary import BODY_MAX_BYTES, NAME_MAX_CHARS, SUBJECT_MAX_CHARS, TicketType


class CallbackIn(Strict):
    model_config = example(
        phone="+14155552671",
        window_start="2030-03-04T09:00:00-08:00",
        window_end="2030-03-04T12:00:00-08:00",
        time_zone="America/Los_Angeles",
        subject="Cannot sign in since the update",
    )
    phone: str = Field(
        max_length=64, description="E.164: + then 8 to 15 digits, e.g. +14155552671."
    )
    window_start: datetime | None = Field(
        default=None,
        description="ISO instant with a time zone. Leave out both window_start and "
        "window_end to be called as soon as possible (when the next representative is free).",
    )
    window_end: datetime | None = Field(
        default=None,
        description="After window_start, in the future, at most 7 days after window_start "
        "and 30 days from now; the window lasts at least 15 minutes.",
    )
    time_zone: str | None = Field(
        default=None,
        max_length=TIME_ZONE_MAX_CHARS,
        description="IANA zone to show the window in.",
    )
    subject: str = Field(
        default="",
        max_length=SUBJECT_MAX_CHARS,
        description="Left out or blank: the ticket's subject is 'Callback request'.",
    )
    description: str = Field(default="", max_length=BODY_MAX_BYTES)
    type: TicketType = "question"
    product: str = Field(default="", max_length=NAME_MAX_CHARS)
