"""``docket staff add|list|deactivate`` and ``docket groups add|list|add-agent|remove-agent``:
Docket's staff and support groups from the command line, through the same desk use cases
as ``/v1/staff`` and ``/v1/groups``. Lists read the staff roster view, as current as the
projection worker (``docket serve`` or ``docket project``) has kept it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

import psycopg

from api.settings import Settings
from domain.vocabulary import STAFF_ROLES


def add_commands(commands: Any) -> None:
    staff = commands.add_parser("staff", help="Docket's staff: agents, auditors, analysts, admins")
    sub = staff.add_subparsers(dest="staff_command", required=True)
    add = sub.add_parser("add", help="register a staff member and print their id")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--group", action="append", default=[], help="a support group (agents)")
    listing = sub.add_parser("list", help="the staff, from the roster view")
    listing.add_argument("--json", action="store_true")
    off = sub.add_parser("deactivate", help="stop a staff member's tokens and new assignments")
    off.add_argument("staff_id")

    groups = commands.add_parser("groups", help="support groups")
    gsub = groups.add_subparsers(dest="groups_command", required=True)
    gadd = gsub.add_parser("add", help="create a support group")
    gadd.add_argument("name")
    glist = gsub.add_parser("list", help="the support groups and their agents")
    glist.add_argument("--json", action="store_true")
    for verb, text in (("add-agent", "put an agent in a group"), ("remove-agent", "take one out")):
        member = gsub.add_parser(verb, help=text)
        member.add_argument("group")
        member.add_argument("staff_id")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import database_url
    from desk.service import SupportDesk
    from domain.errors import DocketError
    from domain.stamp import Stamp
    from store.database import ensure_schema, eventsourcing_env

    url = database_url(settings)
    ensure_schema(url, settings.schema_name)
    if args.command == "staff" and args.staff_command == "list":
        return show(url, settings.schema_name, "staff", args.json)
    if args.command == "groups" and args.groups_command == "list":
        return show(url, settings.schema_name, "groups", args.json)
    desk = SupportDesk(eventsourcing_env(url, settings.schema_name, pool_size=1))
    stamp = Stamp("docket-cli", "system", "cli", datetime.now(UTC))
    try:
        answer = decide(desk, args, stamp)
    except DocketError as refused:
        print(f"docket {args.command}: {refused.detail}", file=sys.stderr)
        return 1
    finally:
        desk.close()
    print(json.dumps(answer))
    return 0


def decide(desk: Any, args: argparse.Namespace, stamp: Any) -> dict[str, Any]:
    if args.command == "groups" and args.groups_command == "add":
        group = desk.create_group(name=args.name, stamp=stamp)
        return {"group": group.name, "position": group.position}
    if args.command == "staff" and args.staff_command == "add":
        found = desk.register_staff(
            name=args.name, email=args.email, role=args.role, groups=args.group, stamp=stamp
        )
    elif args.command == "staff":
        found = desk.deactivate_staff(args.staff_id, stamp=stamp)
    elif args.groups_command == "add-agent":
        found = desk.add_to_group(args.staff_id, group=args.group, stamp=stamp)
    else:
        found = desk.remove_from_group(args.staff_id, group=args.group, stamp=stamp)
    return {"id": str(found.staff_id), "version": found.version, "position": found.position}


def show(url: str, schema: str, what: str, as_json: bool) -> int:
    from projections import staff_roster
    from projections.kit import Tables

    with psycopg.connect(url, autocommit=True) as conn:
        staff_roster.create_tables(conn, Tables(schema))
        if what == "staff":
            rows = staff_roster.staff(conn, Tables(schema))
        else:
            rows = staff_roster.groups(conn, Tables(schema))
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
    elif what == "staff":
        for r in rows:
            state = "active" if r["active"] else "deactivated"
            print(
                f"{r['staff_id']}  {r['role']:<8} {state:<11} {r['name']} <{r['email']}> "
                f"{','.join(r['groups'])}"
            )
    else:
        for r in rows:
            print(f"{r['name']}: {', '.join(a['name'] for a in r['agents']) or '(no agents)'}")
    return 0
