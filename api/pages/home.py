"""``/``: where a person lands, with the places their role reaches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import RuntimeDep
from api.pages.templating import page
from api.pages.visitors import Visitor, VisitorDep, sign_in_path
from api.runtime import Runtime
from desk.access import sees_subscription

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, runtime: RuntimeDep, visitor: VisitorDep) -> Response:
    if visitor.principal is None:
        return RedirectResponse(sign_in_path("/"), status_code=303)
    context = {"shows_subscription": shows_subscription(runtime, visitor)}
    return page(request, visitor, "home.html", context)


def shows_subscription(runtime: Runtime, visitor: Visitor) -> bool:
    """Whether the member's home leads to their account's subscription: its admins' and
    billing admins' (a billing admin is a requester who pays, so the role alone does not
    say). Staff reach any account's by its id."""
    who = visitor.signed_in
    if who.account_id is None or who.role not in ("requester", "team_admin"):
        return False
    account = str(who.account_id)
    return sees_subscription(who, account, runtime.reads.member_roles(account, who.id))
