"""The rules every file on a ticket obeys (domain/attachments.py), whichever way it came."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.attachments import (
    ACCEPTED_TYPES,
    FILENAME_MAX_BYTES,
    checked_file,
    clean_filename,
    display_name,
    served_type,
)
from domain.errors import (
    AttachmentContentMismatch,
    AttachmentTooLarge,
    EmptyAttachment,
    InvalidField,
    UnsupportedAttachmentType,
)
from tests.builders import new_ticket, requester

LIMIT = 1024
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SAMPLES: dict[str, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n" + bytes(range(32)),
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "application/zip": b"PK\x03\x04\x14\x00\x00\x00",
    "text/plain": "Sync failed at 09:14 — café\r\n\ttrace \x1b[31mred\x1b[0m\n".encode(),
    "text/csv": "name;amount\nMüller;12,50\n".encode("cp1252"),
    "application/json": b' {"error": "sync failed"}',
    "message/rfc822": b"From: r@acme.test\r\nSubject: hi\r\n\r\nbody",
    "application/octet-stream": b"\x00\x01anything at all",
}


def test_every_accepted_type_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(ACCEPTED_TYPES)


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_every_accepted_type_takes_bytes_of_its_kind(content_type: str) -> None:
    checked = checked_file("file", content_type.upper() + "; x=y", SAMPLES[content_type],
                           max_bytes=LIMIT)  # fmt: skip
    assert (checked.content_type, checked.size) == (content_type, len(SAMPLES[content_type]))


@pytest.mark.parametrize(
    "content_type", sorted(set(ACCEPTED_TYPES) - {"application/octet-stream"})
)
def test_html_sent_as_any_accepted_type_but_octet_stream_is_refused_naming_file_and_content(
    content_type: str,
) -> None:
    # HTML is text, and text/plain serves it as text: with a NUL it is no text at all
    data = HTML + b"\x00" if content_type.startswith("text/") else HTML
    with pytest.raises(AttachmentContentMismatch) as refused:
        checked_file("screen.png", content_type, data, max_bytes=LIMIT)
    assert "screen.png" in refused.value.detail
    assert content_type in refused.value.detail
    assert refused.value.found in ("HTML", "binary data")


@pytest.mark.parametrize(
    ("content_type", "data", "found"),
    [
        ("image/png", HTML, "HTML"),
        ("image/png", SAMPLES["image/jpeg"], "a JPEG image"),
        ("application/pdf", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "an SVG image"),
        ("image/gif", b"MZ\x90\x00\x03", "a program"),
        ("text/plain", "a\x00b".encode("utf-16"), "binary data"),
        ("text/csv", b"col\x01umn\n", "binary data"),
        ("application/json", b"not json", "text"),
        ("message/rfc822", b"no header here\n", "text"),
    ],
)
def test_bytes_that_are_not_of_the_declared_type_are_refused_with_what_they_are(
    content_type: str, data: bytes, found: str
) -> None:
    with pytest.raises(AttachmentContentMismatch) as refused:
        checked_file("f.bin", content_type, data, max_bytes=LIMIT)
    assert refused.value.found == found
    assert found in refused.value.detail


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/javascript", "text/javascript",
     "application/xhtml+xml", "text/xml", "application/x-msdownload"],
)  # fmt: skip
def test_types_a_browser_runs_are_not_accepted(content_type: str) -> None:
    with pytest.raises(UnsupportedAttachmentType) as refused:
        checked_file("page", content_type, HTML, max_bytes=LIMIT)
    assert "application/octet-stream" in refused.value.detail


def test_other_names_of_an_accepted_type_are_taken_as_that_type() -> None:
    zipped = checked_file("a.zip", "application/x-zip-compressed", SAMPLES["application/zip"],
                          max_bytes=LIMIT)  # fmt: skip
    photo = checked_file("p.jpg", "image/jpg", SAMPLES["image/jpeg"], max_bytes=LIMIT)
    assert (zipped.content_type, photo.content_type) == ("application/zip", "image/jpeg")


def test_an_empty_file_is_refused_and_one_over_the_limit_too() -> None:
    with pytest.raises(EmptyAttachment):
        checked_file("empty.txt", "text/plain", b"", max_bytes=LIMIT)
    with pytest.raises(AttachmentTooLarge) as refused:
        checked_file("big.txt", "text/plain", b"x" * (LIMIT + 1), max_bytes=LIMIT)
    assert "big.txt" in refused.value.detail
    assert checked_file("ok.txt", "text/plain", b"x" * LIMIT, max_bytes=LIMIT).size == LIMIT


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../../etc/passwd", "passwd"),
        ("C:\\Users\\rita\\Desktop\\log.txt", "log.txt"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("bell\x07\r\nname\x00.txt", "bellname.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("zero\u200bwidth\u2028line.png", "zerowidthline.png"),
        ("  .hidden  ", "hidden"),
        ("../..", ""),
        ("re\u0301sume\u0301.pdf", "résumé.pdf"),
    ],
)
def test_a_name_keeps_only_its_clean_base_name(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_a_very_long_name_is_cut_to_200_bytes_keeping_its_extension() -> None:
    name = clean_filename("é" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode("utf-8")) <= FILENAME_MAX_BYTES


def test_a_name_with_nothing_left_is_named_by_its_type() -> None:
    assert display_name("../", "image/png") == "attachment.png"
    assert checked_file("/", "text/plain", b"x", max_bytes=LIMIT).filename == "attachment.txt"


@given(st.text())
def test_a_clean_name_has_no_folder_no_control_and_fits(raw: str) -> None:
    name = clean_filename(raw)
    assert clean_filename(name) == name
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name.encode("utf-8")) <= FILENAME_MAX_BYTES
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name)


def test_a_type_stored_before_the_allowlist_is_served_as_a_plain_download() -> None:
    assert served_type("text/html") == "application/octet-stream"
    assert served_type("image/svg+xml") == "application/octet-stream"
    assert served_type("IMAGE/PNG") == "image/png"


def test_a_ticket_takes_no_file_with_a_path_for_a_name_or_a_type_a_browser_runs() -> None:
    ticket = new_ticket()
    with pytest.raises(InvalidField):
        ticket.add_attachment(attachment_id="a" * 64, filename="../../etc/passwd",
                              content_type="text/plain", size=3, stamp=requester())  # fmt: skip
    with pytest.raises(UnsupportedAttachmentType):
        ticket.add_attachment(attachment_id="a" * 64, filename="page.html",
                              content_type="text/html", size=3, stamp=requester())  # fmt: skip
    with pytest.raises(EmptyAttachment):
        ticket.add_attachment(attachment_id="a" * 64, filename="empty.txt",
                              content_type="text/plain", size=0, stamp=requester())  # fmt: skip
    assert ticket.attachments == []
