"""``docket import incident-log``: the UCI incident event log, one ticket per incident.

Rows of one incident are snapshots after each change, in file order. The
importer compares each snapshot with the one before and records what changed:
incident_state → status (New, Active → open; Awaiting … → pending; Resolved,
Closed → closed; leaving closed is a reopen), priority → a priority event,
assignment_group / assigned_to → an assignment. category → topic,
subcategory → product, contact_type → channel. ``opened_at`` is the filing
instant; each later change happens at its row's ``sys_updated_at`` (the move to
Resolved at ``resolved_at`` when given). Dates are read as UTC. Each location
is a team account (plan enterprise) whose members are the callers.
History is imported as it happened: the reopen window does not apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from desk.answers import Change
from desk.service import SupportDesk
from domain.stamp import Stamp
from importers.common import Accounts, Import, ImportReport, import_id, open_text, records

DATASET = "incident-log"
STATES = {
    "New": "open",
    "Active": "open",
    "Awaiting User Info": "pending",
    "Awaiting Vendor": "pending",
    "Awaiting Problem": "pending",
    "Awaiting Evidence": "pending",
    "Resolved": "closed",
    "Closed": "closed",
}
PRIORITIES = {
    "1 - Critical": "urgent",
    "2 - High": "high",
    "3 - Moderate": "normal",
    "4 - Low": "low",
}
CHANNELS = {
    "Phone": "phone",
    "Email": "email",
    "Self service": "web",
    "IVR": "phone",
    "Direct opening": "web",
}


def value(text: str | None) -> str | None:
    text = (text or "").strip()
    return None if text in ("", "?") else text


def when(text: str | None) -> datetime | None:
    """``29/2/2016 01:16`` → an instant (UTC); ``?`` → None."""
    text = value(text)
    if text is None:
        return None
    day, clock = text.split(" ")
    d, m, y = (int(part) for part in day.split("/"))
    hh, mm = (int(part) for part in clock.split(":"))
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def incidents(path: Path) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """The rows of each incident, together (they are contiguous in the file)."""
    current: list[tuple[int, dict[str, str]]] = []
    with open_text(path) as handle:
        for line, row in records(handle):
            if current and row["number"] != current[0][1]["number"]:
                yield current
                current = []
            current.append((line, row))
    if current:
        yield current


def import_incident_log(desk: SupportDesk, path: Path) -> ImportReport:
    system = Stamp("import:incident-log", "system", "import", datetime(2016, 1, 1, tzinfo=UTC))
    into = Import(desk, Accounts(desk, system))
    for rows in incidents(path):
        first_line, first = rows[0]
        with into.report.taking(first_line, len(rows), f"incident {first.get('number')}: "):
            import_incident(into, rows)
    into.report.progress(force=True)
    return into.report


def import_incident(into: Import, rows: list[tuple[int, dict[str, str]]]) -> None:
    first_line, first = rows[0]
    number = first["number"]
    opened = (
        when(first["opened_at"]) or when(first["sys_created_at"]) or when(first["sys_updated_at"])
    )
    if opened is None:
        raise ValueError("no opened_at, sys_created_at or sys_updated_at")
    location = value(first["location"]) or "Unknown location"
    caller = value(first["caller_id"]) or "Unknown caller"
    account_id = import_id(DATASET, "account:" + location)
    into.accounts.ensure(
        account_id, location, caller, caller, f"{caller.replace(' ', '.').lower()}@callers.invalid"
    )
    channel = CHANNELS.get(first["contact_type"], "phone")
    priority = PRIORITIES.get(first["priority"], "normal")
    category, subcategory = value(first["category"]) or "", value(first["subcategory"]) or ""
    changes: list[Change] = []
    status, last_at = "open", opened
    assignment: tuple[str | None, str | None] = (None, None)
    for line, row in rows:
        at = max(when(row["sys_updated_at"]) or last_at, last_at)
        staff = Stamp(value(row["sys_updated_by"]) or "import:staff", "importer", "import", at)
        state = row["incident_state"]
        target = STATES.get(state)
        if target is None:
            into.report.refuse(
                line, f"incident {number}: unknown incident_state {state!r}; row's state ignored"
            )
            target = status
        if target != status:
            if target == "closed":
                resolved = when(row["resolved_at"]) if state == "Resolved" else None
                if resolved is not None and resolved >= last_at:
                    at = resolved
                    staff = Stamp(staff.actor_id, "importer", "import", at)
                changes.append(Change("change_status", {"to_status": "closed"}, staff))
            else:
                if status == "closed":
                    changes.append(Change("reopen", {}, staff))
                if target == "pending":
                    changes.append(Change("change_status", {"to_status": "pending"}, staff))
                elif status == "pending":
                    changes.append(Change("change_status", {"to_status": "open"}, staff))
            status = target
        new_priority = PRIORITIES.get(row["priority"])
        if new_priority is not None and new_priority != priority:
            changes.append(Change("change_priority", {"to_priority": new_priority}, staff))
            priority = new_priority
        new_assignment = (value(row["assigned_to"]), value(row["assignment_group"]))
        if new_assignment != assignment:
            changes.append(
                Change(
                    "assign", {"agent_id": new_assignment[0], "group": new_assignment[1]}, staff
                )
            )
            assignment = new_assignment
        last_at = at
    outcome = into.desk.import_ticket(
        ticket_id=import_id(DATASET, number),
        account_id=account_id,
        filing={
            "subject": f"{number}: {category or 'No category'} / {subcategory or 'none'}",
            "description": f"Incident {number} reported by {caller} ({first['contact_type']}); "
            f"symptom {value(first['u_symptom']) or 'not given'}.",
            "type": "technical",
            "priority": PRIORITIES.get(first["priority"], "normal"),
            "product": subcategory,
            "topic": category,
            "channel": channel,
            "requester_id": caller,
        },
        stamp=Stamp(caller, "requester", channel, opened),
        changes=changes,
    )
    into.report.imported(first_line, outcome, f"incident {number}: ")
