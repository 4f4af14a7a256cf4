"""Whether the mail gateway vouches for an email's sender: its Authentication-Results.

A ``From`` header is whatever the sender typed, so an email is credited to a person
only with a proof (:mod:`mail.intake`): the reply address only that person was sent
(:meth:`projections.outbox.MailIdentity.proves`), or this one: the gateway that received
the message checked it and wrote, in an ``Authentication-Results`` header (RFC 8601)
under its own authserv-id, ``dmarc=pass`` for the From domain (``header.from``), or
``dkim=pass`` by a signer (``header.d``) aligned with it: the same domain or a parent of
it, as DMARC's relaxed alignment has it.

Only the topmost ``Authentication-Results`` header of the trusted authserv-id counts.
Headers are added on top as a message travels, so the gateway's own verdict is the
highest; any below it were written before it arrived, by whoever sent it, and prove
nothing, even when they name the gateway. So the gateway must write one such header on
every message, with all of its verdicts (DKIM and DMARC) in it, as OpenDMARC, rspamd,
Gmail and Exchange Online do; a gateway that writes none for some messages leaves the
sender's own forgery on top, and this proof must then stay off (no trusted authserv-id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_PAIR = re.compile(r'([A-Za-z0-9_.\-/]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)')


@dataclass(frozen=True)
class Verdict:
    """One method's result in an Authentication-Results header (``dkim=pass header.d=…``)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


def _without_comments(value: str) -> str:
    """The header with its ``(comments)`` removed, quoted strings kept as written."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == '"' and depth == 0:
            quoted = True
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _split(value: str) -> list[str]:
    """The ``;``-separated parts, a ``;`` inside a quoted string being no separator (a
    quoted address such as ``smtp.mailfrom="a;dmarc=pass"@x`` adds no verdict)."""
    parts: list[str] = []
    current: list[str] = []
    quoted, escaped = False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def read_authentication_results(value: str) -> tuple[str, list[Verdict]]:
    """(authserv-id, lower-cased, and its verdicts) of one header value."""
    parts = _split(_without_comments(re.sub(r"\r?\n[ \t]", " ", value)))
    words = parts[0].split()
    authserv_id = words[0].lower() if words else ""
    verdicts: list[Verdict] = []
    for part in parts[1:]:
        pairs = _PAIR.findall(part)
        if not pairs:
            continue
        (method, result), rest = pairs[0], pairs[1:]
        verdicts.append(
            Verdict(
                method.lower().partition("/")[0],
                result.lower(),
                {k.lower(): v.strip('"').lower() for k, v in rest},
            )
        )
    return authserv_id, verdicts


def gateway_verdicts(authentication_results: Iterable[str], authserv_id: str) -> list[Verdict]:
    """The verdicts of the topmost header from ``authserv_id`` (headers top first)."""
    wanted = authserv_id.strip().lower()
    for value in authentication_results:
        found, verdicts = read_authentication_results(value)
        if found == wanted:
            return verdicts
    return []


def aligned(signer: str, domain: str) -> bool:
    """Relaxed alignment: the signing domain is the From domain or a parent of it (never a
    bare top-level name)."""
    signer, domain = signer.strip(".").lower(), domain.strip(".").lower()
    return "." in signer and (domain == signer or domain.endswith("." + signer))


def vouched_for(
    authentication_results: Iterable[str], authserv_id: str | None, sender: str
) -> bool:
    """Whether the trusted gateway proved that ``sender``'s domain sent the email."""
    if not authserv_id:
        return False
    domain = sender.rpartition("@")[2].lower()
    for verdict in gateway_verdicts(authentication_results, authserv_id):
        if verdict.result != "pass":
            continue
        if verdict.method == "dmarc" and verdict.properties.get("header.from") == domain:
            return True
        if verdict.method == "dkim":
            signer = (
                verdict.properties.get("header.d")
                or (verdict.properties.get("header.i", "").rpartition("@")[2])
            )
            if signer and aligned(signer, domain):
                return True
    return False
