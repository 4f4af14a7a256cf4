"""Custom ticket fields: what admins define, and the values a ticket carries."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import Strict, example
from domain.custom_fields import FIELDS_MAX, OPTIONS_MAX, FieldKind
from domain.vocabulary import NAME_MAX_CHARS

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
FieldKey = Annotated[str, Field(min_length=1, max_length=40, pattern=KEY_PATTERN)]
Label = Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS)]
CustomValue = str | int | float | bool | None
"""text a string, number a number, dropdown an option's key, checkbox a boolean, date
``YYYY-MM-DD``; ``null`` clears a value (a change) or gives none (filing)."""
CustomValues = Annotated[
    dict[FieldKey, CustomValue],
    Field(
        max_length=FIELDS_MAX,
        description="Field key → value, checked against GET /v1/ticket-fields; errors name "
        "custom_fields.<key>.",
    ),
]


class Labels(Strict):
    en: Label
    fr: Label


class OptionIn(Strict):
    key: FieldKey
    labels: Labels


class TicketFieldIn(Strict):
    model_config = example(
        key="operating_system",
        kind="dropdown",
        labels={"en": "Operating system", "fr": "Système d'exploitation"},
        options=[
            {"key": "linux", "labels": {"en": "Linux", "fr": "Linux"}},
            {"key": "macos", "labels": {"en": "macOS", "fr": "macOS"}},
        ],
        product="Files",
        required=True,
    )
    key: FieldKey
    kind: FieldKind
    labels: Labels
    options: list[OptionIn] = Field(default_factory=list, max_length=OPTIONS_MAX)
    product: Label | None = Field(default=None, description="None: every product.")
    required: bool = Field(default=False, description="Asked for when filing on the form.")


class TicketFieldChange(Strict):
    """What changes; what is left out stays. Key, kind and product are fixed."""

    model_config = example(required=False)
    labels: Labels | None = None
    options: list[OptionIn] | None = Field(
        default=None,
        max_length=OPTIONS_MAX,
        description="The whole list as it is to stand: options left out are removed (tickets "
        "keep a removed option's key).",
    )
    required: bool | None = None
    archived: bool | None = None


class OptionOut(BaseModel):
    key: str
    labels: dict[str, str]


class TicketFieldOut(BaseModel):
    key: str
    kind: str
    labels: dict[str, str]
    options: list[OptionOut]
    product: str | None
    required: bool
    archived: bool
    revision: int
    position: int | None = None


class TicketFieldList(BaseModel):
    fields: list[TicketFieldOut]


class CustomFieldsIn(Strict):
    model_config = example(custom_fields={"operating_system": "linux"})
    custom_fields: CustomValues


class CustomFieldOut(BaseModel):
    """A ticket's value with what it means now: both labels of the field, and of the
    option for a dropdown. A value stored under an option removed since reads as its key,
    with ``option_removed`` true; a field since archived or gone says so too."""

    key: str
    value: str | int | float | bool
    kind: str | None
    labels: dict[str, str] | None
    value_labels: dict[str, str] | None = None
    option_removed: bool = False
    archived: bool = False
