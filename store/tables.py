"""What every store with tables of its own shares: a pool, a schema, its DDL, one-row reads."""

from __future__ import annotations

from typing import Any, ClassVar

from psycopg_pool import ConnectionPool


class SchemaTables:
    """Tables of one store in one schema, reached through a connection pool."""

    ddl: ClassVar[str]
    """``CREATE … IF NOT EXISTS`` statements; ``{schema}`` stands for the quoted schema."""

    def __init__(self, pool: ConnectionPool, schema: str) -> None:
        self.pool = pool
        self.schema = schema

    def create_tables(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(self.ddl.replace("{schema}", f'"{self.schema}"'))

    def one(self, statement: str, params: tuple[Any, ...]) -> Any:
        """The first row ``statement`` answers (``{schema}`` filled in), or ``None``."""
        with self.pool.connection() as conn:
            return conn.execute(
                statement.replace("{schema}", f'"{self.schema}"'), params
            ).fetchone()
