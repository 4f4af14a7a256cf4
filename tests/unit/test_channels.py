"""The chat and callback channels: transcripts, E.164 numbers, callback windows, their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.service import SupportDesk
from domain import errors
from domain.channels import (
    CallbackRequest,
    ChatLine,
    callback_description,
    chat_description,
    check_callback_window,
    check_channel_and_transcript,
    checked_phone,
    checked_time_zone,
)
from domain.ticket import Ticket
from tests.builders import T0, agent, desk_with_account, later, new_ticket, requester

CHAT = [
    ChatLine("customer", "Hi, my files stopped syncing.", T0),
    ChatLine("agent", "Which laptop is it?", T0 + timedelta(minutes=1)),
    ChatLine("customer", "The MacBook."),
]


@pytest.mark.parametrize(
    "phone", ["+14155552671", "+33612345678", "+4930123456", "+12345678", "+123456789012345"]
)
def test_e164_numbers_are_taken_as_they_are(phone: str) -> None:
    assert checked_phone(phone) == phone


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "14155552671",  # no +
        "+04155552671",  # country code cannot start with 0
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+1 415 555 2671",  # spaces
        "+1-415-555-2671",
        "+1(415)5552671",
        "+1415555267a",
        "+١٤١٥٥٥٥٢٦٧١",  # Arabic-Indic digits are digits to \\d, not to E.164
        "+14155552671\n",
        " +14155552671",
        "++14155552671",
    ],
)
def test_anything_but_e164_is_refused_naming_the_field_and_an_example(phone: str) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        checked_phone(phone)
    assert refused.value.field == "phone"
    assert "E.164" in refused.value.detail and "+14155552671" in refused.value.detail


@given(st.text(max_size=20))
def test_a_number_is_accepted_only_if_it_is_plus_then_8_to_15_ascii_digits(text: str) -> None:
    e164 = (
        text[:1] == "+"
        and 8 <= len(text) - 1 <= 15
        and all(c in "0123456789" for c in text[1:])
        and text[1] != "0"
    )
    try:
        checked_phone(text)
    except errors.InvalidField:
        assert not e164
    else:
        assert e164


def test_a_window_within_the_limits_is_accepted() -> None:
    check_callback_window(later(hours=1), later(hours=3), T0)
    check_callback_window(later(hours=-2), later(hours=1), T0)  # "any time until 10:00"
    check_callback_window(later(days=23), later(days=30), T0)  # 7 days, ending 30 days out
    check_callback_window(T0, T0 + timedelta(minutes=15), T0)


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        (later(hours=3), later(hours=1), "window_end", "after window_start"),
        (later(hours=1), later(hours=1), "window_end", "after window_start"),
        (later(hours=-3), later(hours=-1), "window_end", "already passed"),
        (later(hours=-3), T0, "window_end", "already passed"),
        (later(hours=1), later(hours=1) + timedelta(minutes=14), "window_end", "at least 15"),
        (later(days=1), later(days=8, hours=1), "window_end", "at most 7 days"),
        (later(days=29), later(days=30, hours=1), "window_end", "30 days"),
    ],
)
def test_a_window_outside_the_limits_is_refused_with_the_reason(
    start: datetime, end: datetime, field: str, words: str
) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        check_callback_window(start, end, T0)
    assert refused.value.field == field
    assert words in refused.value.detail


def test_a_window_without_a_time_zone_is_refused() -> None:
    naive = datetime(2024, 3, 4, 12, 0)
    with pytest.raises(errors.InvalidField) as refused:
        check_callback_window(naive, later(hours=5), T0)
    assert refused.value.field == "window_start"


def test_no_window_at_all_is_as_soon_as_possible_but_half_a_window_is_refused() -> None:
    check_callback_window(None, None, T0)
    for start, end, missing in ((later(hours=1), None, "window_end"),
                                (None, later(hours=1), "window_start")):  # fmt: skip
        with pytest.raises(errors.InvalidField) as refused:
            check_callback_window(start, end, T0)
        assert refused.value.field == missing
        assert "as soon as possible" in refused.value.detail


def test_a_callback_without_a_window_is_asked_as_soon_as_possible() -> None:
    ticket = new_ticket()
    ticket.request_callback(callback=CallbackRequest("+14155552671"), stamp=requester())
    (_, asked) = ticket.collect_events()
    assert isinstance(asked, Ticket.CallbackRequested)
    assert (asked.window_start, asked.window_end) == (None, None)
    assert ticket.callback_state == "to_make"
    assert callback_description("", None, None, None) == "Callback requested, as soon as possible."


def test_a_window_in_another_offset_is_the_same_instants() -> None:
    paris = timezone(timedelta(hours=1))
    check_callback_window(datetime(2024, 3, 4, 11, 0, tzinfo=paris), later(hours=4), T0)


def test_the_display_time_zone_is_an_iana_name() -> None:
    assert checked_time_zone("Europe/Paris") == "Europe/Paris"
    assert checked_time_zone(None) is None
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "x" * 65):
        with pytest.raises(errors.InvalidField) as refused:
            checked_time_zone(bad)
        assert refused.value.field == "time_zone"


def test_a_chat_ticket_needs_a_transcript_and_only_a_chat_ticket_has_one() -> None:
    check_channel_and_transcript("chat", CHAT)
    check_channel_and_transcript("web", None)
    for channel, lines in (("chat", None), ("chat", []), ("web", CHAT), ("phone", [])):
        with pytest.raises(errors.InvalidField) as refused:
            check_channel_and_transcript(channel, lines)
        assert refused.value.field == "transcript"


def test_the_transcript_renders_one_line_per_utterance_after_the_summary() -> None:
    text = chat_description("Sync broken on one laptop", CHAT)
    assert text == (
        "Sync broken on one laptop\n\nChat transcript:\n"
        "[2024-03-04T09:00:00+00:00] Customer: Hi, my files stopped syncing.\n"
        "[2024-03-04T09:01:00+00:00] Agent: Which laptop is it?\n"
        "Customer: The MacBook."
    )
    assert chat_description("  ", CHAT).startswith("Chat transcript:\n")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([ChatLine("bot", "beep")], "transcript.0.who"),
        ([ChatLine("customer", "hi"), ChatLine("agent", "   ")], "transcript.1.text"),
        ([ChatLine("customer", "x" * 4001)], "transcript.0.text"),
        ([ChatLine("customer", "hi", datetime(2024, 3, 4, 9, 0))], "transcript.0.at"),
        ([ChatLine("customer", "hi")] * 501, "transcript"),
        ([ChatLine("customer", "é" * 4000)] * 10, "transcript"),  # over 60 KiB rendered
    ],
)
def test_a_malformed_transcript_is_refused_naming_the_line(
    lines: list[ChatLine], field: str
) -> None:
    with pytest.raises(errors.InvalidField) as refused:
        chat_description("", lines)
    assert refused.value.field == field


def chat_ticket() -> Ticket:
    ticket = new_ticket()
    ticket.channel = "chat"
    return ticket


def test_a_chat_ticket_records_its_transcript_once_right_after_it_opens() -> None:
    ticket = chat_ticket()
    ticket.record_chat_transcript(lines=CHAT, stamp=requester())
    events = ticket.collect_events()
    assert [type(e).__name__ for e in events] == ["Opened", "ChatTranscriptRecorded"]
    recorded = events[1]
    assert isinstance(recorded, Ticket.ChatTranscriptRecorded)
    assert recorded.lines[0] == {
        "who": "customer", "text": "Hi, my files stopped syncing.", "at": T0.isoformat(),
    }  # fmt: skip
    assert recorded.lines[2]["at"] is None
    with pytest.raises(errors.NothingChanged):
        ticket.record_chat_transcript(lines=CHAT, stamp=requester())
    with pytest.raises(errors.InvalidField):
        new_ticket().record_chat_transcript(lines=CHAT, stamp=requester())


def ask_for_a_callback(
    ticket: Ticket,
    phone: str = "+14155552671",
    window_end: datetime | None = None,
    time_zone: str | None = None,
) -> None:
    """The requester asks to be phoned back, from an hour from T0 to ``window_end`` (three)."""
    callback = CallbackRequest(phone, later(hours=1), window_end or later(hours=3), time_zone)
    ticket.request_callback(callback=callback, stamp=requester())


def test_a_callback_request_is_recorded_with_its_number_and_window() -> None:
    ticket = new_ticket()
    ask_for_a_callback(ticket, time_zone="America/Los_Angeles")
    (_, asked) = ticket.collect_events()
    assert isinstance(asked, Ticket.CallbackRequested)
    assert (asked.phone, asked.window_start, asked.window_end, asked.time_zone) == (
        "+14155552671", later(hours=1), later(hours=3), "America/Los_Angeles",
    )  # fmt: skip
    assert ticket.callback_state == "to_make"
    with pytest.raises(errors.NothingChanged):  # one callback waits at a time
        ask_for_a_callback(ticket)


def test_a_callback_request_checks_the_number_the_window_and_the_status() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.InvalidField) as refused:
        ask_for_a_callback(ticket, phone="555-2671")
    assert refused.value.field == "phone"
    with pytest.raises(errors.InvalidField) as refused:
        ask_for_a_callback(ticket, window_end=later(days=9))
    assert refused.value.field == "window_end"
    ticket.change_status(to_status="closed", stamp=agent())
    with pytest.raises(errors.TicketClosed):
        ask_for_a_callback(ticket)


def test_only_staff_record_a_callback_made_and_only_when_one_is_to_make() -> None:
    ticket = new_ticket()
    with pytest.raises(errors.NoCallbackToMake):
        ticket.record_callback_made(outcome="reached", stamp=agent())
    ask_for_a_callback(ticket)
    with pytest.raises(errors.StaffOnly):
        ticket.record_callback_made(outcome="reached", stamp=requester())
    with pytest.raises(errors.InvalidField):
        ticket.record_callback_made(outcome="voicemail", stamp=agent())
    ticket.record_callback_made(outcome="no_answer", stamp=agent(later(hours=2)))
    made = ticket.collect_events()[-1]
    assert isinstance(made, Ticket.CallbackMade) and made.outcome == "no_answer"
    assert ticket.callback_state == "made"
    with pytest.raises(errors.NoCallbackToMake):
        ticket.record_callback_made(outcome="reached", stamp=agent())


def test_the_desk_files_a_chat_ticket_with_its_transcript_as_the_first_message() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    filed = desk.file_ticket(
        account_id=account, requester_id="req-1", subject="Sync", description="",
        type="bug", priority="normal", product="Files", channel="chat", transcript=CHAT,
        stamp=requester(),
    )  # fmt: skip
    assert filed.version == 2
    stored = list(desk.events.get(filed.ticket_id))
    assert [type(e).__name__ for e in stored] == ["Opened", "ChatTranscriptRecorded"]
    assert isinstance(stored[0], Ticket.Opened)
    assert stored[0].description.startswith("Chat transcript:\n[2024-03-04T09:00:00+00:00]")
    with pytest.raises(errors.InvalidField) as refused:
        desk.file_ticket(
            account_id=account, requester_id="req-1", subject="Sync", description="d",
            type="bug", priority="normal", product="", channel="chat", stamp=requester(),
        )  # fmt: skip
    assert refused.value.field == "transcript"


def test_the_desk_files_a_callback_as_an_urgent_phone_ticket_without_the_number_in_it() -> None:
    desk = SupportDesk()
    account = desk_with_account(desk)
    start = datetime.now(UTC) + timedelta(hours=1)
    filed = desk.request_callback(
        account_id=account, requester_id="req-1", subject="Call me", description="",
        product="Files", phone="+14155552671", window_start=start,
        window_end=start + timedelta(hours=2), time_zone="Europe/Paris",
        stamp=requester(datetime.now(UTC)),
    )  # fmt: skip
    opened, asked = desk.events.get(filed.ticket_id)
    assert isinstance(opened, Ticket.Opened) and isinstance(asked, Ticket.CallbackRequested)
    assert (opened.channel, opened.priority) == ("phone", "urgent")
    assert "+14155552671" not in opened.description
    assert "Europe/Paris" in opened.description
    made = desk.record_callback_made(filed.number, outcome="reached", stamp=agent(start))
    assert made.version == 3
    free = desk_with_account(desk, plan="free")
    with pytest.raises(errors.PlanNotEntitled):
        desk.request_callback(
            account_id=free, requester_id="req-1", subject="Call me", description="",
            product="", phone="+14155552671", window_start=start,
            window_end=start + timedelta(hours=2), time_zone=None, stamp=requester(start),
        )  # fmt: skip
