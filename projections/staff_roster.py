"""The staff roster: Docket's staff (role, active or deactivated, their support groups)
and the support groups with their agents, for the admins' lists.

A group named when an agent was registered is listed as created then, as the desk
counts it (see :meth:`desk.core.DeskCore.group_exists`).
"""

from __future__ import annotations

from typing import Any

import psycopg

from domain.staff import StaffMember, SupportGroup
from projections.kit import Fact, Layout, Tables, View, clean_text, each_fact, fetch_all

NAME = "staff_roster"
STAFF = "staff_roster_staff"
GROUPS = "staff_roster_groups"
MEMBERS = "staff_roster_members"


TABLES = Layout(
    {
        STAFF: """
            staff_id text PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL,
            role text NOT NULL,
            active boolean NOT NULL,
            registered_at timestamptz NOT NULL,
            deactivated_at timestamptz,
            version integer NOT NULL
        """,
        GROUPS: """
            name text PRIMARY KEY,
            created_at timestamptz NOT NULL
        """,
        MEMBERS: """
            group_name text NOT NULL,
            staff_id text NOT NULL,
            PRIMARY KEY (group_name, staff_id)
        """,
    },
)
create_tables = TABLES.create
"""Made by the runner, and by ``docket staff`` (``api/staff_cli.py``), which reads them."""


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    staff_id = str(fact.stream_id)
    match e:
        case StaffMember.Registered():
            cur.execute(
                f"INSERT INTO {t(STAFF)} (staff_id, name, email, role, active, "
                "registered_at, version) VALUES (%s, %s, %s, %s, true, %s, %s) "
                "ON CONFLICT (staff_id) DO NOTHING",
                (
                    staff_id,
                    clean_text(e.name),
                    clean_text(e.email),
                    e.role,
                    e.stamp.at,
                    e.originator_version,
                ),
            )
            for group in e.groups:
                _group_created(cur, t, group, e.stamp.at)
                _joined(cur, t, group, staff_id)
        case StaffMember.JoinedGroup():
            _joined(cur, t, e.group, staff_id)
            _moved(cur, t, staff_id, e.originator_version)
        case StaffMember.LeftGroup():
            cur.execute(
                f"DELETE FROM {t(MEMBERS)} WHERE group_name = %s AND staff_id = %s",
                (clean_text(e.group), staff_id),
            )
            _moved(cur, t, staff_id, e.originator_version)
        case StaffMember.Deactivated():
            cur.execute(
                f"UPDATE {t(STAFF)} SET active = false, deactivated_at = %s, "
                "version = %s WHERE staff_id = %s",
                (e.stamp.at, e.originator_version, staff_id),
            )
        case SupportGroup.Created():
            _group_created(cur, t, e.name, e.stamp.at)


def _group_created(cur: psycopg.Cursor[Any], t: Tables, name: str, at: Any) -> None:
    cur.execute(
        f"INSERT INTO {t(GROUPS)} (name, created_at) VALUES (%s, %s) "
        "ON CONFLICT (name) DO NOTHING",
        (clean_text(name), at),
    )


def _joined(cur: psycopg.Cursor[Any], t: Tables, group: str, staff_id: str) -> None:
    cur.execute(
        f"INSERT INTO {t(MEMBERS)} (group_name, staff_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (clean_text(group), staff_id),
    )


def _moved(cur: psycopg.Cursor[Any], t: Tables, staff_id: str, version: int) -> None:
    cur.execute(f"UPDATE {t(STAFF)} SET version = %s WHERE staff_id = %s", (version, staff_id))


VIEW = View(
    NAME,
    frozenset(
        {
            StaffMember.Registered,
            StaffMember.JoinedGroup,
            StaffMember.LeftGroup,
            StaffMember.Deactivated,
            SupportGroup.Created,
        }
    ),
    create_tables,
    each_fact(apply_fact),
    TABLES.tables,
)

STAFF_COLUMNS = (
    "s.staff_id, s.name, s.email, s.role, s.active, s.registered_at, s.deactivated_at, "
    "s.version, coalesce(array_agg(m.group_name ORDER BY m.group_name) "
    "FILTER (WHERE m.group_name IS NOT NULL), '{}') AS groups"
)


def staff(
    conn: psycopg.Connection[Any],
    t: Tables,
    *,
    role: str | None = None,
    active: bool | None = None,
    group: str | None = None,
    staff_id: str | None = None,
) -> list[dict[str, Any]]:
    """Staff by name (then id), with the groups each is in."""
    where, params = [], []
    for clause, value in (
        ("s.role = %s", role),
        ("s.active = %s", active),
        ("s.staff_id = %s", staff_id),
        (f"s.staff_id IN (SELECT staff_id FROM {t(MEMBERS)} WHERE group_name = %s)", group),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    return fetch_all(
        conn,
        f"SELECT {STAFF_COLUMNS} FROM {t(STAFF)} s "
        f"LEFT JOIN {t(MEMBERS)} m ON m.staff_id = s.staff_id {condition} "
        "GROUP BY s.staff_id ORDER BY s.name, s.staff_id",
        params,
    )


def groups(conn: psycopg.Connection[Any], t: Tables) -> list[dict[str, Any]]:
    """Support groups by name, with their agents (active or not) by name."""
    return fetch_all(
        conn,
        "SELECT g.name, g.created_at, coalesce(json_agg(json_build_object("
        "'id', s.staff_id, 'name', s.name, 'active', s.active) ORDER BY s.name, s.staff_id) "
        "FILTER (WHERE s.staff_id IS NOT NULL), '[]') AS agents "
        f"FROM {t(GROUPS)} g LEFT JOIN {t(MEMBERS)} m ON m.group_name = g.name "
        f"LEFT JOIN {t(STAFF)} s ON s.staff_id = m.staff_id "
        "GROUP BY g.name ORDER BY g.name",
    )
