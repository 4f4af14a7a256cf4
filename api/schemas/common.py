"""What several resources share: the strict input base, ids and names in queries, people."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

AttachmentIds = list[str]
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""Free text in a query: anything but control characters (NUL never reaches SQL)."""
AccountId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An account's id in a query: letters, digits and ``_.:-`` (a UUID, say)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonRef(BaseModel):
    id: str
    name: str | None


class Actor(BaseModel):
    id: str
    kind: str
