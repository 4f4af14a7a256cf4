"""``docket import tickets-csv``: the Kaggle customer-support tickets, one ticket per row.

Mapping (see the README): Ticket Type → topic (as written) and a Docket type;
Product Purchased → product; Subject → subject; Description → first message;
Status, Priority and Channel mapped to Docket's; Customer Satisfaction Rating →
a satisfaction event. Each customer (by email) is a member of a team account
of their own ("<name>'s team", plan enterprise): the file has no companies.

Instants: the file has no filing time, so every ticket is filed at
``--opened-at`` (default 2023-06-01T00:00:00Z). First Response Time becomes an
agent's first reply at that instant when it is not before the filing;
Time to Resolution becomes the closing instant when it is not before the first
response (else the ticket closes at its first response). About half the closed
tickets have a resolution before their first response: for those the
resolution time is not used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from desk.answers import Change
from desk.service import SupportDesk
from domain.stamp import Stamp
from importers.common import Accounts, Import, ImportReport, import_id, open_text, records

DATASET = "tickets-csv"
STATUSES = {"Open": "open", "Pending Customer Response": "pending", "Closed": "closed"}
PRIORITIES = {"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"}
CHANNELS = {"Email": "email", "Phone": "phone", "Chat": "chat", "Social media": "social"}
TYPES = {
    "Technical issue": "technical",
    "Billing inquiry": "billing",
    "Refund request": "billing",
    "Product inquiry": "question",
    "Cancellation request": "other",
}
DEFAULT_OPENED_AT = datetime(2023, 6, 1, tzinfo=UTC)
FIRST_RESPONSE = "Thank you for contacting us; we are looking into it."


def instant(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def import_tickets_csv(
    desk: SupportDesk, path: Path, *, opened_at: datetime = DEFAULT_OPENED_AT
) -> ImportReport:
    importer = Stamp("import:tickets-csv", "system", "import", opened_at)
    into = Import(desk, Accounts(desk, importer))
    with open_text(path) as handle:
        for line, row in records(handle):
            with into.report.taking(line):
                import_row(into, line, row, opened_at)
    into.report.progress(force=True)
    return into.report


def import_row(into: Import, line: int, row: dict[str, str], opened_at: datetime) -> None:
    status = STATUSES.get(row["Ticket Status"])
    priority = PRIORITIES.get(row["Ticket Priority"])
    channel = CHANNELS.get(row["Ticket Channel"])
    if status is None or priority is None or channel is None:
        raise ValueError(
            f"unknown status, priority or channel: {row['Ticket Status']!r}, "
            f"{row['Ticket Priority']!r}, {row['Ticket Channel']!r}"
        )
    email = row["Customer Email"].strip().lower()
    if "@" not in email:
        raise ValueError(f"no customer email: {email!r}")
    name = row["Customer Name"].strip() or email
    account_id = import_id(DATASET, "account:" + email)
    into.accounts.ensure(account_id, f"{name}'s team", email, name, email)
    customer = Stamp(email, "requester", channel, opened_at)
    first_response = instant(row["First Response Time"])
    resolved = instant(row["Time to Resolution"])
    if first_response is not None and first_response < opened_at:
        into.report.refuse(line, "first response before filing: not used")
        first_response = None
    changes: list[Change] = []
    responded_at = first_response or opened_at
    if status != "open" and first_response is not None:
        agent = Stamp("import:agent", "importer", "import", first_response)
        changes.append(
            Change(
                "add_message",
                {
                    "author_id": "import:agent",
                    "author_role": "agent",
                    "body": FIRST_RESPONSE,
                    "attachments": [],
                },
                agent,
            )
        )
    if status == "pending":
        changes.append(
            Change(
                "change_status",
                {"to_status": "pending"},
                Stamp("import:agent", "importer", "import", responded_at),
            )
        )
    if status == "closed":
        closed_at = resolved if resolved is not None and resolved >= responded_at else responded_at
        closer = Stamp("import:agent", "importer", "import", closed_at)
        if row.get("Resolution", "").strip():
            changes.append(
                Change(
                    "add_message",
                    {
                        "author_id": "import:agent",
                        "author_role": "agent",
                        "body": row["Resolution"],
                        "attachments": [],
                    },
                    closer,
                )
            )
        changes.append(Change("change_status", {"to_status": "closed"}, closer))
        rating = row.get("Customer Satisfaction Rating", "").strip()
        if rating:
            score = round(float(rating))
            changes.append(
                Change(
                    "rate_satisfaction",
                    {"score": score, "comment": ""},
                    Stamp(email, "requester", channel, closed_at),
                )
            )
    outcome = into.desk.import_ticket(
        ticket_id=import_id(DATASET, row["Ticket ID"]),
        account_id=account_id,
        filing={
            "subject": row["Ticket Subject"].strip()[:200] or "(no subject)",
            "description": row["Ticket Description"] or "(no description)",
            "type": TYPES.get(row["Ticket Type"], "other"),
            "priority": priority,
            "product": row["Product Purchased"].strip()[:200],
            "topic": row["Ticket Type"].strip()[:200],
            "channel": channel,
            "requester_id": email,
        },
        stamp=customer,
        changes=changes,
    )
    into.report.imported(line, outcome)
