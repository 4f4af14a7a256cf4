"""Routing: which support group a new ticket goes to, decided from facts of the ticket and
its account when it is filed.

The rules are data (:class:`Routing`), in order: a ``billing`` ticket goes to the billing
team; an Enterprise account's tickets go to its named account team when it has one;
every other ticket to the first line. Staff reassign as before.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Routing:
    billing_group: str = "billing"
    """Answers billing questions, for every plan."""
    account_team_plans: tuple[str, ...] = ("enterprise",)
    """Plans whose accounts are answered by their account team, when they have one."""
    first_line: str = "tier-1"

    def group_for(self, ticket_type: str, plan: str, account_team: str | None) -> str:
        if ticket_type == "billing":
            return self.billing_group
        if plan in self.account_team_plans and account_team:
            return account_team
        return self.first_line


ROUTING = Routing()
