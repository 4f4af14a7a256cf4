"""The ``docket`` command line."""

from __future__ import annotations

import argparse
import json
import sys

from api.settings import Settings


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

    runtime = Runtime.start(settings)
    try:
        print(json.dumps(seed(runtime), indent=2))
    finally:
        runtime.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="docket", description="Docket support desk")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the HTTP API")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--host", default=None)
    commands.add_parser("seed-demo", help="create the demo world and print a token per role")
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
    else:  # pragma: no cover - argparse refuses unknown commands
        sys.exit(2)


if __name__ == "__main__":
    main()
