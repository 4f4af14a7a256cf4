"""Files people upload, over the API or in an email: checked by one set of rules, kept
one row per upload, attached by their uploader, downloaded by whoever may see them.

Every file goes through :meth:`Uploads.check` (:func:`domain.attachments.checked_file`
with this desk's size limit) before it is stored, whichever way it came in. A file is
downloaded by its uploader, and by anyone who may see a ticket that carries it (a file
on two tickets stays downloadable from both), but a file of a ticket's internal notes
only by those who read the notes (to anyone else it is a file that does not exist),
under its clean name and with the type it was listed with; each upload keeps its own
name and type, so no one learns what another uploader of the same bytes called them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from desk.access import Principal, may_read_notes, may_see_ticket
from desk.answers import AttachmentRef
from domain.attachments import CheckedFile, checked_file, display_name, served_type
from domain.errors import UnknownAttachment
from projections.ticket_detail import FileListing
from store.attachments import AttachmentStore


@dataclass(frozen=True)
class Download:
    """What a download serves: a clean name, a type Docket accepts, the bytes."""

    filename: str
    content_type: str
    content: bytes


class Uploads:
    def __init__(self, store: AttachmentStore, *, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes

    def check(self, filename: str, content_type: str, data: bytes) -> CheckedFile:
        """The file as a ticket may carry it, or the refusal (:mod:`domain.attachments`)."""
        return checked_file(filename, content_type, data, max_bytes=self.max_bytes)

    def upload(
        self,
        *,
        data: bytes,
        filename: str,
        content_type: str,
        uploaded_by: str,
        upload_id: str | None = None,
    ) -> AttachmentRef:
        """Check the file and keep it as an upload of its own (a new id unless given)."""
        checked = self.check(filename, content_type, data)
        stored = self.store.put(
            upload_id or secrets.token_hex(32),
            data,
            checked.filename,
            checked.content_type,
            uploaded_by,
        )
        return AttachmentRef(
            stored.attachment_id, stored.filename, stored.content_type, stored.size
        )

    def attachable(self, ids: Sequence[str], person_id: str) -> list[AttachmentRef]:
        """The person's own uploads, by id, as the desk attaches them to a ticket."""
        refs = []
        for attachment_id in ids:
            stored = self.store.describe(attachment_id, person_id)
            if stored is None:
                raise UnknownAttachment(attachment_id)
            refs.append(
                AttachmentRef(
                    stored.attachment_id,
                    display_name(stored.filename, stored.content_type),
                    served_type(stored.content_type),
                    stored.size,
                )
            )
        return refs

    def download(
        self, attachment_id: str, who: Principal, listings: Callable[[], list[FileListing]]
    ) -> Download | None:
        """The file for its uploader, or as a ticket the caller may see lists it (a note's
        file: if they read notes); ``None`` when there is no such file or the caller may
        see none (the same answer)."""
        own = self.store.describe(attachment_id, who.id)
        if own is not None:
            name, kind = own.filename, own.content_type
        else:
            seen = next((f for f in listings() if may_download(who, f)), None)
            if seen is None:
                return None
            name, kind = seen.filename, seen.content_type
        content = self.store.content(attachment_id)
        if content is None:
            return None
        kind = served_type(kind)
        return Download(display_name(name, kind), kind, content)


def may_download(who: Principal, listed: FileListing) -> bool:
    """Whether the caller may download a file as this ticket lists it: they may see the
    ticket, and, for a file of its internal notes, read its notes."""
    return may_see_ticket(who, listed.owner) and (not listed.staff_only or may_read_notes(who))
