"""The first Docket admin, registered from the command line (``docket admin init``).

How "an admin exists" is known, reliably:

1. **The directory, caught up first.** Before deciding, this process folds the
   directory view up to the head of the log itself (a second worker on a view is
   safe: its tracking row is taken ``FOR UPDATE SKIP LOCKED``), so an admin registered
   by anything — an earlier init, ``docket seed-demo``, the staff use cases over HTTP —
   is seen whether or not a ``docket project`` worker is running. Any staff member
   with role ``admin`` refuses the init, naming them.
2. **A fixed stream id for the first admin.** The admin is saved as a new
   ``StaffMember`` at :data:`FIRST_ADMIN_ID`; a stream is created once, so of two inits
   that both found no admin, the second save conflicts and is refused the same way.

What is left: an init racing a ``seed-demo`` (another id) on an empty database can
both succeed; ``seed-demo`` is a demo tool, not something run beside a real desk.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

import psycopg
from eventsourcing.persistence import IntegrityError

from desk.staff import Staff
from domain.errors import AdminAlreadyExists, AlreadyExists
from domain.messages import Msg
from domain.stamp import Stamp
from projections import directory
from projections.kit import Tables
from projections.runner import ProjectionRunner

FIRST_ADMIN_ID: UUID = uuid5(NAMESPACE_URL, "docket:first-admin")


def catch_up_directory(url: str, schema: str) -> None:
    """Fold the directory view up to the log's head, in this process."""
    runner = ProjectionRunner(url, schema, [directory.VIEW])
    runner.create_tables()
    runner.catch_up()


def existing_admins(url: str, schema: str) -> list[dict[str, str]]:
    """Docket's admins, from the directory folded up to the log's head by this process."""
    catch_up_directory(url, schema)
    with psycopg.connect(url, autocommit=True) as conn:
        return [
            {k: str(v) for k, v in row.items()}
            for row in directory.staff_admins(conn, Tables(schema))
        ]


def register_first_admin(
    desk: Staff, url: str, schema: str, *, name: str, email: str, stamp: Stamp
) -> UUID:
    """Register the first Docket admin, or refuse when there is one already."""
    found = existing_admins(url, schema)
    if found:
        raise AdminAlreadyExists(
            Msg(
                "Docket has an admin already ({found} <{found2}>); ask an admin for a "
                "token (POST /v1/tokens), or issue one with `docket tokens issue`.",
                found=found[0]["name"],
                found2=found[0]["email"],
            )
        )
    try:
        return desk.register_staff(
            name=name, email=email, role="admin", stamp=stamp, staff_id=FIRST_ADMIN_ID
        ).staff_id
    except (IntegrityError, AlreadyExists):  # the id was taken meanwhile
        raise AdminAlreadyExists(
            Msg(
                "Another `docket admin init` registered the first admin meanwhile; ask "
                "them for a token."
            )
        ) from None
