"""Whether an inbound email was written by a robot: an out-of-office, a bounce, a list.

Such mail is kept but never added to a ticket, so that two robots never write to each
other. A robot says so by ``Auto-Submitted`` (anything but ``no``), a bulk or junk
``Precedence``, an ``X-Autoreply``/``X-Autorespond`` header, a ``mailer-daemon`` or
``postmaster`` sender, or a delivery report (``multipart/report``).
"""

from __future__ import annotations

from email.message import Message

from mail.headers import raw_headers
from mail.mime import safe_content_type


def is_auto_reply(message: Message, sender: str) -> bool:
    """Whether the message, from ``sender`` (its lower-cased address), is automatic."""
    auto_submitted = " ".join(raw_headers(message, "Auto-Submitted")).strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    precedence = " ".join(raw_headers(message, "Precedence")).strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "auto-reply"):
        return True
    if any(v.strip() for n in ("X-Autoreply", "X-Autorespond") for v in raw_headers(message, n)):
        return True
    if sender.partition("@")[0] in ("mailer-daemon", "postmaster"):
        return True
    return safe_content_type(message) == "multipart/report"
