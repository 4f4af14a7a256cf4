"""The email that carries a sign-in link, in its reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from domain.messages import Msg
from languages import duration, render
from mail.text import header_line
from projections.outbox import MailIdentity
from store.sign_in import LINK_LIFETIME, SignInLink


def sign_in_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/sign-in/{token}"


def sign_in_email(link: SignInLink, token: str, identity: MailIdentity) -> EmailMessage:
    language = link.language
    url = sign_in_url(identity.public_url, token)
    body = "\n\n".join(
        render(text, language)
        for text in (
            Msg("Hello {name},", name=link.name),
            Msg(
                "Open this link to sign in to Docket Support. It works once, for {lifetime}:",
                lifetime=duration(LINK_LIFETIME.total_seconds(), language),
            ),
            url,
            Msg("If you did not ask to sign in, ignore this email; nobody signs in without it."),
        )
    )
    message = EmailMessage()
    name, sender = parseaddr(identity.sender)
    message["From"] = formataddr((header_line(name), sender))
    message["To"] = link.email
    message["Subject"] = header_line(render(Msg("Your sign-in link to Docket Support"), language))
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("sign-in", domain=identity.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body + "\n")
    message["Content-Language"] = language
    return message
