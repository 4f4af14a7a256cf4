"""Uploads on real PostgreSQL: one row per upload over bytes stored once, files stored
before uploads had rows of their own, and how the detail view lists old files."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from desk.access import Principal
from desk.service import SupportDesk
from desk.uploads import Uploads
from domain.ticket import Ticket
from projections import ticket_detail
from projections.runner import ProjectionRunner
from store.attachments import AttachmentStore
from tests.builders import desk_with_account, file, requester, with_tables

BYTES = b"order,amount\n1042,12.50\n"


@pytest.fixture
def store(pool: ConnectionPool, schema: str) -> AttachmentStore:
    return with_tables(AttachmentStore(pool, schema))


def test_two_uploads_of_the_same_bytes_keep_their_own_ids_names_and_types_over_one_copy(
    store: AttachmentStore, conn: psycopg.Connection[Any], schema: str
) -> None:
    uploads = Uploads(store, max_bytes=1024)
    rita = uploads.upload(data=BYTES, filename="march.csv", content_type="text/csv",
                          uploaded_by="rita")  # fmt: skip
    carl = uploads.upload(data=BYTES, filename="notes.txt", content_type="text/plain",
                          uploaded_by="carl")  # fmt: skip
    assert rita.attachment_id != carl.attachment_id
    assert uploads.attachable([carl.attachment_id], "carl")[0] == carl
    assert (carl.filename, carl.content_type) == ("notes.txt", "text/plain")
    assert store.describe(rita.attachment_id, "carl") is None  # nor can he attach hers
    copies = conn.execute(f'SELECT count(*) FROM "{schema}".attachments').fetchone()
    assert copies == (1,)
    # nothing reaches the shared bytes by their hash: only through an upload
    assert store.content(hashlib.sha256(BYTES).hexdigest()) is None
    assert store.content(carl.attachment_id) == BYTES


def test_files_stored_before_uploads_had_rows_still_attach_and_download(
    pool: ConnectionPool, schema: str, conn: psycopg.Connection[Any]
) -> None:
    digest = hashlib.sha256(BYTES).hexdigest()
    conn.execute(  # the tables as they were, with a file in them
        f"""
        CREATE TABLE "{schema}".attachments (attachment_id text PRIMARY KEY,
            content_type text NOT NULL, size bigint NOT NULL, content bytea NOT NULL);
        CREATE TABLE "{schema}".attachment_links (attachment_id text NOT NULL,
            filename text NOT NULL, uploaded_by text NOT NULL,
            PRIMARY KEY (attachment_id, uploaded_by, filename));
        INSERT INTO "{schema}".attachment_links VALUES ('{digest}', 'march.csv', 'rita');
        """
    )
    conn.execute(
        f'INSERT INTO "{schema}".attachments VALUES (%s, %s, %s, %s)',
        (digest, "text/csv", len(BYTES), BYTES),
    )
    store = AttachmentStore(pool, schema)
    store.create_tables()
    store.create_tables()  # every process runs it at start: twice changes nothing
    uploads = Uploads(store, max_bytes=1024)
    old = uploads.attachable([digest], "rita")
    assert [(f.attachment_id, f.filename, f.content_type) for f in old] == [
        (digest, "march.csv", "text/csv")
    ]
    rita = Principal("rita", "requester", "Rita")
    found = uploads.download(digest, rita, list)
    assert found is not None
    assert (found.filename, found.content_type, found.content) == ("march.csv", "text/csv", BYTES)
    again = uploads.upload(data=BYTES, filename="copy.csv", content_type="text/csv",
                           uploaded_by="carl")  # fmt: skip
    assert store.content(again.attachment_id) == store.content(digest) == BYTES
    carl = Principal("carl", "requester", "Carl")
    assert uploads.download(digest, carl, list) is None  # the old file stays Rita's


def test_a_file_stored_with_an_active_type_or_a_path_for_a_name_is_listed_harmless(
    desk: SupportDesk, runner: ProjectionRunner, conn: psycopg.Connection[Any]
) -> None:
    """Email attachments were stored with their own type before the rules applied to
    email: such events replay, and the detail lists them as plain downloads."""
    account = desk_with_account(desk)
    filed = file(desk, account)
    ticket: Ticket = desk.repository.get(filed.ticket_id)
    ticket._attachment_added(  # as an old event: recorded without today's rules
        attachment_id="c" * 64, filename="../../x/page.html\u202e", content_type="text/html",
        size=12, stamp=requester(),
    )  # fmt: skip
    desk.save(ticket)
    runner.catch_up()
    found = ticket_detail.detail(conn, runner.tables, filed.number, with_internal_notes=False)
    assert found is not None
    assert [(f["filename"], f["content_type"]) for f in found["attachments"]] == [
        ("page.html", "application/octet-stream")
    ]
    listed = ticket_detail.attachment_listings(conn, runner.tables, "c" * 64)
    assert [(f.owner.ticket_id, f.content_type) for f in listed] == [
        (filed.ticket_id, "application/octet-stream")
    ]
