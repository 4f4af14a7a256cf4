"""The HTTP baseline: a bare FastAPI endpoint on Docket's server stack doing one raw INSERT.

Usage: ``python -m bench.baseline_app URL SCHEMA PORT``

The same stack as ``docket serve`` (uvicorn as :data:`api.cli.SERVED_AS` runs it),
the same shape of route (a synchronous function on FastAPI's thread pool, a pydantic
body, a psycopg 3 pool of 8 connections), but no authentication, no aggregate, no
event, no idempotency: it parses the body, inserts one row, commits and answers the
new id. What Docket's filing and replying cost beyond that is Docket's own.
"""

from __future__ import annotations

import sys

import psycopg
import uvicorn
from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from api.cli import SERVED_AS


class Filing(BaseModel):
    subject: str
    description: str
    type: str = "question"


def create_app(url: str, schema: str) -> FastAPI:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".filings '
            "(id bigserial PRIMARY KEY, subject text, description text, type text)"
        )
    pool = ConnectionPool(url, min_size=8, max_size=8, open=True)
    insert = (
        f'INSERT INTO "{schema}".filings (subject, description, type) '
        "VALUES (%s, %s, %s) RETURNING id"
    )
    app = FastAPI()

    @app.post("/filings", status_code=201)
    def file(filing: Filing) -> dict[str, int]:
        with pool.connection() as conn:
            row = conn.execute(
                insert, (filing.subject, filing.description, filing.type), prepare=True
            ).fetchone()
        assert row is not None
        return {"id": int(row[0])}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    url, schema, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    uvicorn.run(create_app(url, schema), host="127.0.0.1", port=port, **SERVED_AS)


if __name__ == "__main__":
    main()
