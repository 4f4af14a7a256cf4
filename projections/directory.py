"""The directory: names of accounts, their members and Docket's staff.

Other views store ids only; reads join this view to show who wrote what. A
name that has not arrived yet reads as missing, never as someone else's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from domain.account import EVERY_PRODUCT, Account
from domain.staff import StaffMember
from projections.kit import Fact, Layout, Tables, View, clean_text, each_fact, fetch_all, fetch_one

NAME = "directory"
PEOPLE = "directory_people"
ACCOUNTS = "directory_accounts"


TABLES = Layout(
    {
        PEOPLE: """
            person_id text PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL,
            role text NOT NULL,
            account_id text
        """,
        ACCOUNTS: """
            account_id text PRIMARY KEY,
            name text NOT NULL,
            plan text NOT NULL,
            support_tier text NOT NULL,
            calendar text NOT NULL
        """,
    }
)


def create_tables(conn: psycopg.Connection[Any], t: Tables) -> None:
    TABLES.create(conn, t)
    # a removed member keeps their name on what they wrote, and is found by email no more
    conn.execute(
        f"ALTER TABLE {t(PEOPLE)} ADD COLUMN IF NOT EXISTS departed boolean NOT NULL DEFAULT false"
    )
    # the language a person reads Docket in, and their time zone (staff: none until chosen)
    conn.execute(
        f"ALTER TABLE {t(PEOPLE)} ADD COLUMN IF NOT EXISTS language text NOT NULL DEFAULT 'en', "
        "ADD COLUMN IF NOT EXISTS time_zone text"
    )


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    e = fact.event
    match e:
        case StaffMember.Registered():
            cur.execute(
                f"INSERT INTO {t(PEOPLE)} (person_id, name, email, role) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE "
                "SET name = excluded.name, email = excluded.email, role = excluded.role",
                (str(fact.stream_id), clean_text(e.name), clean_text(e.email), e.role),
            )
        case Account.MemberAdded():
            cur.execute(
                f"INSERT INTO {t(PEOPLE)} (person_id, name, email, role, account_id, "
                "language, time_zone) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (person_id) DO UPDATE "
                "SET name = excluded.name, email = excluded.email, role = excluded.role, "
                "account_id = excluded.account_id, departed = false, "
                "language = excluded.language, time_zone = excluded.time_zone",
                (
                    clean_text(e.member_id),
                    clean_text(e.name),
                    clean_text(e.email),
                    e.role,
                    str(fact.stream_id),
                    e.language,
                    clean_text(e.time_zone),
                ),
            )
        case StaffMember.LanguageChosen():
            cur.execute(
                f"UPDATE {t(PEOPLE)} SET language = %s WHERE person_id = %s",
                (e.language, str(fact.stream_id)),
            )
        case StaffMember.TimeZoneChosen():
            cur.execute(
                f"UPDATE {t(PEOPLE)} SET time_zone = %s WHERE person_id = %s",
                (clean_text(e.time_zone), str(fact.stream_id)),
            )
        case Account.MemberSettingsChanged():
            cur.execute(
                f"UPDATE {t(PEOPLE)} SET language = %s, time_zone = %s "
                "WHERE person_id = %s AND account_id = %s",
                (
                    e.language,
                    clean_text(e.time_zone),
                    clean_text(e.member_id),
                    str(fact.stream_id),
                ),
            )
        case Account.Opened():
            cur.execute(
                f"INSERT INTO {t(ACCOUNTS)} (account_id, name, plan, support_tier, "
                "calendar) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (account_id) DO NOTHING",
                (
                    str(fact.stream_id),
                    clean_text(e.name),
                    e.plan,
                    account_wide_tier(e.premium),
                    e.calendar,
                ),
            )
        case Account.Renamed():
            cur.execute(
                f"UPDATE {t(ACCOUNTS)} SET name = %s WHERE account_id = %s",
                (clean_text(e.to_name), str(fact.stream_id)),
            )
        case Account.MemberRemoved():
            cur.execute(
                f"UPDATE {t(PEOPLE)} SET departed = true WHERE person_id = %s AND account_id = %s",
                (clean_text(e.member_id), str(fact.stream_id)),
            )
        case Account.MemberRolesChanged():
            cur.execute(
                f"UPDATE {t(PEOPLE)} SET role = %s WHERE person_id = %s AND account_id = %s",
                (directory_role(e.roles), clean_text(e.member_id), str(fact.stream_id)),
            )
        case Account.PlanChanged():
            cur.execute(
                f"UPDATE {t(ACCOUNTS)} SET plan = %s WHERE account_id = %s",
                (e.to_plan, str(fact.stream_id)),
            )
        case Account.SupportTierChanged():
            cur.execute(
                f"UPDATE {t(ACCOUNTS)} SET support_tier = %s WHERE account_id = %s",
                (e.to_tier, str(fact.stream_id)),
            )


VIEW = View(
    NAME,
    frozenset(
        {
            StaffMember.Registered,
            StaffMember.LanguageChosen,
            StaffMember.TimeZoneChosen,
            Account.Opened,
            Account.MemberAdded,
            Account.PlanChanged,
            Account.SupportTierChanged,
            Account.Renamed,
            Account.MemberRemoved,
            Account.MemberRolesChanged,
            Account.MemberSettingsChanged,
        }
    ),
    create_tables,
    each_fact(apply_fact),
    TABLES.tables,
    shape=2,  # 2: each person's language and time zone
)


def account_wide_tier(premium: dict[str, str]) -> str:
    """The accounts table's tier: Premium on every product (``*``), else standard."""
    level = premium.get(EVERY_PRODUCT)
    return "standard" if level is None else f"premium_{level}"


def directory_role(roles: list[str]) -> str:
    """One role for the people table: ``admin`` when the person is one (it is what makes a
    team admin), else their first role."""
    return "admin" if "admin" in roles else roles[0]


def names(conn: psycopg.Connection[Any], t: Tables, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT person_id, name FROM {t(PEOPLE)} WHERE person_id = ANY(%s)", (list(set(ids)),)
    ).fetchall()
    return {str(person): str(name) for person, name in rows}


def account_name(conn: psycopg.Connection[Any], t: Tables, account_id: str) -> str | None:
    row = conn.execute(
        f"SELECT name FROM {t(ACCOUNTS)} WHERE account_id = %s", (account_id,)
    ).fetchone()
    return str(row[0]) if row else None


def accounts(conn: psycopg.Connection[Any], t: Tables) -> list[dict[str, Any]]:
    """Every account, by name: its id, name and plan."""
    return fetch_all(
        conn, f"SELECT account_id, name, plan FROM {t(ACCOUNTS)} ORDER BY name, account_id"
    )


def account(conn: psycopg.Connection[Any], t: Tables, account_id: str) -> dict[str, Any] | None:
    """An account's name, plan, account-wide support tier and calendar."""
    return fetch_one(
        conn,
        f"SELECT account_id, name, plan, support_tier, calendar FROM {t(ACCOUNTS)} "
        "WHERE account_id = %s",
        (account_id,),
    )


def people_by_email(conn: psycopg.Connection[Any], t: Tables, email: str) -> list[dict[str, Any]]:
    """Everyone the directory knows at that address (case-insensitive): staff first."""
    return _people(conn, t, "lower(email) = lower(%s)", email)


def signing_in(conn: psycopg.Connection[Any], t: Tables, email: str) -> list[dict[str, Any]]:
    """Everyone a sign-in link for that address goes to (case-insensitive), with the
    language and time zone it is written in."""
    return fetch_all(
        conn,
        f"SELECT person_id, name, email, language, time_zone FROM {t(PEOPLE)} "
        "WHERE lower(email) = lower(%s) AND NOT departed "
        "ORDER BY account_id NULLS FIRST, person_id",
        (email,),
    )


def person(conn: psycopg.Connection[Any], t: Tables, person_id: str) -> dict[str, Any] | None:
    """A staff member or an account member by id, as the directory knows them."""
    found = _people(conn, t, "person_id = %s", person_id)
    return found[0] if found else None


def _people(
    conn: psycopg.Connection[Any], t: Tables, condition: str, value: str
) -> list[dict[str, Any]]:
    """The people still here (a removed member is found no more) that ``condition`` holds
    for with ``value``, staff first."""
    return fetch_all(
        conn,
        f"SELECT person_id, name, email, role, account_id FROM {t(PEOPLE)} "
        f"WHERE {condition} AND NOT departed ORDER BY account_id NULLS FIRST, person_id",
        (value,),
    )


def staff_admins(conn: psycopg.Connection[Any], t: Tables) -> list[dict[str, Any]]:
    """Docket's own admins (staff, not an account's admins)."""
    return fetch_all(
        conn,
        f"SELECT person_id, name, email FROM {t(PEOPLE)} "
        "WHERE account_id IS NULL AND role = 'admin' ORDER BY person_id",
    )
