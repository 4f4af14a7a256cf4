"""Team accounts: opening one and changing its subscription (Docket admins), its members
(its team admins too), the subscription (its admins and billing admins), its tickets."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import answers
from api.answers import ticket_page
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import Problem, responses
from api.routers.tickets import READ_PROBLEMS
from api.schemas.accounts import (
    AccountIn,
    AccountReceiptOut,
    AccountTeamIn,
    MemberIn,
    PlanIn,
    PremiumIn,
    RenameIn,
    RenewalIn,
    RolesIn,
    SeatsIn,
    SubscriptionOut,
)
from api.schemas.lists import TicketPage, TicketQuery
from api.writes import AccountWrite, FieldChange, Write, add_field_change
from domain.messages import Msg

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get(
    "/{account}/tickets",
    response_model=TicketPage,
    response_model_exclude_unset=True,
    responses=READ_PROBLEMS,
)
def account_tickets(
    account: str,
    query: Annotated[TicketQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
) -> TicketPage:
    """Every ticket of the account, with who filed it and who replied as collaborator."""
    allowed(who, "account_tickets")
    return ticket_page(answers.account_tickets(runtime, who, account, query), staff=False)


WRITE_PROBLEMS = responses(
    {
        404: "No such account (or member) that you administer",
        409: "The account's rules refuse this change (seats, Premium, plan)",
        412: "If-Match names a stale version",
        422: "Invalid field, or Idempotency-Key reused with another body",
    }
)


@router.post("", status_code=201, response_model=AccountReceiptOut, responses=WRITE_PROBLEMS)
def open_account(opening: AccountIn, write: AccountWrite) -> JSONResponse:
    """Open a team account: name, plan, seats, calendar, products, renewal date."""
    allowed(write.who, "open_account")
    return write.run_account(
        opening,
        lambda: write.desk.open_account(stamp=write.stamp(), **opening.model_dump()),
        status=201,
    )


SUBSCRIPTION_CHANGES = (
    FieldChange(
        "rename_account", "/{account}/name", RenameIn, {"to_name": "name"}, "Rename the account."
    ),
    FieldChange(
        "change_plan",
        "/{account}/plan",
        PlanIn,
        {"to_plan": "plan"},
        "Upgrade (filing unlocked at once) or downgrade (new filings stop) the plan.",
    ),
    FieldChange(
        "change_seats",
        "/{account}/seats",
        SeatsIn,
        {"to_seats": "seats"},
        "Raise the seats, or lower them to no fewer than the members.",
    ),
    FieldChange(
        "set_renewal_date",
        "/{account}/renewal",
        RenewalIn,
        {"renewal_on": "renewal_on"},
        "The next renewal date: when a Premium removal takes effect.",
    ),
    FieldChange(
        "set_account_team",
        "/{account}/account-team",
        AccountTeamIn,
        {"group": "group"},
        "The support group that answers the account (Enterprise accounts' named team).",
    ),
)


def add_subscription_change(change: FieldChange) -> None:
    """Route one of the subscription's changes, which only Docket's admins make."""

    def endpoint(account: str, body: BaseModel, write: AccountWrite) -> JSONResponse:
        found = subscription_account(write, "change_subscription", account)
        return write.account_change(
            found, body, getattr(write.desk, change.name), **change.values(body)
        )

    add_field_change(router, change, endpoint, AccountReceiptOut, WRITE_PROBLEMS)


for subscription_change in SUBSCRIPTION_CHANGES:
    add_subscription_change(subscription_change)


@router.put(
    "/{account}/premium/{product}", response_model=AccountReceiptOut, responses=WRITE_PROBLEMS
)
def add_premium(
    account: str, product: str, change: PremiumIn, write: AccountWrite
) -> JSONResponse:
    """Premium support on one product, at once, for the account's admins."""
    found = subscription_account(write, "change_subscription", account)
    return write.account_change(
        found, change, write.desk.add_premium, product=product, level=change.level
    )


@router.delete(
    "/{account}/premium/{product}", response_model=AccountReceiptOut, responses=WRITE_PROBLEMS
)
def remove_premium(account: str, product: str, write: AccountWrite) -> JSONResponse:
    """End Premium on one product at the next renewal date."""
    found = subscription_account(write, "change_subscription", account)
    return write.account_change(found, None, write.desk.remove_premium, product=product)


@router.post(
    "/{account}/members",
    status_code=201,
    response_model=AccountReceiptOut,
    responses=WRITE_PROBLEMS,
)
def add_member(account: str, member: MemberIn, write: AccountWrite) -> JSONResponse:
    """Add a member, within the seats (team admins for their account, Docket admins)."""
    found = administered_account(write, "manage_members", account)
    return write.run_account(
        member,
        lambda: write.desk.add_member(
            found,
            member_id=str(uuid4()),
            email=member.email,
            name=member.name,
            role=member.role,
            language=member.language,
            time_zone=member.time_zone,
            stamp=write.stamp(),
            expected_version=write.expected,
        ),
        status=201,
    )


@router.delete(
    "/{account}/members/{member}", response_model=AccountReceiptOut, responses=WRITE_PROBLEMS
)
def remove_member(account: str, member: str, write: AccountWrite) -> JSONResponse:
    """Remove a member: they file nothing more; their past messages keep their author."""
    found = administered_account(write, "manage_members", account)
    return write.account_change(found, None, write.desk.remove_member, member_id=member)


@router.put(
    "/{account}/members/{member}/roles",
    response_model=AccountReceiptOut,
    responses=WRITE_PROBLEMS,
)
def change_member_roles(
    account: str, member: str, change: RolesIn, write: AccountWrite
) -> JSONResponse:
    """``member``, or ``admin`` and/or ``billing_admin`` (who pays is not admin for it)."""
    found = administered_account(write, "manage_members", account)
    return write.account_change(
        found, change, write.desk.change_member_roles, member_id=member, roles=change.roles
    )


@router.get(
    "/{account}/subscription",
    response_model=SubscriptionOut,
    responses={**READ_PROBLEMS, 404: {"description": "No account whose subscription you see"}},
)
def subscription(
    account: str,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    min_position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> SubscriptionOut:
    """Plan, seats, renewal date, Premium add-ons, account team and members: for the
    account's admins and billing admins, and Docket's admins; 404 for everyone else."""
    allowed(who, "subscription")
    return answers.subscription_out(answers.seen_subscription(runtime, who, account, min_position))


def subscription_account(write: Write, endpoint: str, account: str) -> UUID:
    """The account a Docket admin changes the subscription of."""
    allowed(write.who, endpoint)
    return account_id_of(account)


def administered_account(write: Write, endpoint: str, account: str) -> UUID:
    """The account, if the caller administers it (its team admin, or a Docket admin)."""
    allowed(write.who, endpoint)
    if write.who.role == "team_admin" and str(write.who.account_id) != account:
        raise Problem(
            404,
            "unknown-account",
            Msg("No account {account} that you administer.", account=account),
        )
    return account_id_of(account)


def account_id_of(account: str) -> UUID:
    try:
        return UUID(account)
    except ValueError:
        raise Problem(
            404,
            "unknown-account",
            Msg("No account {account} that you administer.", account=account),
        ) from None
