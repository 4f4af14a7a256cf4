"""Subscriptions: each team account's plan, seats, renewal date, products, Premium add-ons
and account team, and its members with their roles.

Read by ``GET /v1/accounts/{account}/subscription``, which only the account's admins and
billing admins (and Docket's admins) may see, and by whoever decides that from the roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from domain.account import EVERY_PRODUCT, Account, premium_level
from projections.kit import Fact, Layout, Tables, View, clean_text, each_fact, fetch_all, fetch_one

NAME = "subscriptions"
ACCOUNTS = "subscription_accounts"
MEMBERS = "subscription_members"
DEPARTED = "subscription_departed_members"
"""Memberships that ended: their tokens are refused (``api/tokens.py`` asks)."""


TABLES = Layout(
    {
        ACCOUNTS: """
            account_id text PRIMARY KEY,
            name text NOT NULL,
            plan text NOT NULL,
            seats integer,
            calendar text NOT NULL,
            products text[] NOT NULL,
            renewal_on date,
            premium jsonb NOT NULL,
            account_team text,
            version integer NOT NULL
        """,
        MEMBERS: """
            account_id text NOT NULL,
            member_id text NOT NULL,
            name text NOT NULL,
            email text NOT NULL,
            roles text[] NOT NULL,
            PRIMARY KEY (account_id, member_id)
        """,
        DEPARTED: """
            account_id text NOT NULL,
            member_id text NOT NULL,
            PRIMARY KEY (account_id, member_id)
        """,
    },
)
create_tables = TABLES.create
"""Made by the runner, and by the token lookup (``api/tokens.py``), which reads them."""


def apply_fact(cur: psycopg.Cursor[Any], t: Tables, fact: Fact) -> None:
    account, e = str(fact.stream_id), fact.event
    match e:
        case Account.Opened():
            premium = {p: add_on(level, e.timestamp) for p, level in e.premium.items()}
            cur.execute(
                f"INSERT INTO {t(ACCOUNTS)} (account_id, name, plan, seats, calendar, "
                "products, renewal_on, premium, version) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (account_id) DO NOTHING",
                (
                    account,
                    clean_text(e.name),
                    e.plan,
                    e.seats,
                    e.calendar,
                    [clean_text(p) for p in e.products],
                    e.renewal_on,
                    Jsonb(premium),
                    fact.version,
                ),
            )
        case Account.MemberAdded():
            cur.execute(
                f"DELETE FROM {t(DEPARTED)} WHERE account_id = %s AND member_id = %s",
                (account, clean_text(e.member_id)),
            )
            cur.execute(
                f"INSERT INTO {t(MEMBERS)} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    account,
                    clean_text(e.member_id),
                    clean_text(e.name),
                    clean_text(e.email),
                    [e.role],
                ),
            )
        case Account.MemberRemoved():
            cur.execute(
                f"DELETE FROM {t(MEMBERS)} WHERE account_id = %s AND member_id = %s",
                (account, clean_text(e.member_id)),
            )
            cur.execute(
                f"INSERT INTO {t(DEPARTED)} VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (account, clean_text(e.member_id)),
            )
        case Account.MemberRolesChanged():
            cur.execute(
                f"UPDATE {t(MEMBERS)} SET roles = %s WHERE account_id = %s AND member_id = %s",
                (e.roles, account, clean_text(e.member_id)),
            )
        case Account.Renamed():
            set_column(cur, t, account, "name", clean_text(e.to_name))
        case Account.PlanChanged():
            set_column(cur, t, account, "plan", e.to_plan)
        case Account.SeatsChanged():
            set_column(cur, t, account, "seats", e.to_seats)
        case Account.RenewalDateSet():
            set_column(cur, t, account, "renewal_on", e.renewal_on)
        case Account.AccountTeamSet():
            set_column(cur, t, account, "account_team", clean_text(e.group) if e.group else None)
        case Account.PremiumAdded():
            change_premium(cur, t, account, clean_text(e.product), add_on(e.level, e.timestamp))
        case Account.PremiumRemoved():
            change_premium(cur, t, account, clean_text(e.product), None, until=e.effective_at)
        case Account.SupportTierChanged():
            to = None if e.to_tier == "standard" else premium_level(e.to_tier)
            if to is None:
                change_premium(cur, t, account, EVERY_PRODUCT, None, until=e.timestamp)
            else:
                change_premium(cur, t, account, EVERY_PRODUCT, add_on(to, e.timestamp))
    cur.execute(
        f"UPDATE {t(ACCOUNTS)} SET version = %s WHERE account_id = %s",
        (fact.version, account),
    )


def add_on(level: str, since: datetime) -> dict[str, Any]:
    return {"level": level, "since": since.isoformat(), "until": None}


def set_column(cur: psycopg.Cursor[Any], t: Tables, account: str, column: str, value: Any) -> None:
    cur.execute(f"UPDATE {t(ACCOUNTS)} SET {column} = %s WHERE account_id = %s", (value, account))


def change_premium(
    cur: psycopg.Cursor[Any],
    t: Tables,
    account: str,
    product: str,
    added: dict[str, Any] | None,
    until: datetime | None = None,
) -> None:
    """Put ``added`` in force on ``product``, or (``None``) end it at ``until``."""
    if added is not None:
        cur.execute(
            f"UPDATE {t(ACCOUNTS)} SET premium = jsonb_set(premium, %s, %s) WHERE account_id = %s",
            ([product], Jsonb(added), account),
        )
        return
    assert until is not None
    cur.execute(
        f"UPDATE {t(ACCOUNTS)} SET premium = jsonb_set(premium, %s, to_jsonb(%s::text)) "
        "WHERE account_id = %s AND premium ? %s",
        ([product, "until"], until.isoformat(), account, product),
    )


VIEW = View(
    NAME,
    frozenset(
        {
            Account.Opened,
            Account.Renamed,
            Account.PlanChanged,
            Account.SeatsChanged,
            Account.SupportTierChanged,
            Account.PremiumAdded,
            Account.PremiumRemoved,
            Account.RenewalDateSet,
            Account.AccountTeamSet,
            Account.MemberAdded,
            Account.MemberRemoved,
            Account.MemberRolesChanged,
        }
    ),
    create_tables,
    each_fact(apply_fact),
    TABLES.tables,
)


def subscription(conn: psycopg.Connection[Any], t: Tables, account: str) -> dict[str, Any] | None:
    """The account's subscription and its members, or ``None``."""
    found = fetch_one(
        conn,
        f"SELECT account_id, name, plan, seats, calendar, products, renewal_on, premium, "
        f"account_team, version FROM {t(ACCOUNTS)} WHERE account_id = %s",
        (account,),
    )
    if found is not None:
        found["members"] = fetch_all(
            conn,
            f"SELECT member_id, name, email, roles FROM {t(MEMBERS)} "
            "WHERE account_id = %s ORDER BY name, member_id",
            (account,),
        )
    return found


def roles_of(conn: psycopg.Connection[Any], t: Tables, account: str, member: str) -> list[str]:
    """The member's roles in the account (none for a non-member)."""
    row = conn.execute(
        f"SELECT roles FROM {t(MEMBERS)} WHERE account_id = %s AND member_id = %s",
        (account, member),
    ).fetchone()
    return list(row[0]) if row else []
