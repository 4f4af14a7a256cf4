"""CCs: what copying someone on a ticket takes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas.common import Strict, example
from domain.vocabulary import NAME_MAX_CHARS

CcAddress = Annotated[str, Field(min_length=3, max_length=NAME_MAX_CHARS)]


class CcIn(Strict):
    """One plain address (no display name); kept lower-cased."""

    model_config = example(email="ana@example.com")

    email: CcAddress
