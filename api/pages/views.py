"""Saved views in the console: the inbox's filters and order kept under a name, the
agent's own or (admins) shared with all staff, listed beside the inbox with their counts.

The same checks and desk calls as ``POST /v1/views`` and ``DELETE /v1/views/{id}``:
the filters are the inbox page's own query, checked as the inbox checks them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from api.inbox_filters import saved_selection
from api.pages.console import (
    PostedForm,
    filters_of,
    given,
    inbox_response,
    page_link,
    refused_status,
)
from api.pages.visitors import AskedPage, may, permitted, stamp_of
from api.problems import Problem
from desk.answers import SavedViewReceipt
from domain import errors
from domain.messages import Text

router = APIRouter(include_in_schema=False)

QUERY_MAX_CHARS = 4000


def filters_in(query: str) -> dict[str, list[str]]:
    """The inbox page's query string as a saved view keeps it (its place in the list and
    the empty "any" values left out)."""
    return filters_of(given(parse_qsl(query[:QUERY_MAX_CHARS])))


def saved(receipt: SavedViewReceipt, filters: dict[str, list[str]]) -> Response:
    """Back to the inbox through the view, once the saved views' view has read the change."""
    link = page_link(filters)
    joiner = "&" if "?" in link else "?"
    return RedirectResponse(
        link + joiner + urlencode({"min_position": receipt.position}), status_code=303
    )


class ViewForm(BaseModel):
    """The form that saves a view: its name, the inbox's query, and ``on`` to share it."""

    name: str = ""
    query: str = ""
    shared: str = ""


@router.post("/console/views")
def save_view(asked: AskedPage, sent: Annotated[ViewForm, Form()]) -> Response:
    """The inbox as it is filtered and ordered now, saved under ``name``."""
    request, runtime, visitor = asked.request, asked.runtime, asked.visitor
    permitted(visitor, "saved_views")
    filters = filters_in(sent.query)
    refusal: Text
    try:
        saved_selection(filters, visitor.signed_in, runtime.desk.ticket_fields)
        receipt = runtime.desk.save_view(
            name=sent.name,
            filters=filters,
            shared=sent.shared == "on",
            may_share=may(visitor, "share_view"),
            stamp=stamp_of(visitor),
        )
    except Problem as refused:
        refusal, status = refused.detail, refused.status
    except errors.Busy:
        raise
    except errors.DocketError as refused:
        refusal = refused.message
        status = refused_status(refused)
    else:
        return saved(receipt, filters)
    said = {"view_refusal": refusal, "view_refusal_form": "save", "view_name": sent.name}
    return inbox_response(request, runtime, visitor, filters, said, status_code=status)


@router.post("/console/views/{view}/remove")
def remove_view(posted: PostedForm, view: str, query: Annotated[str, Form()] = "") -> Response:
    """A view removed (one's own; a shared one by admins only); back to the inbox as it was."""
    request, runtime, visitor = posted.request, posted.runtime, posted.visitor
    permitted(visitor, "saved_views")
    filters = filters_in(query)
    try:
        receipt = runtime.desk.remove_view(
            view,
            may_share=may(visitor, "share_view"),
            stamp=stamp_of(visitor),
            expected_version=posted.version,
        )
    except errors.Busy:
        raise
    except errors.DocketError as refused:
        said = {"view_refusal": refused.message, "view_refusal_form": "remove"}
        status = 404 if isinstance(refused, errors.UnknownSavedView) else refused_status(refused)
        return inbox_response(request, runtime, visitor, filters, said, status_code=status)
    return saved(receipt, filters)
