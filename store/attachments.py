"""Uploaded files in PostgreSQL: one row per upload, the bytes stored once per SHA-256.

Each upload has its own id, name, type and uploader (``uploads``); its bytes live in
``attachments``, shared by every upload of the same content, which no one ever reads
but through an upload of their own or a ticket they may see: nothing about another
uploader of the same bytes shows through. Tickets refer to uploads by id
(``AttachmentAdded`` events); which tickets carry a file is a fact of their events,
read from the ticket detail view, so a ticket and its files are saved in one append.

Before uploads had rows of their own, a file's id was the SHA-256 of its bytes and
``attachment_links`` remembered who uploaded it under which name. Tickets filed then
still carry those ids: they are read as before (the bytes by their hash, the type as
first stored), and ``create_tables`` leaves those tables readable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from store.tables import SchemaTables


@dataclass(frozen=True)
class StoredAttachment:
    """One upload: its id, and its name and type as its uploader gave them."""

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
        -- since uploads have rows of their own, the bytes carry no type: NULL for new ones
        ALTER TABLE {schema}.attachments ALTER COLUMN content_type DROP NOT NULL;
        CREATE TABLE IF NOT EXISTS {schema}.attachment_links (
            attachment_id text NOT NULL,
            filename text NOT NULL,
            uploaded_by text NOT NULL,
            PRIMARY KEY (attachment_id, uploaded_by, filename)
        );
        CREATE TABLE IF NOT EXISTS {schema}.uploads (
            upload_id text PRIMARY KEY,
            content_id text NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            size bigint NOT NULL,
            uploaded_by text NOT NULL,
            uploaded_at timestamptz NOT NULL DEFAULT now()
        );
    """

    def put(
        self, upload_id: str, content: bytes, filename: str, content_type: str, uploaded_by: str
    ) -> StoredAttachment:
        """Keep one upload (already checked by the desk's rules). The same ``upload_id``
        again keeps the first: an email taken twice stores its files once."""
        digest = hashlib.sha256(content).hexdigest()
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                f'INSERT INTO "{self.schema}".attachments VALUES (%s, NULL, %s, %s) '
                "ON CONFLICT (attachment_id) DO NOTHING",
                (digest, len(content), content),
            )
            conn.execute(
                f'INSERT INTO "{self.schema}".uploads '
                "(upload_id, content_id, filename, content_type, size, uploaded_by) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (upload_id) DO NOTHING",
                (upload_id, digest, filename, content_type, len(content), uploaded_by),
            )
        found = self.describe(upload_id, uploaded_by)
        assert found is not None, "an upload id is never reused by another uploader"
        return found

    def describe(self, attachment_id: str, uploaded_by: str) -> StoredAttachment | None:
        """The person's own upload, as they named it, for attaching to a ticket."""
        if not is_attachment_id(attachment_id):
            return None
        row = self.one(
            "SELECT upload_id, filename, content_type, size FROM {schema}.uploads "
            "WHERE upload_id = %s AND uploaded_by = %s",
            (attachment_id, uploaded_by),
        ) or self.one(  # uploaded before uploads had rows of their own
            "SELECT a.attachment_id, l.filename, a.content_type, a.size "
            "FROM {schema}.attachments a JOIN {schema}.attachment_links l "
            "USING (attachment_id) WHERE a.attachment_id = %s AND l.uploaded_by = %s "
            "ORDER BY l.filename LIMIT 1",
            (attachment_id, uploaded_by),
        )
        return StoredAttachment(*row) if row else None

    def content(self, attachment_id: str) -> bytes | None:
        """The bytes of an upload (or of a file stored under its hash before uploads)."""
        if not is_attachment_id(attachment_id):
            return None
        row = self.one(
            "SELECT a.content FROM {schema}.uploads u JOIN {schema}.attachments a "
            "ON a.attachment_id = u.content_id WHERE u.upload_id = %s",
            (attachment_id,),
        ) or self.one(
            "SELECT content FROM {schema}.attachments WHERE attachment_id = %s "
            "AND content_type IS NOT NULL",  # stored before uploads: its id is its hash
            (attachment_id,),
        )
        return bytes(row[0]) if row else None


ATTACHMENT_ID = re.compile(r"[0-9a-f]{64}")


def is_attachment_id(text: str) -> bool:
    """Upload ids are 64 hex digits (as the SHA-256 ids before them); nothing else
    reaches SQL."""
    return ATTACHMENT_ID.fullmatch(text) is not None
