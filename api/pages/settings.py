"""``/settings``: the language a person reads Docket in and the time zone they read
times in.

A member saves them through the desk call of ``PATCH /v1/me/preferences``
(``Account.MemberSettingsChanged``), a staff member through that of ``PATCH
/v1/staff/me/preferences`` (``StaffMember.LanguageChosen``, ``TimeZoneChosen``). The
pages read both from the directory on every request, so before redirecting the page
waits (bounded, as ``min_position`` does) for the directory to hold what was saved: the
next page is in the new language at once.

The time zone is a choice among the IANA zones, grouped by region (a ``select`` the
keyboard searches by typing). Without JavaScript a page cannot know the browser's zone,
so the one shown chosen is the person's own (UTC until they choose).
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import RuntimeDep
from api.pages.templating import page
from api.pages.visitors import SignedIn, Visitor, permitted, stamp_of
from api.problems import domain_problem
from desk.answers import AccountReceipt, StaffReceipt
from domain.channels import TIME_ZONE_MAX_CHARS
from domain.errors import DocketError, InvalidField
from domain.messages import Msg
from projections import directory
from projections.reads import NotCaughtUp

router = APIRouter(include_in_schema=False)

REGIONS = {
    "Africa": Msg("Africa"),
    "America": Msg("Americas"),
    "Antarctica": Msg("Antarctica"),
    "Arctic": Msg("Arctic"),
    "Asia": Msg("Asia"),
    "Atlantic": Msg("Atlantic"),
    "Australia": Msg("Australia"),
    "Europe": Msg("Europe"),
    "Indian": Msg("Indian Ocean"),
    "Pacific": Msg("Pacific"),
}
"""The regions of the IANA names offered, in this order (legacy aliases such as
``US/Eastern`` or ``Etc/GMT+5`` are left out; ``UTC`` comes first)."""


@cache
def zones_by_region() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Region → (IANA name, the name as read: ``Argentina/Buenos Aires``), sorted."""
    names = available_timezones()
    return tuple(
        (
            region,
            tuple(
                (name, name.partition("/")[2].replace("_", " "))
                for name in sorted(n for n in names if n.startswith(region + "/"))
            ),
        )
        for region in REGIONS
    )


def settings_page(
    request: Request,
    visitor: Visitor,
    *,
    chosen: dict[str, str],
    saved: bool = False,
    error: DocketError | None = None,
    status_code: int = 200,
) -> Response:
    field = error.field if isinstance(error, InvalidField) else None
    listed = chosen["time_zone"] == "UTC" or any(
        chosen["time_zone"] == name for _, zones in zones_by_region() for name, _ in zones
    )
    context = {
        "other_zone": None if listed else chosen["time_zone"],
        "regions": REGIONS,
        "zones": zones_by_region(),
        "chosen": chosen,
        "saved": saved,
        "error": error,
        "field": field,
    }
    return page(request, visitor, "account_settings.html", context, status_code=status_code)


def endpoint_of(visitor: Visitor) -> str:
    """The API's key for one's own settings: a member's, or a staff member's."""
    return "member_preferences" if visitor.signed_in.account_id else "staff_preferences"


@router.get("/settings")
def settings(request: Request, visitor: SignedIn, saved: bool = False) -> Response:
    permitted(visitor, endpoint_of(visitor))
    chosen = {"language": visitor.language, "time_zone": visitor.time_zone or "UTC"}
    return settings_page(request, visitor, chosen=chosen, saved=saved)


@router.post("/settings")
def save_settings(
    request: Request,
    runtime: RuntimeDep,
    visitor: SignedIn,
    language: Annotated[str, Form(max_length=8)] = "",
    time_zone: Annotated[str, Form(max_length=TIME_ZONE_MAX_CHARS)] = "",
) -> Response:
    permitted(visitor, endpoint_of(visitor))
    chosen = {"language": language, "time_zone": time_zone}
    # only what changes is sent: saving the form as it was shown changes nothing
    new_language = language if language != visitor.language else None
    new_time_zone = time_zone if time_zone != (visitor.time_zone or "UTC") else None
    receipt: AccountReceipt | StaffReceipt | None = None
    try:
        if new_language is not None or new_time_zone is not None:
            principal = visitor.signed_in
            if principal.account_id is not None:
                receipt = runtime.desk.set_member_preferences(
                    principal.account_id,
                    member_id=principal.id,
                    language=new_language,
                    time_zone=new_time_zone,
                    stamp=stamp_of(visitor),
                )
            else:
                receipt = runtime.desk.set_staff_preferences(
                    principal.id,
                    language=new_language,
                    time_zone=new_time_zone,
                    stamp=stamp_of(visitor),
                )
    except DocketError as error:
        status = domain_problem(error, visitor.language).status_code
        return settings_page(request, visitor, chosen=chosen, error=error, status_code=status)
    if receipt is not None:
        # the next page reads the person's language from the directory; if it is slow, the
        # change is saved all the same and shows a moment later
        with contextlib.suppress(NotCaughtUp):
            runtime.reads.wait_for(directory.NAME, receipt.position)
    return RedirectResponse("/settings?saved=true", status_code=303)
