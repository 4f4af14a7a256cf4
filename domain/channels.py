"""The chat and phone-callback channels: what a transcript and a callback request may hold.

A **chat** ticket arrives with the transcript of the chat that led to it. Its
lines (who spoke — ``customer`` or ``agent`` —, the text, optionally the
instant) are kept as they were said, and rendered into the ticket's first
message so every reader, list and search sees the conversation as text.

A **callback** request asks an agent to phone the requester. The number is in
E.164 (``+`` then 8 to 15 digits, the first not 0, nothing else: no spaces,
dashes or brackets). A window is optional: without one the requester is called as
soon as possible, when the next representative is free (the callback waits in the
queue from the moment it was asked, like any other). A preferred window is two
instants, both given or neither:

* the start comes before the end, and the window lasts at least
  :data:`CALLBACK_WINDOW_MIN` (an agent needs a moment to pick up the queue);
* the end is still in the future when the request is made;
* the window is at most :data:`CALLBACK_WINDOW_MAX` long;
* the end is at most :data:`CALLBACK_HORIZON` ahead (further out, a ticket is
  the better tool);
* a start already past is allowed: "call me any time before 17:00" is a window
  from now.

An optional IANA time zone says how to show the window to the agent and the
requester; the instants themselves are absolute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidField
from domain.messages import Msg
from domain.vocabulary import CHAT_SPEAKERS

TRANSCRIPT_MAX_LINES = 500
CHAT_LINE_MAX_CHARS = 4000
TRANSCRIPT_MAX_BYTES = 60 * 1024
"""The rendered transcript fits the first message (64 KiB) with room for a summary."""

E164 = re.compile(r"\+[1-9][0-9]{7,14}", re.ASCII)
PHONE_EXAMPLE = "+14155552671"
CALLBACK_WINDOW_MIN = timedelta(minutes=15)
CALLBACK_WINDOW_MAX = timedelta(days=7)
CALLBACK_HORIZON = timedelta(days=30)
TIME_ZONE_MAX_CHARS = 64
CALLBACK_SUBJECT = "Callback request"
"""The subject of a callback ticket asked for with no subject: the number is enough."""


@dataclass(frozen=True)
class CallbackRequest:
    """A callback asked for: the number to phone, and a window (instants; ``time_zone``
    only says how to show it), or none (both ``None``): as soon as possible."""

    phone: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    time_zone: str | None = None

    def check(self, now: datetime) -> None:
        """Refuse a callback the desk cannot make: its number, the time zone it is shown
        in, and its window, in that order."""
        checked_phone(self.phone)
        checked_time_zone(self.time_zone)
        check_callback_window(self.window_start, self.window_end, now)


@dataclass(frozen=True)
class ChatLine:
    """One line of a chat: who said it, what, and (if the chat tool gave it) when."""

    who: str
    text: str
    at: datetime | None = None

    def as_data(self) -> dict[str, Any]:
        return {"who": self.who, "text": self.text, "at": self.at.isoformat() if self.at else None}


def checked_transcript(lines: list[ChatLine]) -> list[ChatLine]:
    """The lines themselves, if they make a transcript worth filing."""
    if not lines:
        raise InvalidField(
            "transcript", Msg("A chat ticket needs its transcript: at least one line.")
        )
    if len(lines) > TRANSCRIPT_MAX_LINES:
        raise InvalidField(
            "transcript",
            Msg(
                "transcript has {length} lines; at most {TRANSCRIPT_MAX_LINES}.",
                length=len(lines),
                TRANSCRIPT_MAX_LINES=TRANSCRIPT_MAX_LINES,
            ),
        )
    for n, line in enumerate(lines):
        field = f"transcript.{n}"
        if line.who not in CHAT_SPEAKERS:
            raise InvalidField(
                f"{field}.who", Msg("who is customer or agent; got {who!r}.", who=line.who)
            )
        if not isinstance(line.text, str) or not line.text.strip():
            raise InvalidField(f"{field}.text", Msg("A transcript line must say something."))
        if len(line.text) > CHAT_LINE_MAX_CHARS:
            raise InvalidField(
                f"{field}.text",
                Msg(
                    "A transcript line is at most {CHAT_LINE_MAX_CHARS} characters.",
                    CHAT_LINE_MAX_CHARS=CHAT_LINE_MAX_CHARS,
                ),
            )
        if line.at is not None and line.at.tzinfo is None:
            raise InvalidField(
                f"{field}.at", Msg("at must carry a time zone (e.g. ...T10:02:00Z).")
            )
    return lines


def render_transcript(lines: list[ChatLine]) -> str:
    """The transcript as text: one ``[instant] Speaker: text`` paragraph per line."""
    paragraphs = []
    for line in lines:
        when = f"[{line.at.isoformat(timespec='seconds')}] " if line.at else ""
        paragraphs.append(f"{when}{line.who.title()}: {line.text.strip()}")
    text = "\n".join(paragraphs)
    if len(text.encode("utf-8", "surrogatepass")) > TRANSCRIPT_MAX_BYTES:
        raise InvalidField(
            "transcript",
            Msg("The transcript is larger than {value} KiB.", value=TRANSCRIPT_MAX_BYTES // 1024),
        )
    return text


def chat_description(summary: str, lines: list[ChatLine]) -> str:
    """The first message of a chat ticket: the requester's summary (if any), then the chat."""
    transcript = "Chat transcript:\n" + render_transcript(checked_transcript(lines))
    return f"{summary.strip()}\n\n{transcript}" if summary.strip() else transcript


def check_channel_and_transcript(channel: str, lines: list[ChatLine] | None) -> None:
    """A chat ticket comes with its transcript; no other ticket has one."""
    if channel == "chat" and not lines:
        raise InvalidField(
            "transcript", Msg("A chat ticket needs its transcript: the lines of the chat.")
        )
    if channel != "chat" and lines is not None:
        raise InvalidField(
            "transcript",
            Msg("Only chat tickets carry a transcript; this one is {channel}.", channel=channel),
        )


def checked_phone(phone: str) -> str:
    """``phone`` if it is an E.164 number, else a refusal that shows the form."""
    if not isinstance(phone, str) or E164.fullmatch(phone) is None:
        raise InvalidField(
            "phone",
            Msg(
                "phone must be in E.164: + then the country code and number, 8 to 15 "
                "digits in all, the first not 0, no spaces or punctuation (e.g. "
                "{PHONE_EXAMPLE}).",
                PHONE_EXAMPLE=PHONE_EXAMPLE,
            ),
        )
    return phone


def checked_time_zone(time_zone: str | None) -> str | None:
    if time_zone is None:
        return None
    try:
        if not time_zone or len(time_zone) > TIME_ZONE_MAX_CHARS:
            raise ValueError
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise InvalidField(
            "time_zone",
            Msg(
                "{time_zone!r} is not an IANA time zone such as Europe/Paris.", time_zone=time_zone
            ),
        ) from None
    return time_zone


def check_callback_window(start: datetime | None, end: datetime | None, now: datetime) -> None:
    """Refuse a window the desk cannot honour (see the module's rules); no window at all
    (as soon as possible) is fine, half of one is not."""
    if start is None and end is None:
        return
    if start is None or end is None:
        missing = "window_start" if start is None else "window_end"
        raise InvalidField(
            missing,
            Msg(
                "A callback window has a start and an end; give both, or neither to be called "
                "as soon as possible."
            ),
        )
    for field, value in (("window_start", start), ("window_end", end)):
        if value.tzinfo is None:
            raise InvalidField(
                field,
                Msg(
                    "{field} must carry a time zone (e.g. 2024-03-04T09:00:00+01:00).", field=field
                ),
            )
    if start >= end:
        raise InvalidField("window_end", Msg("window_end must come after window_start."))
    if end <= now:
        raise InvalidField(
            "window_end", Msg("window_end has already passed: pick a later window.")
        )
    if end - start < CALLBACK_WINDOW_MIN:
        minutes = CALLBACK_WINDOW_MIN // timedelta(minutes=1)
        raise InvalidField(
            "window_end",
            Msg("A callback window lasts at least {minutes} minutes.", minutes=minutes),
        )
    if end - start > CALLBACK_WINDOW_MAX:
        raise InvalidField(
            "window_end",
            Msg("A callback window lasts at most {days} days.", days=CALLBACK_WINDOW_MAX.days),
        )
    if end - now > CALLBACK_HORIZON:
        raise InvalidField(
            "window_end",
            Msg(
                "A callback window ends at most {days} days from now; for later, file a ticket.",
                days=CALLBACK_HORIZON.days,
            ),
        )


def window_text(start: datetime, end: datetime, time_zone: str | None) -> str:
    """The window as people read it, in ``time_zone`` (UTC when none was given)."""
    zone = ZoneInfo(time_zone or "UTC")
    a, b = start.astimezone(zone), end.astimezone(zone)
    until = b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%Y-%m-%d %H:%M")
    return f"{a.strftime('%Y-%m-%d %H:%M')} to {until} ({time_zone or 'UTC'})"


def callback_description(
    summary: str, start: datetime | None, end: datetime | None, tz: str | None
) -> str:
    """The first message of a callback ticket. The phone number is left out on purpose:
    the conversation is read by the whole team account, the number only by staff and the
    requester (it travels in the CallbackRequested event)."""
    if start is None or end is None:
        checked_time_zone(tz)
        asked = "Callback requested, as soon as possible."
    else:
        asked = f"Callback requested, between {window_text(start, end, checked_time_zone(tz))}."
    return f"{summary.strip()}\n\n{asked}" if summary.strip() else asked
