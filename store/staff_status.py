"""Whether a person is a deactivated staff member, asked of the event store itself.

``staff_deactivated(person_id)`` is a SQL function over the events table: true once the
person's stream holds a ``StaffMember.Deactivated`` event. The token lookup calls it in
the same statement that finds the token, so a deactivated staff member's tokens are
refused from the instant the event commits, in every process, with no second write that
could fail or lag behind (as revoking their tokens after the event would) and no view to
wait for; a token issued for them later is refused too. It costs one probe of the events
table's primary key per lookup of a token.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.staff import StaffMember
from store.log import EVENTS_TABLE
from store.tables import SchemaTables

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class StaffStatus(SchemaTables):
    ddl = f"""
        SELECT pg_advisory_xact_lock(hashtext('docket:staff_deactivated'));
        CREATE OR REPLACE FUNCTION {{schema}}.staff_deactivated(person_id text)
        RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT EXISTS (
                SELECT 1 FROM {{schema}}.{EVENTS_TABLE}
                WHERE originator_id = CASE WHEN person_id ~ '{UUID_PATTERN}'
                                           THEN person_id::uuid END
                  AND topic = '{get_topic(StaffMember.Deactivated)}'
            )
        $$;
    """
    """Created after the desk has made the events table (the body is checked against it)."""

    def deactivated(self, person_id: str) -> bool:
        row = self.one("SELECT {schema}.staff_deactivated(%s)", (person_id,))
        return bool(row[0])
