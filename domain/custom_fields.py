"""Custom ticket fields: what admins define (the field book) and the values tickets take.

A field has a stable ``key`` (what values are stored under), a ``kind`` (text, number,
dropdown, checkbox, date), labels in English and French, for a dropdown its options
(each a stable key with labels), the product it applies to (``None``: every product),
whether it is required when a ticket is filed through the web or API form, and whether it
is archived (no longer offered, nor taking new values).

There is one book, on a well-known id, like the SLA policy's. Defining or revising a
field records an event on it; neither ever rewrites a stored ticket: a ticket keeps the
values it was given (a dropdown value whose option was removed since stays as its key).
Key, kind and product are fixed once a field is defined, so a stored value always reads
as the kind it was validated as.

Values, as stored on :class:`domain.ticket.Ticket.CustomFieldsSet`: text a string,
number a JSON number, dropdown an option's key, checkbox ``true``/``false``, date an ISO
``YYYY-MM-DD`` string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import AlreadyExists, InvalidField, NothingChanged, UnknownTicketField
from domain.messages import Msg
from domain.stamp import Stamp
from domain.vocabulary import LANGUAGES, NAME_MAX_CHARS, checked_choice, checked_text

BOOK_ID: UUID = uuid5(NAMESPACE_URL, "docket:ticket-field-book")

FieldKind = Literal["text", "number", "dropdown", "checkbox", "date"]
FIELD_KINDS: tuple[FieldKind, ...] = get_args(FieldKind)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
"""A field's or an option's key: lower case ASCII, digits and ``_``, at most 40."""
TEXT_VALUE_MAX_CHARS = 1000
OPTIONS_MAX = 200
FIELDS_MAX = 200


def checked_key(field: str, value: Any) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise InvalidField(
            field,
            Msg(
                "{field} is a key of lower case letters, digits and _ (starting with a letter, "
                "at most 40 characters), e.g. operating_system.",
                field=field,
            ),
        )
    return value


def checked_labels(field: str, labels: Any) -> dict[str, str]:
    """Labels in every language of the desk (English and French), printable text."""
    if not isinstance(labels, Mapping) or set(labels) != set(LANGUAGES):
        raise InvalidField(
            field,
            Msg(
                "{field} gives a label in each of {LANGUAGES}.",
                field=field,
                LANGUAGES=", ".join(LANGUAGES),
            ),
        )
    for language in LANGUAGES:
        text = labels[language]
        checked_text(f"{field}.{language}", text, max_chars=NAME_MAX_CHARS)
        if not text.isprintable():
            raise InvalidField(f"{field}.{language}", Msg("A label is printable text."))
    return {language: labels[language] for language in LANGUAGES}


@dataclass(frozen=True)
class FieldOption:
    key: str
    labels: dict[str, str]


@dataclass(frozen=True)
class FieldDefinition:
    key: str
    kind: str
    labels: dict[str, str]
    options: tuple[FieldOption, ...] = ()
    product: str | None = None
    required: bool = False
    archived: bool = False

    def applies_to(self, product: str) -> bool:
        return self.product is None or self.product == product

    def option(self, key: str) -> FieldOption | None:
        return next((o for o in self.options if o.key == key), None)

    def as_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "labels": dict(self.labels),
            "options": [{"key": o.key, "labels": dict(o.labels)} for o in self.options],
            "product": self.product,
            "required": self.required,
            "archived": self.archived,
        }

    def checked_value(self, value: Any) -> Any:
        """``value`` as this field stores it, if it is one this field takes now."""
        name = f"custom_fields.{self.key}"
        match self.kind:
            case "text":
                if not isinstance(value, str):
                    raise InvalidField(name, Msg("{name} is text.", name=name))
                checked_text(name, value, max_chars=TEXT_VALUE_MAX_CHARS)
                if not _is_plain_text(value):
                    raise InvalidField(
                        name, Msg("{name} is text without control characters.", name=name)
                    )
                return value
            case "number":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidField(name, Msg("{name} is a number, e.g. 42 or 2.5.", name=name))
                if not math.isfinite(value) or abs(value) > 1e15:
                    raise InvalidField(
                        name, Msg("{name} is a finite number of at most 1e15.", name=name)
                    )
                return value
            case "checkbox":
                if not isinstance(value, bool):
                    raise InvalidField(name, Msg("{name} is true or false.", name=name))
                return value
            case "date":
                if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    try:
                        return date.fromisoformat(value).isoformat()
                    except ValueError:
                        pass
                raise InvalidField(name, Msg("{name} is a date written YYYY-MM-DD.", name=name))
            case _:  # dropdown
                keys = [o.key for o in self.options]
                if not isinstance(value, str) or value not in keys:
                    raise InvalidField(
                        name,
                        Msg(
                            "{name} is one of the keys {keys}.",
                            name=name,
                            keys=", ".join(keys) or Msg("(none yet)"),
                        ),
                    )
                return value


def _is_plain_text(value: str) -> bool:
    """No control character but tabs and line breaks, and no lone surrogate (the one thing
    UTF-8 cannot encode)."""
    return not any((c < " " and c not in "\t\n\r") or "\ud800" <= c <= "\udfff" for c in value)


def definition_from_data(data: Mapping[str, Any]) -> FieldDefinition:
    """A definition as an admin wrote it (or as an event stored it), every part checked."""
    key = checked_key("key", data.get("key"))
    kind = checked_choice("kind", data.get("kind"), FIELD_KINDS)  # type: ignore[arg-type]
    labels = checked_labels("labels", data.get("labels"))
    raw_options = data.get("options") or []
    if kind != "dropdown" and raw_options:
        raise InvalidField("options", Msg("Only a dropdown field has options."))
    if not isinstance(raw_options, list) or len(raw_options) > OPTIONS_MAX:
        raise InvalidField(
            "options", Msg("options is a list of at most {OPTIONS_MAX}.", OPTIONS_MAX=OPTIONS_MAX)
        )
    options = tuple(
        FieldOption(
            checked_key(f"options.{i}.key", o.get("key") if isinstance(o, Mapping) else None),
            checked_labels(f"options.{i}.labels", o.get("labels")),
        )
        for i, o in enumerate(raw_options)
    )
    if len({o.key for o in options}) != len(options):
        raise InvalidField("options", Msg("Give each option its own key."))
    product = data.get("product")
    if product is not None:
        checked_text("product", product, max_chars=NAME_MAX_CHARS)
    required, archived = data.get("required", False), data.get("archived", False)
    if not isinstance(required, bool) or not isinstance(archived, bool):
        raise InvalidField("required", Msg("required and archived are true or false."))
    if kind == "dropdown" and required and not archived and not options:
        raise InvalidField("options", Msg("A required dropdown needs an option to choose."))
    return FieldDefinition(key, kind, labels, options, product, required, archived)


class TicketFieldBook(ChainedAggregate):
    """Every custom ticket field defined, as the admins' recorded changes."""

    class Founded(ChainedAggregate.Created):
        pass

    class FieldDefined(ChainedAggregate.Event):
        definition: dict[str, Any]

    class FieldRevised(ChainedAggregate.Event):
        """A field's labels, options, required flag or archived flag changed; ``definition``
        is the whole definition as it now stands."""

        definition: dict[str, Any]

    @classmethod
    def found(cls, *, stamp: Stamp) -> TicketFieldBook:
        return cls(id=BOOK_ID, stamp=stamp)

    @event(Founded)
    def __init__(self, id: UUID, stamp: Stamp) -> None:
        self.fields: dict[str, FieldDefinition] = {}
        self.revisions: dict[str, int] = {}
        """Per field, 1 when defined, one more per revision: what ``If-Match`` names."""

    def define(self, *, data: Mapping[str, Any], stamp: Stamp) -> FieldDefinition:
        definition = definition_from_data(data)
        if definition.key in self.fields:
            raise AlreadyExists(
                Msg(
                    "A field with key {key} is defined already: change it with PATCH "
                    "/v1/ticket-fields/{key}, or choose another key.",
                    key=definition.key,
                )
            )
        if len(self.fields) >= FIELDS_MAX:
            raise InvalidField(
                "key",
                Msg("At most {FIELDS_MAX} fields; archive unused ones.", FIELDS_MAX=FIELDS_MAX),
            )
        self._field_defined(definition=definition.as_data(), stamp=stamp)
        return definition

    @event(FieldDefined)
    def _field_defined(self, definition: dict[str, Any], stamp: Stamp) -> None:
        self.fields[definition["key"]] = definition_from_data(definition)
        self.revisions[definition["key"]] = 1

    def revise(self, *, key: str, changes: Mapping[str, Any], stamp: Stamp) -> FieldDefinition:
        """Change what ``changes`` names (labels, options, required, archived); key, kind
        and product stay as defined."""
        current = self.field(key)
        for fixed in ("key", "kind", "product"):
            if fixed in changes and changes[fixed] != getattr(current, fixed):
                raise InvalidField(
                    fixed,
                    Msg(
                        "A field's {fixed} is fixed once defined: define a new field.", fixed=fixed
                    ),
                )
        revised = definition_from_data({**current.as_data(), **changes})
        if revised == current:
            raise NothingChanged(Msg("Field {key} is already defined that way.", key=key))
        self._field_revised(definition=revised.as_data(), stamp=stamp)
        return revised

    @event(FieldRevised)
    def _field_revised(self, definition: dict[str, Any], stamp: Stamp) -> None:
        self.fields[definition["key"]] = definition_from_data(definition)
        self.revisions[definition["key"]] += 1

    def field(self, key: str) -> FieldDefinition:
        if key not in self.fields:
            raise UnknownTicketField(
                Msg("No ticket field {key}: GET /v1/ticket-fields lists them.", key=key)
            )
        return self.fields[key]


Definitions = Mapping[str, FieldDefinition]


def values_at_filing(
    definitions: Definitions, product: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """The values a ticket filed through the web or API form is given: each a field in
    force (not archived) for its product, of its kind; every required one there."""
    values = values_changed(definitions, product, {}, given)
    for definition in definitions.values():
        if (
            definition.required
            and not definition.archived
            and definition.applies_to(product)
            and definition.key not in values
        ):
            raise InvalidField(
                f"custom_fields.{definition.key}",
                Msg(
                    "custom_fields.{key} ({label}) is required when filing a ticket about "
                    "{product}.",
                    key=definition.key,
                    label=definition.labels["en"],
                    product=product or Msg("this product"),
                ),
            )
    return values


def values_changed(
    definitions: Definitions,
    product: str,
    current: Mapping[str, Any],
    given: Mapping[str, Any],
) -> dict[str, Any]:
    """The ticket's values after ``given`` (a key to ``None`` clears it): each new value of a
    field in force for the product, of its kind; a required field is not cleared. Values
    not named stay as stored, whatever their definition became since."""
    values = dict(current)
    for key, value in given.items():
        name = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            raise InvalidField(
                name, Msg("No ticket field {key}: GET /v1/ticket-fields lists them.", key=key)
            )
        if value is None:
            if definition.required and definition.applies_to(product) and key in values:
                raise InvalidField(
                    name, Msg("{name} is required: give another value instead.", name=name)
                )
            values.pop(key, None)
            continue
        if key in values and values[key] == value and type(values[key]) is type(value):
            continue  # as stored: kept, whatever its definition became since
        if definition.archived:
            raise InvalidField(
                name, Msg("Field {key} is archived: it takes no new value.", key=key)
            )
        if not definition.applies_to(product):
            raise InvalidField(
                name,
                Msg(
                    "Field {key} is for tickets about {its_product}, not {product}.",
                    key=key,
                    its_product=definition.product,
                    product=product,
                ),
            )
        values[key] = definition.checked_value(value)
    return values


def filter_value(definition: FieldDefinition, text: str) -> Any:
    """The value a list filter ``field=<key>:<text>`` asks for, as this field stores it.
    A dropdown may name an option removed since (tickets keep such values)."""
    name = "field"
    match definition.kind:
        case "number":
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise InvalidField(
                    name, Msg("{key} is a number, e.g. 42 or 2.5.", key=definition.key)
                )
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        case "checkbox":
            if text not in ("true", "false"):
                raise InvalidField(name, Msg("{key} is true or false.", key=definition.key))
            return text == "true"
        case "dropdown":
            return checked_key(name, text)
        case "date":
            return FieldDefinition(definition.key, "date", definition.labels).checked_value(text)
        case _:
            return text
