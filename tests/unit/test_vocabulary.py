"""The desk's words are defined once: the domain's checks and the API's schemas agree."""

from __future__ import annotations

import inspect
from typing import Any, get_args

import pytest

from api.problems import STATUS_OF
from api.schemas.lists import TicketQuery
from api.schemas.tickets import TicketFiling
from domain import errors
from domain.vocabulary import CHANNELS, PRIORITIES, STATUSES, TICKET_TYPES, FilingChannel


def enum_of(schema: dict[str, Any]) -> list[str]:
    """The enum of a field's JSON schema, through a list's items or a nullable union."""
    if "enum" in schema:
        return list(schema["enum"])
    if "items" in schema:
        return enum_of(schema["items"])
    return next(enum_of(s) for s in schema.get("anyOf", []) if s.get("type") != "null")


def test_a_filing_offers_the_types_priorities_and_channels_the_domain_checks() -> None:
    fields = TicketFiling.model_json_schema()["properties"]
    assert enum_of(fields["type"]) == list(TICKET_TYPES)
    assert enum_of(fields["priority"]) == list(PRIORITIES)
    assert set(enum_of(fields["channel"])) == set(CHANNELS) - {"import"}


def test_a_list_filters_on_the_statuses_types_and_priorities_of_the_domain() -> None:
    fields = TicketQuery.model_json_schema()["properties"]
    assert enum_of(fields["status"]) == list(STATUSES)
    assert enum_of(fields["type"]) == list(TICKET_TYPES)
    assert enum_of(fields["priority"]) == list(PRIORITIES)


def test_the_channels_a_ticket_is_filed_through_are_channels() -> None:
    assert set(get_args(FilingChannel)) <= set(CHANNELS)


DOMAIN_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.DocketError) and cls is not errors.DocketError
]


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_has_a_status_and_a_problem_type_of_its_own(
    error: type[errors.DocketError],
) -> None:
    assert any(issubclass(error, mapped) for mapped in STATUS_OF)
    assert error.code != errors.DocketError.code
    assert [e.code for e in DOMAIN_ERRORS].count(error.code) == 1


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (errors.DocketError, "refused"),
        (errors.NotAMember, "not-a-member"),
        (errors.TicketBusy, "ticket-busy"),
        (errors.ContactAlreadyATicket, "contact-already-a-ticket"),
        (errors.TooManyContactRequests, "too-many-contact-requests"),
    ],
)
def test_a_refusals_problem_type_is_its_name_in_kebab_case(
    refusal: type[errors.DocketError], code: str
) -> None:
    assert refusal.code == code
