"""Every view Docket keeps, by name."""

from __future__ import annotations

from projections import (
    articles,
    audit_feed,
    automations,
    contact_requests,
    dashboard,
    directory,
    log_seal,
    macros,
    outbox,
    saved_views,
    sla,
    staff_roster,
    subscriptions,
    tag_counts,
    ticket_detail,
)
from projections.kit import View
from projections.lists import customer_tickets, inbox

VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        directory.VIEW,
        ticket_detail.VIEW,
        inbox.VIEW,
        customer_tickets.VIEW,
        audit_feed.VIEW,
        log_seal.VIEW,
        dashboard.VIEW,
        sla.VIEW,
        automations.VIEW,
        articles.VIEW,
        outbox.VIEW,
        subscriptions.VIEW,
        contact_requests.VIEW,
        staff_roster.VIEW,
        tag_counts.VIEW,
        saved_views.VIEW,
        macros.VIEW,
    )
}
