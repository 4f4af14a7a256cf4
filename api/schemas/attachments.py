"""An uploaded file, as the upload answers it."""

from __future__ import annotations

from pydantic import BaseModel


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
