"""Docket's write model: tickets, accounts, staff and the rules between them.

Pure Python plus ``eventsourcing.domain``: nothing here knows about SQL, HTTP or
the server's clock. Every decision takes the instant it happens at (inside a
:class:`~domain.stamp.Stamp`), so imports and tests can replay history.
"""
