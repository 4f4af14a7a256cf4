"""The ``docket`` command line."""

from __future__ import annotations

import argparse
import json
import sys

from api.settings import Settings
from replay import cli as replay_cli


def serve(settings: Settings) -> None:
    import uvicorn

    from api.app import create_app
    from api.runtime import database_url

    settings.database_url = database_url(settings)
    print(f"Docket on http://{settings.host}:{settings.port} (database ready)", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


def seed_demo(settings: Settings) -> None:
    from api.demo import seed
    from api.runtime import Runtime

    runtime = Runtime.start(settings, project=False)
    try:
        print(json.dumps(seed(runtime), indent=2))
    finally:
        runtime.close()


def project(settings: Settings, names: list[str]) -> None:
    """Keep the named views (all by default) current until stopped."""
    import signal

    from api.runtime import database_url
    from projections.catalog import VIEWS
    from projections.database import ensure_schema, eventsourcing_env
    from projections.deadlines import DeadlineWatch
    from projections.runner import ProjectionRunner
    from projections.service import SupportDesk

    unknown = sorted(set(names) - set(VIEWS))
    if unknown:
        sys.exit(f"No view {', '.join(unknown)}; the views are {', '.join(VIEWS)}.")
    url = database_url(settings)
    ensure_schema(url, settings.schema_name)
    desk = SupportDesk(eventsourcing_env(url, settings.schema_name, pool_size=2))
    runner = ProjectionRunner(url, settings.schema_name, [VIEWS[n] for n in names or VIEWS])
    runner.create_tables()
    # whoever keeps the SLA view also puts breaches on record as they fall due
    watch = DeadlineWatch(desk, url, settings.schema_name) if "sla" in (names or VIEWS) else None

    def stop(signum: int, frame: object) -> None:
        runner.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Projecting {', '.join(v.name for v in runner.views)}", flush=True)
    if watch is not None:
        watch.start()
    try:
        runner.run_forever()
    finally:
        if watch is not None:
            watch.stop()
        desk.close()


def replay(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import database_url

    return replay_cli.run(args, database_url(settings), settings.schema_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="docket", description="Docket support desk")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the HTTP API")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--host", default=None)
    commands.add_parser("seed-demo", help="create the demo world and print a token per role")
    replay_cli.add_commands(commands)
    replay_cli.add_import_commands(commands)
    worker = commands.add_parser("project", help="keep views current (a projection worker)")
    worker.add_argument("views", nargs="*", metavar="VIEW", help="views to keep (default: all)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        if args.port:
            settings.port = args.port
        if args.host:
            settings.host = args.host
        serve(settings)
    elif args.command == "seed-demo":
        seed_demo(settings)
    elif args.command == "project":
        project(settings, args.views)
    elif args.command == "replay":
        sys.exit(replay(settings, args))
    elif args.command == "import":
        from api.runtime import database_url

        sys.exit(replay_cli.run_import(args, database_url(settings), settings.schema_name))
    else:  # pragma: no cover - argparse refuses unknown commands
        sys.exit(2)


if __name__ == "__main__":
    main()
