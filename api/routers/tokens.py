"""API tokens: issue one, list them, revoke one (see api/tokens.py for who may what)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.answers import read_problems
from api.deps import CurrentPrincipal, RuntimeDep, allowed
from api.problems import responses
from api.schemas.tokens import (
    TokenCreate,
    TokenCreateQuery,
    TokenHolder,
    TokenIssued,
    TokenList,
    TokenListQuery,
    TokenOut,
)
from api.tokens import TokenInfo, holder_for
from domain.errors import InvalidField
from domain.messages import Msg

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])

PROBLEMS = responses(
    {
        403: "Role not allowed (only admins act on others' tokens)",
        404: "No such person, or no such token of the caller's",
        422: "Invalid field",
    },
    waits_for="directory",
)


@router.post("", status_code=201, response_model=TokenIssued, responses=PROBLEMS)
def issue_token(
    body: TokenCreate,
    query: Annotated[TokenCreateQuery, Query()],
    who: CurrentPrincipal,
    runtime: RuntimeDep,
) -> TokenIssued:
    """Issue a token for yourself or (admins) for a person or a mail gateway; shown once."""
    allowed(who, "issue_token")
    if body.person_id is not None or body.mail_gateway:
        allowed(who, "issue_token_for_others")
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise InvalidField("expires_at", Msg("The expiry has passed; give an instant to come."))
    with read_problems():  # a write reads the primary's views, as every write does
        person = (
            runtime.primary_reads.person(body.person_id, query.min_position)
            if body.person_id
            else None
        )
    holder = holder_for(
        who,
        person=person,
        person_id=body.person_id,
        mail_gateway=body.mail_gateway,
        name=body.name,
    )
    issued = runtime.tokens.issue(
        holder, name=body.name, expires_at=body.expires_at, issued_by=who.id
    )
    return TokenIssued(token=issued.token, **token_out(issued.info).model_dump())


@router.get("", response_model=TokenList, responses=PROBLEMS)
def list_tokens(
    query: Annotated[TokenListQuery, Query()], who: CurrentPrincipal, runtime: RuntimeDep
) -> TokenList:
    """Your tokens not revoked, or (admins) everyone's; never a secret or a hash."""
    allowed(who, "list_tokens")
    return TokenList(tokens=[token_out(t) for t in runtime.tokens.listed(who, query.holder)])


@router.delete("/{token_id}", status_code=204, responses=PROBLEMS)
def revoke_token(token_id: UUID, who: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    """Revoke a token of yours or (admins) anyone's: refused from the next request on."""
    allowed(who, "revoke_token")
    runtime.tokens.revoke(token_id, who)
    return Response(status_code=204)


def token_out(info: TokenInfo) -> TokenOut:
    holder = info.holder
    return TokenOut(
        id=info.id,
        name=info.name,
        prefix=info.prefix,
        holder=TokenHolder(
            id=holder.id, name=holder.name, role=holder.role, account_id=holder.account_id
        ),
        issued_by=info.issued_by,
        created_at=info.created_at,
        last_used_at=info.last_used_at,
        expires_at=info.expires_at,
    )
