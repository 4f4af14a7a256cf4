"""``docket accounts``: an operator opens team accounts and changes their subscriptions and
members from the machine, through the same desk use cases as ``/v1/accounts``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from api.settings import Settings
from domain.errors import DocketError
from domain.stamp import Stamp

if TYPE_CHECKING:
    from desk.service import SupportDesk


def add_commands(commands: Any) -> None:
    group = commands.add_parser("accounts", help="team accounts, subscriptions and members")
    sub = group.add_subparsers(dest="accounts_command", required=True)
    opening = sub.add_parser("open", help="open a team account; prints its id")
    opening.add_argument("--name", required=True)
    opening.add_argument("--plan", required=True)
    opening.add_argument("--seats", type=int, required=True)
    opening.add_argument("--calendar", default="24x7")
    opening.add_argument("--products", default="", help="comma-separated, e.g. Files,Dash")
    opening.add_argument("--renewal-on", type=date.fromisoformat, default=None)
    for name, about, kind in (
        ("rename", "rename the account", str),
        ("plan", "change the plan", str),
        ("seats", "change the seats", int),
        ("renewal", "set the next renewal date (YYYY-MM-DD)", date.fromisoformat),
        ("account-team", "the support group answering the account ('-': none)", str),
    ):
        change = sub.add_parser(name, help=about)
        change.add_argument("account", type=UUID)
        change.add_argument("value", type=kind)
    premium = sub.add_parser("premium", help="add (--level) or remove Premium on a product")
    premium.add_argument("account", type=UUID)
    premium.add_argument("product")
    premium.add_argument("--level", choices=("essentials", "enhanced"))
    premium.add_argument("--remove", action="store_true", help="ends at the renewal date")
    member = sub.add_parser("add-member", help="add a member; prints their id")
    member.add_argument("account", type=UUID)
    member.add_argument("--email", required=True)
    member.add_argument("--name", required=True)
    member.add_argument("--role", default="member", choices=("member", "admin", "billing_admin"))
    member.add_argument("--language", default="en", choices=("en", "fr"))
    member.add_argument("--time-zone", default="UTC")
    removal = sub.add_parser("remove-member", help="remove a member")
    removal.add_argument("account", type=UUID)
    removal.add_argument("member")
    roles = sub.add_parser("roles", help="a member's roles: member, or admin and/or billing_admin")
    roles.add_argument("account", type=UUID)
    roles.add_argument("member")
    roles.add_argument("roles", nargs="+")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import operator_desk

    _, desk = operator_desk(settings, pool_size=2)
    stamp = Stamp("operator", "admin", "cli", datetime.now(UTC))
    try:
        answer = COMMANDS[args.accounts_command](desk, args, stamp)
    except DocketError as error:
        print(f"docket accounts {args.accounts_command}: {error}", file=sys.stderr)
        return 1
    finally:
        desk.close()
    print(json.dumps(answer, indent=2, default=str))
    return 0


def open_account(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    products = [p.strip() for p in args.products.split(",") if p.strip()]
    account = desk.open_account(
        name=args.name,
        plan=args.plan,
        seats=args.seats,
        calendar=args.calendar,
        products=products,
        renewal_on=args.renewal_on,
        stamp=stamp,
    ).account_id
    return {"account_id": str(account)}


def rename(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(desk.rename_account(args.account, to_name=args.value, stamp=stamp))


def set_renewal(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(desk.set_renewal_date(args.account, renewal_on=args.value, stamp=stamp))


def set_account_team(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    group = None if args.value == "-" else args.value
    return vars(desk.set_account_team(args.account, group=group, stamp=stamp))


def change_plan(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(desk.change_plan(args.account, to_plan=args.value, stamp=stamp))


def change_seats(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(desk.change_seats(args.account, to_seats=args.value, stamp=stamp))


def premium(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    if args.remove:
        return vars(desk.remove_premium(args.account, product=args.product, stamp=stamp))
    if args.level is None:
        raise SystemExit("docket accounts premium: give --level essentials|enhanced, or --remove.")
    return vars(
        desk.add_premium(args.account, product=args.product, level=args.level, stamp=stamp)
    )


def add_member(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    member_id = str(uuid4())
    desk.add_member(
        args.account,
        member_id=member_id,
        email=args.email,
        name=args.name,
        role=args.role,
        language=args.language,
        time_zone=args.time_zone,
        stamp=stamp,
    )
    return {"member_id": member_id}


def remove_member(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(desk.remove_member(args.account, member_id=args.member, stamp=stamp))


def change_roles(desk: SupportDesk, args: argparse.Namespace, stamp: Stamp) -> Any:
    return vars(
        desk.change_member_roles(
            args.account, member_id=args.member, roles=args.roles, stamp=stamp
        )
    )


COMMANDS: dict[str, Callable[[SupportDesk, argparse.Namespace, Stamp], Any]] = {
    "open": open_account,
    "rename": rename,
    "plan": change_plan,
    "renewal": set_renewal,
    "account-team": set_account_team,
    "seats": change_seats,
    "premium": premium,
    "add-member": add_member,
    "remove-member": remove_member,
    "roles": change_roles,
}
