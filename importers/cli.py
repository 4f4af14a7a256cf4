"""``docket import``: the two public ticket data sets turned into events."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HISTORY = timedelta(days=365 * 100)
"""An import reopens tickets whenever they were reopened: no reopen window applies."""


def add_import_commands(commands: Any) -> None:
    importer = commands.add_parser("import", help="import outside ticket data as events")
    sub = importer.add_subparsers(dest="import_command", required=True)
    t = sub.add_parser("tickets-csv", help="customer_support_tickets.csv(.gz)")
    t.add_argument("path", type=Path)
    t.add_argument(
        "--opened-at",
        type=datetime.fromisoformat,
        default=None,
        help="when every ticket was filed (default 2023-06-01T00:00:00+00:00)",
    )
    i = sub.add_parser("incident-log", help="incident_event_log.csv(.gz)")
    i.add_argument("path", type=Path)


def run_import(args: argparse.Namespace, url: str, schema: str) -> int:
    from desk.service import SupportDesk
    from importers.incident_log import import_incident_log
    from importers.tickets_csv import DEFAULT_OPENED_AT, import_tickets_csv
    from store.database import ensure_schema, eventsourcing_env

    if not args.path.exists():
        print(f"No file {args.path}.", file=sys.stderr)
        return 2
    ensure_schema(url, schema)
    env = eventsourcing_env(url, schema, pool_size=2)
    env["AGGREGATE_CACHE_MAXSIZE"] = "5000"  # accounts are read for every ticket filed
    desk = SupportDesk(env, reopen_window=HISTORY)
    try:
        if args.import_command == "tickets-csv":
            opened_at = args.opened_at or DEFAULT_OPENED_AT
            if opened_at.tzinfo is None:
                print(
                    "--opened-at needs a time zone, e.g. 2023-06-01T00:00:00+00:00",
                    file=sys.stderr,
                )
                return 2
            report = import_tickets_csv(desk, args.path, opened_at=opened_at)
        else:
            report = import_incident_log(desk, args.path)
    finally:
        desk.close()
    print(file=sys.stderr)
    print(report.summary())
    return 0
