"""``/``: where a person lands, with the places their role reaches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.templating import page
from api.pages.visitors import VisitorDep, sign_in_path

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, visitor: VisitorDep) -> Response:
    if visitor.principal is None:
        return RedirectResponse(sign_in_path("/"), status_code=303)
    return page(request, visitor, "home.html")
