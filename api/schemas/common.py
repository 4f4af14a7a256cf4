"""What several resources share: the strict input base, ids and names in queries, people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

AttachmentIds = list[str]
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""Free text in a query: anything but control characters (NUL never reaches SQL)."""
AccountId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An account's id in a query: letters, digits and ``_.:-`` (a UUID, say)."""
MinPosition = Annotated[int | None, Field(ge=0, le=2**62)]
"""A log position to wait for: the read answers once its view has reached it (or 503)."""


class Strict(BaseModel):
    """An input: a field the model does not name is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def example(**fields: JsonValue) -> ConfigDict:
    """The config of an input shown with one example on the OpenAPI page."""
    return ConfigDict(json_schema_extra={"examples": [fields]})


class PersonRef(BaseModel):
    id: str
    name: str | None


class Actor(BaseModel):
    id: str
    kind: str


class EventOut(BaseModel):
    """One stored event, as the change feed and a ticket's history show it."""

    position: int
    version: int
    kind: str
    at: datetime
    actor: Actor
    via: str
    correlation_id: str
    causation_id: str
    fields: dict[str, Any]


class TicketHeading(BaseModel):
    """What a ticket is about, as every list row and the detail show it."""

    id: str
    number: str
    subject: str
    status: str
    priority: str
    type: str
    product: str
    topic: str
    channel: str
