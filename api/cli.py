"""The ``docket`` command line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import MapperDeserialisationError

from api import accounts_cli, admin_cli, automations_cli, staff_cli
from api.settings import Settings
from importers import cli as import_cli
from replay import cli as replay_cli
from replay.as_of import TicketAsOf


def serve(settings: Settings, workers: int | None = None) -> None:
    """The API on ``settings.port``: ``workers`` processes (the setting's, else one per
    core), and one projection process beside them."""
    from api.app import create_app
    from api.runtime import Runtime, database_url

    settings.database_url = database_url(settings)
    count = workers or settings.workers or os.cpu_count() or 1
    if count > 1:
        serve_workers(settings, count)
        return
    apart = settings.run_projections and settings.projections_process
    # the API's own tables first, so a projecting child never races it to create them
    runtime = Runtime.start(settings, project=False if apart else None)
    worker = ProjectionProcess(settings) if apart else None
    print(f"Docket on http://{settings.host}:{settings.port} (database ready)", flush=True)
    try:
        run_uvicorn(settings, worker, create_app(settings, runtime))
    finally:
        runtime.close()


SERVED_AS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "log_level": "warning",
    "access_log": False,
}
"""How uvicorn serves Docket (uvloop and httptools: plain h11 is far slower; no access
log), here and in the benchmark's baseline app (``bench/baseline_app.py``)."""


def run_uvicorn(
    settings: Settings, worker: ProjectionProcess | None, app: Any, **options: Any
) -> None:
    """uvicorn on the settings' host and port, as both ``serve`` paths run it
    (:data:`SERVED_AS`), with the projection child (if any) alive for as long as it
    serves."""
    import uvicorn

    try:
        if worker is not None:
            worker.start()
        uvicorn.run(app, host=settings.host, port=settings.port, **SERVED_AS, **options)
    finally:
        if worker is not None:
            worker.stop()


def serve_workers(settings: Settings, count: int) -> None:
    """``count`` API processes on one port, by uvicorn's own supervisor: it binds the socket
    once and hands it to each worker (they take connections from one queue), and starts a
    worker again if one dies. The views, the watches and the mail sender run once, in one
    ``docket project`` child, whatever ``DOCKET_PROJECTIONS_PROCESS`` says (threads would
    run them in every worker); ``DOCKET_RUN_PROJECTIONS=false`` leaves them to workers
    started apart, as with one process."""
    import shutil
    import tempfile

    from api.runtime import Runtime

    # the API's own tables first, once, so neither the workers nor the projecting child
    # race each other to create them
    Runtime.start(settings, project=False).close()
    folder = tempfile.mkdtemp(prefix="docket-metrics-")
    # what each worker reads its settings from (they are started afresh, not forked)
    os.environ.update(
        DOCKET_DATABASE_URL=str(settings.database_url),
        DOCKET_HOST=settings.host,
        DOCKET_PORT=str(settings.port),
        DOCKET_METRICS_DIR=folder,
    )
    worker = ProjectionProcess(settings) if settings.run_projections else None
    print(
        f"Docket on http://{settings.host}:{settings.port} with {count} API workers "
        "(database ready)",
        flush=True,
    )
    try:
        run_uvicorn(settings, worker, "api.app:worker_app", factory=True, workers=count)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class ProjectionProcess:
    """``docket project`` as a child of ``docket serve``, started again if it dies.

    The views, the SLA deadline watch and the mail sender then run in an interpreter
    of their own, on the machine's other core, instead of taking turns with requests
    for the API's. The child stops when the API stops, and by itself if the API dies
    without stopping it (it watches its parent).
    """

    def __init__(self, settings: Settings) -> None:
        self.env = {
            **os.environ,
            "DOCKET_DATABASE_URL": str(settings.database_url),
            "DOCKET_PARENT_PID": str(os.getpid()),
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="docket-projections", daemon=True)
        self.process: Any = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "project"], env=self.env
            )
            code = self.process.wait()
            if not self._stop.is_set():
                print(f"docket project exited ({code}); starting it again", flush=True)
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except Exception:
                self.process.kill()
        self._thread.join(timeout=5)


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

    from api.runtime import Workers, database_url, desk_env
    from desk.service import SupportDesk
    from store.database import ensure_schema

    url = database_url(settings)
    ensure_schema(url, settings.schema_name)
    desk = SupportDesk(desk_env(settings, url, pool_size=2))
    try:
        workers = Workers.assemble(settings, url, desk, names or None)
    except ValueError as error:
        desk.close()
        sys.exit(str(error))
    runner = workers.runner
    runner.create_tables()

    def stop(signum: int, frame: object) -> None:
        runner.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watch_parent(runner.request_stop)
    print(f"Projecting {', '.join(v.name for v in runner.views)}", flush=True)
    workers.start_beside()
    try:
        runner.run_forever()
    finally:
        workers.stop()
        desk.close()


def watch_parent(stop: Any) -> None:
    """Call ``stop`` once the ``docket serve`` that started this process is gone."""
    parent = os.environ.get("DOCKET_PARENT_PID")
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        stop()

    threading.Thread(target=watch, name="docket-parent-watch", daemon=True).start()


def replay(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import database_url

    return replay_cli.run(
        args, database_url(settings), settings.schema_name, show_ticket_as_of=ticket_as_of_json
    )


def ticket_as_of_json(found: TicketAsOf, names: dict[str, str]) -> str:
    """``docket replay state``: the audit endpoint's answer, everything an operator reads."""
    from api.answers import ticket_as_of
    from api.routers.attachments import router

    answer = ticket_as_of(
        found,
        names,
        lambda a: router.url_path_for("download_attachment", attachment_id=a),
        with_callback=True,
    )
    return json.dumps(answer.model_dump(mode="json", exclude_unset=True), indent=2)


def sla(settings: Settings, args: argparse.Namespace) -> int:
    """``docket sla simulate``: the period's tickets under another tier; writes nothing."""
    from datetime import UTC, datetime, time, timedelta

    import psycopg

    from api.runtime import database_url
    from desk.service import SupportDesk
    from domain.errors import InvalidField
    from replay.sla_simulate import policy_from_file, simulate
    from store.database import eventsourcing_env

    url = database_url(settings)
    try:
        start = datetime.combine(args.start, time(), UTC)
        end = datetime.combine(args.end + timedelta(days=1), time(), UTC)
    except OverflowError:
        sys.exit("--to is too far in the future.")
    if start >= end:
        sys.exit("--from is a day on or before --to.")
    try:
        if args.policy:
            policy = policy_from_file(args.policy)
        else:
            desk = SupportDesk(eventsourcing_env(url, settings.schema_name, pool_size=1))
            policy = desk.sla_policy()
            desk.close()
        with psycopg.connect(url, autocommit=True) as conn:
            found = simulate(
                conn, settings.schema_name, tier=args.tier, start=start, end=end, policy=policy
            )
    except (InvalidField, OSError, ValueError) as error:
        sys.exit(f"docket sla simulate: {error}")
    print(json.dumps(found.as_data(), indent=2) if args.json else found.table())
    return 0


def articles(settings: Settings, args: argparse.Namespace) -> int:
    """``docket articles load [DIR]``: publish or revise help articles from Markdown files."""
    from datetime import UTC, datetime

    from api.runtime import operator_desk
    from domain.stamp import Stamp
    from importers.help_articles import load_articles

    if not args.folder.is_dir():
        sys.exit(f"docket articles load: {args.folder} is not a folder.")
    _, desk = operator_desk(settings, pool_size=2)
    try:
        stamp = Stamp("articles-loader", "system", "import", datetime.now(UTC))
        report = load_articles(desk, args.folder, stamp)
    finally:
        desk.close()
    print(json.dumps({"articles": report.outcomes, "counts": report.counts()}, indent=2))
    return 1 if any(o.startswith("refused") for o in report.outcomes.values()) else 0


def add_article_commands(commands: Any) -> None:
    from pathlib import Path

    from importers.help_articles import SHIPPED

    group = commands.add_parser("articles", help="help articles")
    sub = group.add_subparsers(dest="articles_command", required=True)
    load = sub.add_parser(
        "load", help="publish new and revise changed articles from a folder of Markdown files"
    )
    load.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=SHIPPED,
        metavar="DIR",
        help="the folder of *.md files (default: the articles Docket ships)",
    )


def add_sla_commands(commands: Any) -> None:
    from datetime import date
    from pathlib import Path

    group = commands.add_parser("sla", help="service levels")
    sub = group.add_subparsers(dest="sla_command", required=True)
    simulate = sub.add_parser(
        "simulate", help="replay a period's tickets under another tier's targets (writes nothing)"
    )
    simulate.add_argument("--tier", required=True, help="the support tier to promise instead")
    simulate.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    simulate.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    simulate.add_argument("--policy", type=Path, help="targets from this sla.toml-style file")
    simulate.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="docket", description="Docket support desk")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the HTTP API")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--host", default=None)
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="API processes on the one port (default: DOCKET_WORKERS, else one per core)",
    )
    commands.add_parser("seed-demo", help="create the demo world and print a token per role")
    replay_cli.add_commands(commands)
    import_cli.add_import_commands(commands)
    add_sla_commands(commands)
    add_article_commands(commands)
    accounts_cli.add_commands(commands)
    automations_cli.add_commands(commands)
    admin_cli.add_commands(commands)
    staff_cli.add_commands(commands)
    worker = commands.add_parser("project", help="keep views current (a projection worker)")
    worker.add_argument("views", nargs="*", metavar="VIEW", help="views to keep (default: all)")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        if args.command == "serve":
            if args.port:
                settings.port = args.port
            if args.host:
                settings.host = args.host
            if args.workers is not None and args.workers < 1:
                sys.exit("docket serve: --workers is 1 or more.")
            serve(settings, args.workers)
        elif args.command == "seed-demo":
            seed_demo(settings)
        elif args.command == "project":
            project(settings, args.views)
        elif args.command == "sla":
            sys.exit(sla(settings, args))
        elif args.command == "articles":
            sys.exit(articles(settings, args))
        elif args.command == "automations":
            sys.exit(automations_cli.run(settings, args))
        elif args.command == "accounts":
            sys.exit(accounts_cli.run(settings, args))
        elif args.command in ("admin", "tokens"):
            sys.exit(admin_cli.run(settings, args))
        elif args.command in ("staff", "groups"):
            sys.exit(staff_cli.run(settings, args))
        elif args.command == "replay":
            sys.exit(replay(settings, args))
        elif args.command == "import":
            from api.runtime import database_url

            sys.exit(import_cli.run_import(args, database_url(settings), settings.schema_name))
        else:  # pragma: no cover - argparse refuses unknown commands
            sys.exit(2)
    except (MapperDeserialisationError, OriginatorVersionError) as damaged:
        # stored events that do not read back: say so, as the HTTP API does (409), not a traceback
        print(
            f"DAMAGED: the stored events `docket {args.command}` reads do not read back "
            f"({type(damaged).__name__}): they were changed by someone other than Docket. "
            "Nothing was written. See what was damaged with `docket replay verify`.",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
