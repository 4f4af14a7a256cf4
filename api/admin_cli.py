"""``docket admin init``, ``docket admin sign-in-link`` and ``docket tokens
issue|list|revoke``: running the desk from the command line.

The command line reaches the database directly, so it acts as the operator: it issues
tokens for any person or a mail gateway, lists everyone's and revokes any. A token is
printed once, alone on stdout (``TOKEN=$(docket admin init …)``); what else is said goes
to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.settings import Settings


def add_commands(commands: Any) -> None:
    admin = commands.add_parser("admin", help="administration of the desk")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    init = admin_sub.add_parser(
        "init", help="register the first Docket admin on an empty desk and print its token"
    )
    init.add_argument("--email", required=True)
    init.add_argument("--name", required=True)
    link = admin_sub.add_parser(
        "sign-in-link",
        help="print a sign-in link for the people at an address (a desk without a mail server)",
    )
    link.add_argument("--email", required=True)
    link.add_argument(
        "--minutes", type=int, default=15, help="how long the link works (1 to 1440; 15)"
    )

    tokens = commands.add_parser("tokens", help="API tokens")
    sub = tokens.add_subparsers(dest="tokens_command", required=True)
    issue = sub.add_parser("issue", help="issue a token for a person or a mail gateway")
    issue.add_argument("--name", required=True, help="what the token is for")
    holder = issue.add_mutually_exclusive_group(required=True)
    holder.add_argument("--person", help="the staff member's or account member's id")
    holder.add_argument("--mail-gateway", action="store_true")
    issue.add_argument("--expires", type=aware, help="an ISO instant, e.g. 2030-01-01T00:00Z")
    listing = sub.add_parser("list", help="the tokens not revoked (never their secrets)")
    listing.add_argument("--holder", help="only this person's")
    revoke = sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", type=UUID)


def aware(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import Runtime
    from domain.errors import DocketError

    runtime = Runtime.start(settings, project=False)
    try:
        if args.command == "admin" and args.admin_command == "sign-in-link":
            return sign_in_links(runtime, args)
        if args.command == "admin":
            return admin_init(runtime, args)
        return tokens(runtime, args)
    except DocketError as refused:
        print(f"docket {args.command}: {refused.detail}", file=sys.stderr)
        return 1
    finally:
        runtime.close()


def admin_init(runtime: Any, args: argparse.Namespace) -> int:
    from desk.access import Principal
    from desk.bootstrap import register_first_admin
    from domain.stamp import Stamp

    stamp = Stamp("admin-init", "system", "cli", datetime.now(UTC))
    schema = runtime.settings.schema_name
    admin_id = register_first_admin(
        runtime.desk, runtime.url, schema, name=args.name, email=args.email, stamp=stamp
    )
    issued = runtime.tokens.issue(
        Principal(str(admin_id), "admin", args.name), name="admin init", issued_by="admin-init"
    )
    print(
        f"Registered {args.name} as Docket admin {admin_id}; the token, shown once:",
        file=sys.stderr,
    )
    print(issued.token, flush=True)
    return 0


def sign_in_links(runtime: Any, args: argparse.Namespace) -> int:
    """A link per person the directory knows at the address, printed one a line: what the
    emailed link would be, for an operator to hand over when no mail server is set."""
    from datetime import timedelta

    from api.pages.sign_in import links_for
    from desk.bootstrap import catch_up_directory
    from mail.sign_in import sign_in_url

    if not 1 <= args.minutes <= 1440:
        print("docket admin sign-in-link: --minutes is 1 to 1440.", file=sys.stderr)
        return 2
    catch_up_directory(runtime.url, runtime.settings.schema_name)
    made = links_for(
        runtime, args.email, "en", mailed=False, lifetime=timedelta(minutes=args.minutes)
    )
    if not made:
        print(f"docket admin sign-in-link: nobody has the address {args.email}.", file=sys.stderr)
        return 1
    for person, token in made:
        assert token is not None  # a printed link is never held back
        print(
            f"{person['name']} ({person['person_id']}), for {args.minutes} min:", file=sys.stderr
        )
        print(sign_in_url(runtime.settings.public_url, token), flush=True)
    return 0


def tokens(runtime: Any, args: argparse.Namespace) -> int:
    from api.routers.tokens import token_out
    from api.tokens import holder_for
    from desk.bootstrap import catch_up_directory

    if args.tokens_command == "issue":
        person = None
        if args.person:
            catch_up_directory(runtime.url, runtime.settings.schema_name)
            person = runtime.primary_reads.person(args.person)  # the directory just caught up
        holder = holder_for(
            None,
            person=person,
            person_id=args.person,
            mail_gateway=args.mail_gateway,
            name=args.name,
        )
        issued = runtime.tokens.issue(
            holder, name=args.name, expires_at=args.expires, issued_by="command-line"
        )
        print(
            f"Token {issued.info.id} for {holder.name} ({holder.role}), shown once:",
            file=sys.stderr,
        )
        print(issued.token, flush=True)
    elif args.tokens_command == "list":
        admin = _operator()
        listed = runtime.tokens.listed(admin, args.holder)
        print(json.dumps([token_out(t).model_dump(mode="json") for t in listed], indent=2))
    else:
        runtime.tokens.revoke(args.token_id, None)
        print(f"Revoked token {args.token_id}.", file=sys.stderr)
    return 0


def _operator() -> Any:
    from desk.access import Principal

    return Principal(id="command-line", role="admin", name="operator")
