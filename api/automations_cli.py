"""``docket automations list|show|enable|disable|set|simulate``: the automation rule book
from the command line, through the same desk use cases as ``/v1/automations``; and
``simulate``, which replays history and prints what a rule would have done, writing
nothing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.settings import Settings


def instant(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is taken as UTC."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def add_commands(commands: Any) -> None:
    group = commands.add_parser("automations", help="time-based automation rules")
    sub = group.add_subparsers(dest="automations_command", required=True)
    listing = sub.add_parser("list", help="every rule, with its version and whether it is on")
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one rule as JSON")
    show.add_argument("rule_id")
    for verb in ("enable", "disable"):
        switch = sub.add_parser(verb, help=f"{verb} a rule (its version rises by one)")
        switch.add_argument("rule_id")
    put = sub.add_parser(
        "set", help="create a rule, or change the one with that id, from a JSON file"
    )
    put.add_argument("file", type=Path, help="a rule as POST /v1/automations takes it")
    simulate = sub.add_parser(
        "simulate", help="replay history and print what a rule would have done (writes nothing)"
    )
    simulate.add_argument("--rule", required=True, help="the rule's id")
    simulate.add_argument("--from", dest="start", type=instant, required=True)
    simulate.add_argument("--to", dest="end", type=instant, required=True)
    simulate.add_argument("--json", action="store_true")


def run(settings: Settings, args: argparse.Namespace) -> int:
    import psycopg

    from api.runtime import operator_desk
    from domain.errors import DocketError, NothingChanged, UnknownAutomation
    from domain.stamp import Stamp
    from replay.automation_simulate import simulate

    url, desk = operator_desk(settings, pool_size=1)
    stamp = Stamp("docket-cli", "admin", "cli", datetime.now(UTC))
    command = args.automations_command
    try:
        if command == "list":
            rules = desk.automation_rules()
            if args.json:
                print(json.dumps([r.as_data() for r in rules], indent=2))
            for r in [] if args.json else rules:
                state = "on " if r.enabled else "off"
                print(f"{state} {r.id:<28} v{r.version:<4} {r.name}")
            return 0
        if command == "show":
            print(json.dumps(desk.automation_rule(args.rule_id).as_data(), indent=2))
            return 0
        if command in ("enable", "disable"):
            changes = {"enabled": command == "enable"}
            try:
                rule = desk.change_automation_rule(args.rule_id, changes=changes, stamp=stamp)
            except NothingChanged:
                rule = desk.automation_rule(args.rule_id)
            print(f"{rule.id} v{rule.version}: {'on' if rule.enabled else 'off'}")
            return 0
        if command == "set":
            try:
                data = json.loads(args.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                print(f"docket automations set: {error}", file=sys.stderr)
                return 2
            if not isinstance(data, dict):
                print("docket automations set: the file holds one rule (an object).")
                return 2
            try:
                desk.automation_rule(str(data.get("id") or ""))
            except UnknownAutomation:
                rule = desk.add_automation_rule(data=data, stamp=stamp)
            else:
                changes = {k: v for k, v in data.items() if k not in ("id", "version")}
                try:
                    rule = desk.change_automation_rule(data["id"], changes=changes, stamp=stamp)
                except NothingChanged:
                    rule = desk.automation_rule(data["id"])
            print(json.dumps(rule.as_data(), indent=2))
            return 0
        if command == "simulate":
            if args.start >= args.end:
                print("--from is an instant before --to.", file=sys.stderr)
                return 2
            rule = desk.automation_rule(args.rule)
            with psycopg.connect(url, autocommit=True) as conn:
                found = simulate(
                    conn, settings.schema_name, rule=rule, start=args.start, end=args.end,
                    macros=desk.rule_macros(rule),
                )  # fmt: skip
            print(json.dumps(found.as_data(), indent=2) if args.json else found.table())
            return 0
    except DocketError as refused:
        print(f"docket automations {command}: {refused.detail}", file=sys.stderr)
        return 2
    finally:
        desk.close()
    return 2
