"""Docket's PostgreSQL side: the event store, the application service, and the views.

Everything that touches PostgreSQL lives here, below ``replay/`` and ``api/``
(which both use it) and above ``domain/`` (which knows nothing of SQL).
"""
