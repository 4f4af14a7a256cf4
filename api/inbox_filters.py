"""The inbox's query, read one way for the inbox itself and for every saved view.

A saved view keeps the inbox's query parameters as a client sends them; it is read
here by the inbox's own model (:class:`api.schemas.lists.TicketQuery`) and its own
filter (:func:`api.answers.list_filter`), so whatever the inbox comes to take, a saved
view takes too, and whatever it refuses, a view is refused with the field named
(``filters.<parameter>``). The page parameters (``limit``, ``cursor``, ``min_position``)
say which page to read, not which tickets: a view keeps none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_origin

from pydantic import ValidationError

from api.answers import list_filter
from api.problems import Problem, invalid_input
from api.schemas.lists import TicketQuery
from desk.access import Principal
from domain.custom_fields import Definitions
from domain.messages import Msg, Text
from projections.lists.filters import ListFilter

PAGE_PARAMETERS = ("limit", "cursor", "min_position", "scope")
"""Which page of the inbox to read (and ``scope``, which the inbox has not): not a view's."""


@dataclass(frozen=True)
class InboxSelection:
    """What a query of the inbox lists and in which order."""

    where: ListFilter
    sort: str | None
    reverse: bool


def inbox_filter(
    query: TicketQuery, who: Principal, definitions: Callable[[], Definitions] = dict
) -> ListFilter:
    """The inbox's filter for the caller: the lists' filter, without a scope;
    ``definitions`` answers the custom fields a ``field`` filter names."""
    if query.scope is not None:
        raise Problem(
            422, "invalid-field", Msg("The inbox has no scope; filter by assignee instead.")
        )
    return list_filter(query, who, definitions)


def takes_several(name: str) -> bool:
    field = TicketQuery.model_fields.get(name)
    return field is not None and get_origin(field.annotation) is list


def query_of(parameters: Mapping[str, Sequence[str]]) -> TicketQuery:
    """The parameters as the inbox reads a query string: a repeatable parameter takes every
    value, any other its last one (as FastAPI does)."""
    data: dict[str, Any] = {
        name: list(values) if takes_several(name) else values[-1]
        for name, values in parameters.items()
    }
    return TicketQuery.model_validate(data)


def refused(field: str, message: Text) -> Problem:
    detail = Msg(
        "{field}: {message}. Save the view with filters the inbox takes (GET /v1/inbox).",
        field=field,
        message=message,
    )
    return Problem(422, "invalid-field", detail, errors=[{"field": field, "message": message}])


def saved_selection(
    filters: Mapping[str, Sequence[str]],
    who: Principal,
    definitions: Callable[[], Definitions] = dict,
) -> InboxSelection:
    """What a saved view's filters select for ``who``, read as the inbox reads its query;
    a filter the inbox would refuse is refused naming ``filters.<parameter>``."""
    for name in PAGE_PARAMETERS:
        if name in filters:
            raise refused(
                f"filters.{name}",
                Msg(
                    "a view keeps which tickets to list, not {name}; pass {name} when reading "
                    "the view's tickets",
                    name=name,
                )
                if name != "scope"
                else Msg("the inbox has no scope"),
            )
    try:
        query = query_of(filters)
    except ValidationError as error:
        first = error.errors()[0]
        parameter = ".".join(str(p) for p in first["loc"][:1])
        raise refused(
            f"filters.{parameter}" if parameter else "filters", invalid_input(first)
        ) from None
    try:
        where = inbox_filter(query, who, definitions)
    except Problem as problem:
        named = problem.extra.get("errors") or [{"field": "", "message": problem.detail}]
        field = str(named[0]["field"])
        raise refused(f"filters.{field}" if field else "filters", problem.detail) from None
    return InboxSelection(where, query.sort, query.order == "asc")
