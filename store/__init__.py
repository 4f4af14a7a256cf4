"""PostgreSQL plumbing: the event store and its gap-safe recorder, the database,
attachment and idempotency storage. No rules of the support desk live here."""
