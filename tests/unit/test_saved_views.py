"""Saved views: who sees and changes a view (the domain), and the inbox's own parser
reading a view's filters (``api.inbox_filters``), with no second copy of its rules."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.inbox_filters import PAGE_PARAMETERS, inbox_filter, saved_selection
from api.problems import Problem
from api.schemas.lists import TicketQuery
from api.schemas.views import as_parameters
from desk.access import Principal
from domain.errors import InvalidField, NothingChanged, SharedViewsForAdmins, UnknownSavedView
from domain.saved_view import FILTERS_MAX, SavedView
from tests.builders import agent

ALEX = Principal("agent-1", "agent", "Alex")
ADMIN = Principal("admin-1", "admin", "Ada")


def personal(owner: str = "agent-1", **filters: list[str]) -> SavedView:
    return SavedView.save(
        view_id=uuid.uuid4(),
        name="Mine",
        owner_id=owner,
        filters=filters or {"status": ["open"]},
        may_share=False,
        stamp=agent(who=owner),
    )


def shared() -> SavedView:
    return SavedView.save(
        view_id=uuid.uuid4(),
        name="Everyone's",
        owner_id=None,
        filters={"group": ["tier-1"]},
        may_share=True,
        stamp=agent(who="admin-1"),
    )


# --- the view's own rules ----------------------------------------------------------------


def test_a_personal_view_is_seen_by_its_owner_alone_and_a_shared_one_by_everyone() -> None:
    mine, everyones = personal(), shared()
    assert mine.visible_to("agent-1") and not mine.visible_to("agent-2")
    assert everyones.visible_to("agent-1") and everyones.visible_to("agent-2")


def test_only_those_who_may_share_save_a_shared_view() -> None:
    with pytest.raises(SharedViewsForAdmins):
        SavedView.save(
            view_id=uuid.uuid4(),
            name="All",
            owner_id=None,
            filters={},
            may_share=False,
            stamp=agent(),
        )


def test_another_agents_personal_view_is_no_view_at_all_to_change_or_remove() -> None:
    mine = personal()
    with pytest.raises(UnknownSavedView):
        mine.change(editor_id="agent-2", may_share=True, name="Taken", filters=None, stamp=agent())
    with pytest.raises(UnknownSavedView):
        mine.remove(editor_id="agent-2", may_share=True, stamp=agent())


def test_a_shared_view_is_changed_and_removed_by_admins_only() -> None:
    everyones = shared()
    with pytest.raises(SharedViewsForAdmins):
        everyones.change(
            editor_id="agent-1", may_share=False, name="X", filters=None, stamp=agent()
        )
    with pytest.raises(SharedViewsForAdmins):
        everyones.remove(editor_id="agent-1", may_share=False, stamp=agent())
    everyones.change(editor_id="admin-1", may_share=True, name="X", filters=None, stamp=agent())
    everyones.remove(editor_id="admin-1", may_share=True, stamp=agent())
    assert not everyones.visible_to("admin-1")


def test_a_removed_view_takes_no_change() -> None:
    mine = personal()
    mine.remove(editor_id="agent-1", may_share=False, stamp=agent())
    with pytest.raises(UnknownSavedView):
        mine.change(editor_id="agent-1", may_share=False, name="Back", filters=None, stamp=agent())


def test_a_change_that_changes_nothing_is_refused() -> None:
    mine = personal()
    with pytest.raises(NothingChanged):
        mine.change(editor_id="agent-1", may_share=False, name="Mine", filters=None, stamp=agent())


@pytest.mark.parametrize(
    ("name", "filters", "field"),
    [
        ("", {}, "name"),
        (" padded", {}, "name"),
        ("n" * 101, {}, "name"),
        ("Many", {f"p{i}": ["x"] for i in range(FILTERS_MAX + 1)}, "filters"),
        ("Empty", {"status": []}, "filters.status"),
        ("Long", {"q": ["x" * 201]}, "filters.q"),
    ],
)
def test_a_view_is_bounded_as_a_query_string_is(
    name: str, filters: dict[str, list[str]], field: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        SavedView.save(
            view_id=uuid.uuid4(),
            name=name,
            owner_id="agent-1",
            filters=filters,
            may_share=False,
            stamp=agent(),
        )
    assert refused.value.field == field


# --- the inbox's parser reads a view's filters -------------------------------------------


def refused_field(filters: dict[str, Any]) -> str:
    with pytest.raises(Problem) as refused:
        saved_selection(as_parameters(filters), ALEX)
    assert refused.value.status == 422 and refused.value.code == "invalid-field"
    field: str = refused.value.extra["errors"][0]["field"]
    return field


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"status": "solved"}, "filters.status"),
        ({"priority": ["urgent", "asap"]}, "filters.priority"),
        ({"breaching_within": -5}, "filters.breaching_within"),
        ({"needs_answer": "perhaps"}, "filters.needs_answer"),
        ({"sort": "loudest"}, "filters.sort"),
        ({"created": "next_week"}, "filters.created"),
        ({"created": "today", "tz": "Mars/Olympus"}, "filters.tz"),
        ({"colour": "red"}, "filters.colour"),
        ({"scope": "team"}, "filters.scope"),
    ],
)
def test_a_filter_the_inbox_refuses_is_refused_naming_it(
    filters: dict[str, Any], field: str
) -> None:
    assert refused_field(filters) == field


@pytest.mark.parametrize("parameter", PAGE_PARAMETERS)
def test_a_view_keeps_no_page_parameter(parameter: str) -> None:
    assert refused_field({parameter: "1"}) == f"filters.{parameter}"


def test_staff_filters_asked_for_by_a_customer_are_refused_as_the_inbox_refuses_them() -> None:
    customer = Principal("req-1", "requester", "Rita", account_id=uuid.uuid4())
    with pytest.raises(Problem) as refused:
        saved_selection({"group": ["tier-1"]}, customer)
    assert refused.value.extra["errors"][0]["field"] == "filters.group"


FILTER_VALUES: dict[str, Any] = {
    "status": st.lists(st.sampled_from(["open", "pending", "closed"]), max_size=3),
    "priority": st.lists(st.sampled_from(["low", "normal", "high", "urgent"]), max_size=4),
    "type": st.lists(st.sampled_from(["question", "bug", "billing"]), max_size=3),
    "product": st.lists(st.sampled_from(["Files", "Dash", "Mail"]), max_size=3),
    "assignee": st.lists(st.sampled_from(["me", "none", "agent-7"]), max_size=3),
    "group": st.lists(st.sampled_from(["tier-1", "tier-2"]), max_size=2),
    "needs_answer": st.booleans(),
    "breaching_within": st.integers(0, 10_000),
    "created": st.sampled_from(["today", "this_week", "2024-03-01..2024-03-31", "..2024-01-01"]),
    "q": st.sampled_from(["sync", "paused files"]),
    "callback": st.sampled_from(["to_make", "made"]),
    "tags_all": st.sampled_from(["vip", "vip,Refund", "outage"]),
    "tags_any": st.sampled_from(["vip", "beta,outage"]),
    "sort": st.sampled_from(["attention", "last_activity", "created", "priority", "due"]),
    "order": st.sampled_from(["asc", "desc"]),
}


@given(
    st.fixed_dictionaries({}, optional=FILTER_VALUES).map(
        lambda d: {k: v for k, v in d.items() if v != []}
    )
)
def test_a_view_selects_what_the_inbox_selects_for_the_same_query(filters: dict[str, Any]) -> None:
    selection = saved_selection(as_parameters(filters), ALEX)
    as_inbox = TicketQuery.model_validate(filters)
    expected = inbox_filter(as_inbox, ALEX)
    assert selection.where.digest() == expected.digest()  # "now" aside: it is the moment
    assert (selection.sort, selection.reverse) == (as_inbox.sort, as_inbox.order == "asc")


def test_every_filter_the_inbox_declares_is_one_a_view_may_keep() -> None:
    """A filter added to the inbox's query is a view's without a change to saved views:
    only the page parameters are refused by name."""
    filters = set(TicketQuery.model_fields) - set(PAGE_PARAMETERS)
    for name in filters:
        try:
            saved_selection({name: ["x"]}, ADMIN)
        except Problem as refusal:
            message = str(refusal.extra["errors"][0]["message"])
            assert "not one the request takes" not in message, name
            assert "keeps which tickets" not in message, name
