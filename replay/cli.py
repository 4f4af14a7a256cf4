"""``docket replay``: history, state, verify, rebuild and export from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from domain.errors import DocketError
from projections.catalog import VIEWS
from projections.kit import Fact, Tables
from projections.reads import ticket_names
from replay.as_of import TicketAsOf, ticket_as_of
from replay.export import export_lines, not_utf8
from replay.history import Unreadable, UnreadableEvents, history, ticket_events
from replay.rebuild import Progress, RebuildInterrupted, rebuild
from replay.store import find_ticket_id
from replay.verify import verify_export, verify_log
from store.eventstore import docket_mapper

"""Imports replay history as it happened: no reopen window applies."""


def add_commands(commands: Any) -> None:
    replay = commands.add_parser("replay", help="audit and operate on the event log")
    sub = replay.add_subparsers(dest="replay_command", required=True)
    h = sub.add_parser("history", help="a ticket's events as a timeline")
    h.add_argument("ticket")
    h.add_argument("--json", action="store_true")
    s = sub.add_parser(
        "state", help="a ticket's detail as it stood at a version or instant (now without)"
    )
    s.add_argument("ticket")
    s.add_argument("--version", type=int)
    s.add_argument("--as-of", type=datetime.fromisoformat)
    v = sub.add_parser("verify", help="prove nothing stored was altered (exit 1 if it was)")
    v.add_argument("--ticket")
    v.add_argument("--file", type=Path, help="check an exported audit trail offline")
    r = sub.add_parser("rebuild", help="rebuild views from position 0 and swap them in")
    r.add_argument("views", nargs="*", metavar="VIEW")
    r.add_argument("--check", action="store_true", help="compare with the live view instead")
    r.add_argument("--batch", type=int, default=5000)
    r.add_argument(
        "--processes",
        type=int,
        help="processes folding the views (default: one per core once the log is long)",
    )
    e = sub.add_parser("export", help="a ticket's audit trail as JSON Lines")
    e.add_argument("--ticket", required=True)
    e.add_argument("--out", type=Path)


def run(
    args: argparse.Namespace,
    url: str,
    schema: str,
    *,
    show_ticket_as_of: Callable[[TicketAsOf, dict[str, str]], str],
) -> int:
    """Run one ``docket replay`` command; ``state`` prints the ticket as of with
    ``show_ticket_as_of`` (the API's answer, so both show one shape)."""
    mapper = docket_mapper()
    command = args.replay_command
    if command == "verify" and args.file:
        damages = verify_export(args.file.read_text().splitlines(), mapper.transcoder)
        for d in damages:
            print(f"DAMAGED {d.label} version {d.version}: {d.reason}")
        print("ok: the file's chain verifies" if not damages else f"{len(damages)} damage(s)")
        return 1 if damages else 0
    if command == "rebuild":
        unknown = sorted(set(args.views) - set(VIEWS))
        if unknown:
            print(
                f"No view {', '.join(unknown)}; the views are {', '.join(VIEWS)}.", file=sys.stderr
            )
            return 2

        def show(p: Progress) -> None:
            print(
                f"\r{p.position:>12,}/{p.head:,} positions  {p.events:>12,} events  "
                f"{p.rate:>9,.0f} events/s",
                end="",
                file=sys.stderr,
                flush=True,
            )

        views = [VIEWS[n] for n in args.views or VIEWS]
        try:
            report = rebuild(url, schema, views, check=args.check, batch_size=args.batch,
                             progress=show, processes=args.processes)  # fmt: skip
        except RebuildInterrupted as interrupted:
            print(file=sys.stderr)
            print(f"INTERRUPTED {interrupted} Run the rebuild again.")
            return 1
        print(file=sys.stderr)
        done = "checked" if args.check else "rebuilt" if report.swapped else "folded (not swapped)"
        print(
            f"{done} {', '.join(report.views)}: "
            f"{report.events:,} events in {report.seconds:.1f} s "
            f"({report.rate:,.0f} events/s), at position {report.position}"
        )
        for line in report.unreadable.values():
            print(f"UNREADABLE {line}")
        different = {k: v for k, v in report.differences.items() if v}
        for view, lines in different.items():
            print(f"DIFFERENT {view}:" if args.check else f"NOT FOLDED {view}:")
            for line in lines:
                print(f"  {line}")
        if report.damaged:
            print(
                "the log is damaged: the events above were left out"
                + ("" if args.check else "; the live views were kept as they are")
                + ". See `docket replay verify`."
            )
        return 1 if different or report.damaged else 0
    with psycopg.connect(url, autocommit=True) as conn:
        if command == "verify":
            only = None
            if args.ticket:
                only = find_ticket_id(conn, schema, args.ticket)
                if only is None:
                    print(f"No ticket {args.ticket}.", file=sys.stderr)
                    return 2
            verdict = verify_log(conn, schema, mapper.transcoder, only=only)
            for d in verdict.damages:
                where = "" if d.position is None else f", position {d.position}"
                print(f"DAMAGED {d.label} version {d.version} ({d.kind}{where}): {d.reason}")
            for failure in verdict.seal_failures:
                print(f"DAMAGED log {failure}")
            print(
                f"{verdict.streams} streams, {verdict.events} events checked; "
                f"log head at position {verdict.head_position}: {verdict.head_hash}"
            )
            print("ok: nothing was altered" if verdict.ok else "the log was altered: see above")
            return 0 if verdict.ok else 1
        ticket_id = find_ticket_id(conn, schema, args.ticket)
        entries = ticket_events(conn, schema, ticket_id, mapper) if ticket_id else []
        if not entries:
            print(f"No ticket {args.ticket}.", file=sys.stderr)
            return 2
        if command == "history":
            unreadable: list[Unreadable] = []
            try:
                events = history(entries, mapper)
            except UnreadableEvents as damaged:
                events, unreadable = damaged.readable, damaged.unreadable
            if args.json:
                print(json.dumps(events, indent=2, default=str))
            else:
                for e in events:
                    print(
                        f"v{e['version']:<4} #{e['position']:<8} {e['at']:%Y-%m-%d %H:%M:%S%z}  "
                        f"{e['kind']:<26} by {e['actor']['kind']} {e['actor']['id']} "
                        f"via {e['via']}  {summary(e['fields'])}"
                    )
            print_damages(args.ticket, unreadable)
            return 1 if unreadable else 0
        if command == "state":
            try:  # a fold over bytes that do not decode would be a guess: name them instead
                history(entries, mapper)
            except UnreadableEvents as damaged:
                print_damages(args.ticket, damaged.unreadable)
                return 1
            facts = [Fact(e.position, mapper.to_domain_event(e.stored)) for e in entries]
            try:  # the operator reads all of it: internal notes, SLA clocks, callback
                found = ticket_as_of(
                    facts,
                    version=args.version,
                    as_of=args.as_of,
                    now=datetime.now(UTC),
                    with_internal_notes=True,
                )
            except DocketError as refused:
                print(refused.detail, file=sys.stderr)
                return 2
            print(show_ticket_as_of(found, ticket_names(conn, Tables(schema), found.detail)))
            return 0
        if command == "export":
            trail = "\n".join(export_lines(entries)) + "\n"
            if args.out:
                args.out.write_text(trail)
            else:
                sys.stdout.write(trail)
            bad = [entry for entry in entries if not_utf8(entry.stored.state)]
            for entry in bad:
                print(
                    f"DAMAGED ticket {args.ticket} version {entry.stored.originator_version} "
                    f"(position {entry.position}): its stored bytes are not UTF-8 text; exported "
                    "with replacement characters, so the file's chain fails there too",
                    file=sys.stderr,
                )
            return 1 if bad else 0
    return 2


def print_damages(ticket: str, unreadable: list[Unreadable]) -> None:
    for u in unreadable:
        print(
            f"DAMAGED ticket {ticket} version {u.version} (position {u.position}): "
            f"{u.reason}; see `docket replay verify --ticket {ticket}`",
            file=sys.stderr,
        )


def summary(fields: dict[str, Any]) -> str:
    shown = {k: v for k, v in fields.items() if k not in ("originator_topic",)}
    text = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    return text if len(text) <= 120 else text[:117] + "..."
