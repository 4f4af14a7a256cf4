"""Attachment contents, stored once per SHA-256 in PostgreSQL.

Tickets refer to attachments by hash (``AttachmentAdded`` events); this table
holds the bytes, and ``attachment_links`` remembers who uploaded them under which
name. Which tickets carry a file is a fact of the ticket's events, read from the
ticket detail view, so a ticket and its files are saved in one append.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from store.tables import SchemaTables

ALLOWED_CONTENT_TYPES = frozenset(
    {
        "text/plain", "text/csv", "application/pdf", "application/json", "application/zip",
        "image/png", "image/jpeg", "image/gif", "image/webp", "message/rfc822",
        "application/octet-stream",
    }
)  # fmt: skip


@dataclass(frozen=True)
class StoredAttachment:
    attachment_id: str
    filename: str
    content_type: str
    size: int


class AttachmentStore(SchemaTables):
    ddl = """
        CREATE TABLE IF NOT EXISTS {schema}.attachments (
            attachment_id text PRIMARY KEY,
            content_type text NOT NULL,
            size bigint NOT NULL,
            content bytea NOT NULL
        );
        CREATE TABLE IF NOT EXISTS {schema}.attachment_links (
            attachment_id text NOT NULL,
            filename text NOT NULL,
            uploaded_by text NOT NULL,
            PRIMARY KEY (attachment_id, uploaded_by, filename)
        );
    """

    def put(
        self, content: bytes, filename: str, content_type: str, uploaded_by: str
    ) -> StoredAttachment:
        digest = hashlib.sha256(content).hexdigest()
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                f'INSERT INTO "{self.schema}".attachments VALUES (%s, %s, %s, %s) '
                "ON CONFLICT (attachment_id) DO NOTHING",
                (digest, content_type, len(content), content),
            )
            conn.execute(
                f'INSERT INTO "{self.schema}".attachment_links '
                "(attachment_id, filename, uploaded_by) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (digest, filename, uploaded_by),
            )
        return StoredAttachment(digest, filename, content_type, len(content))

    def describe(self, attachment_id: str, uploaded_by: str) -> StoredAttachment | None:
        """An attachment as its uploader named it, for attaching to a ticket."""
        if not is_attachment_id(attachment_id):
            return None
        row = self.one(
            "SELECT a.attachment_id, l.filename, a.content_type, a.size "
            "FROM {schema}.attachments a JOIN {schema}.attachment_links l "
            "USING (attachment_id) WHERE a.attachment_id = %s AND l.uploaded_by = %s LIMIT 1",
            (attachment_id, uploaded_by),
        )
        return StoredAttachment(*row) if row else None

    def uploaded_by(self, attachment_id: str, person_id: str) -> bool:
        """Whether this person uploaded the file (under any name)."""
        if not is_attachment_id(attachment_id):
            return False
        row = self.one(
            "SELECT 1 FROM {schema}.attachment_links "
            "WHERE attachment_id = %s AND uploaded_by = %s LIMIT 1",
            (attachment_id, person_id),
        )
        return row is not None

    def content(self, attachment_id: str) -> tuple[str, bytes] | None:
        if not is_attachment_id(attachment_id):
            return None
        row = self.one(
            "SELECT content_type, content FROM {schema}.attachments WHERE attachment_id = %s",
            (attachment_id,),
        )
        return (row[0], bytes(row[1])) if row else None


ATTACHMENT_ID = re.compile(r"[0-9a-f]{64}")


def is_attachment_id(text: str) -> bool:
    """Attachment ids are the SHA-256 of the content, in hex; nothing else reaches SQL."""
    return ATTACHMENT_ID.fullmatch(text) is not None
