"""Saved views of the inbox: an agent's own, or shared with all staff by an admin. Each
use case is one save.

Whether the filters are ones the inbox takes is decided before the desk is called, by
the inbox's own parser (``api.inbox_filters``): the desk keeps them as the query
parameters they are. Who may change a view is the view's rule
(:meth:`domain.saved_view.SavedView.check_editable_by`); whether the caller's role
shares views is the role matrix's (``share_view``), passed in as ``may_share``.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from desk.answers import SavedViewReceipt
from desk.core import DeskCore, RecordChange, position, uuid_of
from domain.errors import UnknownSavedView
from domain.messages import Msg
from domain.saved_view import Filters, SavedView
from domain.stamp import Stamp


def _no_view(view_ref: str | UUID) -> UnknownSavedView:
    """Said as for an id that is not there: the id as it was asked for."""
    return UnknownSavedView(Msg("No saved view {id}; see GET /v1/views.", id=str(view_ref)[:100]))


def _saved_view(desk: DeskCore, view_ref: str | UUID) -> SavedView:
    missing = _no_view(view_ref)
    view_id = view_ref if isinstance(view_ref, UUID) else uuid_of(view_ref, lambda _: missing)
    return desk._get(SavedView, view_id, missing)


def _check_visible(view: SavedView, view_ref: str | UUID, stamp: Stamp) -> None:
    """A view the stamp's actor does not see is no view at all to them, whatever its
    version."""
    if not view.visible_to(stamp.actor_id):
        raise _no_view(view_ref)


view_change = RecordChange(
    _saved_view,
    lambda v, at: SavedViewReceipt(v.id, v.version, at),
    what="saved view",
    busy=lambda _: Msg("The saved view"),
    attempts=20,
    check=_check_visible,
)
"""One change to one saved view, by the stamp's actor."""


class SavedViews(DeskCore):
    def save_view(
        self,
        *,
        name: str,
        filters: Filters,
        shared: bool,
        may_share: bool,
        stamp: Stamp,
        view_id: UUID | None = None,
    ) -> SavedViewReceipt:
        """Save a view: the stamp's actor's own, or (``shared``) every staff member's."""
        view = SavedView.save(
            view_id=view_id or uuid.uuid4(),
            name=name,
            owner_id=None if shared else stamp.actor_id,
            filters=filters,
            may_share=may_share,
            stamp=stamp,
        )
        recordings = self.save(view)
        return SavedViewReceipt(view.id, view.version, position(recordings))

    @view_change
    def change_view(
        self,
        v: SavedView,
        *,
        may_share: bool,
        stamp: Stamp,
        name: str | None = None,
        filters: Filters | None = None,
        expected_version: int | None = None,
    ) -> None:
        v.change(
            editor_id=stamp.actor_id, may_share=may_share, name=name, filters=filters, stamp=stamp
        )

    @view_change
    def remove_view(
        self, v: SavedView, *, may_share: bool, stamp: Stamp, expected_version: int | None = None
    ) -> None:
        v.remove(editor_id=stamp.actor_id, may_share=may_share, stamp=stamp)

    def has_saved_view(self, view_ref: str | UUID, person_id: str) -> bool:
        """Whether ``person_id`` sees that view (for a read too new for its view)."""
        try:
            return _saved_view(self, view_ref).visible_to(person_id)
        except UnknownSavedView:
            return False
