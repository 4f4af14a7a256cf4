"""API tokens: issuing one (for oneself, or by an admin for a person or a mail gateway),
and the list, which never shows a secret or a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from api.schemas.common import NO_CONTROL, MinPosition, Strict, example

TokenName = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL)]


class TokenCreate(Strict):
    model_config = example(name="laptop", expires_at="2030-01-01T00:00:00Z")

    name: TokenName = Field(description="What the token is for, to tell it apart in the list.")
    expires_at: AwareDatetime | None = Field(
        default=None, description="Refused from this instant on; none: until revoked."
    )
    person_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_CONTROL,
        description="Admins: the staff member or account member the token is for "
        "(default: yourself).",
    )
    mail_gateway: bool = Field(
        default=False, description="Admins: a token for a mail gateway (inbound email only)."
    )


class TokenCreateQuery(Strict):
    min_position: MinPosition = Field(
        default=None, description="Wait until the directory knows a person just registered."
    )


class TokenListQuery(Strict):
    holder: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NO_CONTROL,
        description="Admins: only this person's tokens (others always see their own).",
    )


class TokenHolder(BaseModel):
    id: str
    name: str
    role: str
    account_id: UUID | None


class TokenOut(BaseModel):
    id: UUID
    name: str
    prefix: str | None = Field(
        description="The token's first characters (none for tokens issued before prefixes)."
    )
    holder: TokenHolder
    issued_by: str | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    expires_at: datetime | None


class TokenIssued(TokenOut):
    token: str = Field(description="The secret: shown this once, stored only as its SHA-256.")


class TokenList(BaseModel):
    tokens: list[TokenOut]
