"""A saved view: a filter and sort of the inbox kept under a name.

A view is personal (its ``owner_id`` is the agent who saved it, and nobody else sees
it) or shared (no owner: every agent and admin sees it, and only admins save, change
or remove it). Its ``filters`` are the inbox's own query parameters as a client
sends them (``{"status": ["open"], "group": ["tier-1"], "sort": ["priority"]}``):
what they mean, and whether the inbox takes them, is the inbox's parser's to say
(``api.inbox_filters``), read again each time the view is listed, so ``assignee=me``
and ``created=today`` are the reader's and the day's. The domain only bounds their
size, so a view never holds more than a query string could.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import ChainedAggregate
from domain.errors import InvalidField, NothingChanged, SharedViewsForAdmins, UnknownSavedView
from domain.messages import Msg
from domain.stamp import Stamp
from domain.vocabulary import checked_text

VIEW_NAME_MAX_CHARS = 100
FILTERS_MAX = 30
"""Query parameters one view keeps (the inbox has fewer kinds; repeats are values)."""
VALUES_MAX = 20
VALUE_MAX_CHARS = 200
PARAMETER_MAX_CHARS = 100

Filters = dict[str, list[str]]


def checked_name(name: str) -> str:
    checked_text("name", name, max_chars=VIEW_NAME_MAX_CHARS)
    if name != name.strip():
        raise InvalidField("name", Msg("A view's name has no leading or trailing spaces."))
    return name


def checked_filters(filters: Filters) -> Filters:
    """The filters, copied, if they are within what one query string of the inbox holds."""
    if not isinstance(filters, dict) or len(filters) > FILTERS_MAX:
        raise InvalidField(
            "filters", Msg("A view keeps at most {FILTERS_MAX} filters.", FILTERS_MAX=FILTERS_MAX)
        )
    kept: Filters = {}
    for parameter, values in filters.items():
        field = f"filters.{parameter}"
        if not isinstance(parameter, str) or not 0 < len(parameter) <= PARAMETER_MAX_CHARS:
            raise InvalidField("filters", Msg("A filter is named by an inbox query parameter."))
        if not isinstance(values, list) or not 0 < len(values) <= VALUES_MAX:
            raise InvalidField(
                field,
                Msg("{field} takes 1 to {VALUES_MAX} values.", field=field, VALUES_MAX=VALUES_MAX),
            )
        for value in values:
            if not isinstance(value, str) or len(value) > VALUE_MAX_CHARS:
                raise InvalidField(
                    field,
                    Msg(
                        "{field} takes text of at most {VALUE_MAX_CHARS}.",
                        field=field,
                        VALUE_MAX_CHARS=VALUE_MAX_CHARS,
                    ),
                )
        kept[parameter] = list(values)
    return kept


class SavedView(ChainedAggregate):
    class Saved(ChainedAggregate.Created):
        name: str
        owner_id: str | None
        """The agent whose personal view it is; ``None`` for a view shared with all staff."""
        filters: Filters

    class Changed(ChainedAggregate.Event):
        name: str
        filters: Filters

    class Removed(ChainedAggregate.Event):
        pass

    @classmethod
    def save(
        cls,
        *,
        view_id: UUID,
        name: str,
        owner_id: str | None,
        filters: Filters,
        may_share: bool,
        stamp: Stamp,
    ) -> SavedView:
        if owner_id is None and not may_share:
            raise SharedViewsForAdmins(
                Msg(
                    "Only Docket admins share views with all staff; save it as your own (shared: "
                    "false)."
                )
            )
        return cls(
            id=view_id,
            name=checked_name(name),
            owner_id=owner_id,
            filters=checked_filters(filters),
            stamp=stamp,
        )

    @event(Saved)
    def __init__(
        self, id: UUID, name: str, owner_id: str | None, filters: Filters, stamp: Stamp
    ) -> None:
        self.name = name
        self.owner_id = owner_id
        self.filters = filters
        self.removed = False

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    def visible_to(self, person_id: str) -> bool:
        """A shared view is every staff member's; a personal one its owner's alone."""
        return not self.removed and (self.shared or self.owner_id == person_id)

    def check_editable_by(self, person_id: str, *, may_share: bool) -> None:
        """Someone else's personal view, or a removed one, is no view at all to the caller;
        a shared one is changed by admins."""
        if not self.visible_to(person_id):
            raise UnknownSavedView(Msg("No saved view {id}; see GET /v1/views.", id=self.id))
        if self.shared and not may_share:
            raise SharedViewsForAdmins(
                Msg(
                    "The view {name} is shared with all staff: only Docket admins change or "
                    "delete it. Save a view of your own instead.",
                    name=self.name,
                )
            )

    def change(
        self,
        *,
        editor_id: str,
        may_share: bool,
        name: str | None,
        filters: Filters | None,
        stamp: Stamp,
    ) -> None:
        self.check_editable_by(editor_id, may_share=may_share)
        new_name = self.name if name is None else checked_name(name)
        new_filters = self.filters if filters is None else checked_filters(filters)
        if (new_name, new_filters) == (self.name, self.filters):
            raise NothingChanged(Msg("The view {name} already reads so.", name=self.name))
        self._changed(name=new_name, filters=new_filters, stamp=stamp)

    @event(Changed)
    def _changed(self, name: str, filters: Filters, stamp: Stamp) -> None:
        self.name = name
        self.filters = filters

    def remove(self, *, editor_id: str, may_share: bool, stamp: Stamp) -> None:
        self.check_editable_by(editor_id, may_share=may_share)
        self._removed(stamp=stamp)

    @event(Removed)
    def _removed(self, stamp: Stamp) -> None:
        self.removed = True
