"""Inbound email, read into what a ticket needs: who wrote, to whom, about what, new text.

Pure parsing: bytes in, an ``InboundMail`` out, or ``MailUnreadable`` with the reason.
Routing the mail to a ticket, and keeping refused mail, is the caller's business
(:mod:`mail.intake`). The work is done by the modules beside this one: headers
(:mod:`mail.headers`), the MIME tree (:mod:`mail.mime`), HTML bodies
(:mod:`mail.html_text`), the new text of a reply (:mod:`mail.trimming`) and robots
(:mod:`mail.auto_reply`). Every string in an ``InboundMail`` is safe to store
(:mod:`mail.text`).

A From header must name exactly one address: the mail gateway checked one sender, and
the desk must not credit another.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from domain.errors import MailUnreadable
from domain.messages import Msg
from mail.auto_reply import is_auto_reply
from mail.headers import addresses, decode_header_text, first_message_id, message_ids, raw_headers
from mail.mime import read_parts, sanitise_filename
from mail.trimming import trim_reply

__all__ = ["InboundMail", "MailAttachment", "parse_mail"]


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    full_text: str
    attachments: tuple[MailAttachment, ...]
    auto_reply: bool
    authentication_results: tuple[str, ...] = ()
    """Every ``Authentication-Results`` header, top first (:mod:`mail.proof` reads them)."""


_WRITTEN = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
"""Anything written like an address, wherever it stands in a header."""


def parse_mail(raw: bytes) -> InboundMail:
    """Read one RFC 5322 message; any problem at all is a ``MailUnreadable``."""
    try:
        return _parse(bytes(raw))
    except MailUnreadable:
        raise
    except Exception as error:  # the contract: bytes from the internet never crash us
        raise MailUnreadable(
            Msg(
                "The message could not be read as an email ({__name__}). Send it again "
                "as a plain RFC 5322 message.",
                __name__=type(error).__name__,
            )
        ) from error


def _parse(raw: bytes) -> InboundMail:
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    senders = addresses(raw_headers(message, "From"))
    if not senders:
        raise MailUnreadable(
            Msg(
                "The message has no readable sender address in its From header, so it "
                "cannot be matched to a requester. Send it again from a mail client "
                "that sets From."
            )
        )
    sender_name, sender = senders[0]
    from_headers = raw_headers(message, "From")
    written = {found.lower() for value in from_headers for found in _WRITTEN.findall(value)}
    if len(from_headers) > 1 or len(senders) > 1 or written - {sender}:
        # "r@acme.test <evil@x.test>": the gateway checked one address, we would credit another
        raise MailUnreadable(
            Msg(
                "The From header names more than one address, so who wrote it is not "
                "certain. Send it again from a mail client that sets one sender."
            )
        )
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for _, address in addresses(raw_headers(message, name)):
            if address not in recipients:
                recipients.append(address)

    reading = read_parts(message)
    full_text = "\n\n".join(reading.texts).strip("\n")
    if not full_text.strip() and not reading.attachments:
        raise MailUnreadable(
            Msg(
                "The message has no text and no attachments, so there is nothing to "
                "add to a ticket. Write the reply in the body of the email and send it "
                "again."
            )
        )
    attachments = tuple(
        MailAttachment(sanitise_filename(name, content_type, number), content_type, data)
        for number, (name, content_type, data) in enumerate(reading.attachments, start=1)
    )
    subject_values = raw_headers(message, "Subject")
    own_ids = raw_headers(message, "Message-ID")
    return InboundMail(
        sender=sender,
        sender_name=sender_name,
        recipients=tuple(recipients),
        subject=decode_header_text(subject_values[0]) if subject_values else "",
        message_id=first_message_id(own_ids),
        in_reply_to=message_ids(raw_headers(message, "In-Reply-To")),
        references=message_ids(raw_headers(message, "References")),
        text=trim_reply(full_text) if full_text.strip() else "",
        full_text=full_text,
        attachments=attachments,
        auto_reply=is_auto_reply(message, sender),
        authentication_results=tuple(raw_headers(message, "Authentication-Results")),
    )
