"""Satisfaction surveys: the signed link a requester is emailed when their ticket closes.

A link names one closing of one ticket (the ticket's cycle), the language its page
speaks, and the instant it stops working, and carries an HMAC-SHA256 of all four under
the server's mail secret: no one makes a link they were not sent, or alters one (another
ticket, another cycle, a later expiry) and keeps it working. A link works for
:data:`SURVEY_LIFETIME` after the closing, and records one rating: the ticket refuses a
second (:meth:`domain.ticket.Ticket.answer_survey`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.errors import SurveyLinkExpired, SurveyLinkInvalid
from domain.messages import Msg
from domain.vocabulary import LANGUAGES

SURVEY_LIFETIME = timedelta(days=14)
"""How long after the closing a survey link records a rating."""
MAC_CHARS = 26
"""130 bits of HMAC in base32, as the reply addresses carry."""
_TOKEN = re.compile(
    r"([0-9a-f]{32})\.([1-9][0-9]{0,5})\.([a-z]{2})\.([0-9]{1,11})\.([a-z2-7]{"
    + str(MAC_CHARS)
    + "})"
)


@dataclass(frozen=True)
class SurveyLink:
    """One closing's survey, as its link names it."""

    ticket_id: UUID
    cycle: int
    language: str
    expires_at: datetime

    @classmethod
    def for_closing(
        cls, ticket_id: UUID, cycle: int, language: str, closed_at: datetime
    ) -> SurveyLink:
        expires = (closed_at + SURVEY_LIFETIME).astimezone(UTC).replace(microsecond=0)
        return cls(ticket_id, cycle, language if language in LANGUAGES else "en", expires)

    @property
    def causation_id(self) -> str:
        """What a rating recorded through the link names as its cause."""
        return f"survey:{self.ticket_id}:c{self.cycle}"

    def _body(self) -> str:
        expires = int(self.expires_at.timestamp())
        return f"{self.ticket_id.hex}.{self.cycle}.{self.language}.{expires}"

    def token(self, secret: bytes) -> str:
        """The link's token: what it names, then its signature (none without a secret)."""
        if not secret:
            raise ValueError("survey links are signed: a mail secret is needed")
        return f"{self._body()}.{_mac(secret, self._body())}"


def _mac(secret: bytes, body: str) -> str:
    signed = hmac.new(secret, f"survey\0{body}".encode(), hashlib.sha256)
    return base64.b32encode(signed.digest()).decode("ascii")[:MAC_CHARS].lower()


def read_survey_link(token: str, secret: bytes, now: datetime) -> SurveyLink:
    """The survey ``token`` names, if it was signed with ``secret`` and works at ``now``."""
    found = _TOKEN.fullmatch(token) if token.isascii() else None
    invalid = SurveyLinkInvalid(
        Msg(
            "This survey link is not one Docket sent (it may be cut short or altered): open the "
            "link from the email again, or rate the ticket from your ticket list."
        )
    )
    if found is None or not secret:
        raise invalid
    ticket_hex, cycle, language, expires, mac = found.groups()
    if not hmac.compare_digest(_mac(secret, token.rpartition(".")[0]), mac):
        raise invalid
    if language not in LANGUAGES:
        raise invalid
    link = SurveyLink(
        UUID(hex=ticket_hex), int(cycle), language, datetime.fromtimestamp(int(expires), UTC)
    )
    if now >= link.expires_at:
        raise SurveyLinkExpired(
            Msg(
                "This survey link stopped working on {expires_at} ({days} days after the ticket "
                "closed): rate the ticket from your ticket list instead.",
                expires_at=format(link.expires_at, "%Y-%m-%d"),
                days=SURVEY_LIFETIME.days,
            )
        )
    return link
