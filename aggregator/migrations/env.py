"""Alembic environment for the aggregator schema.

The store runs migrations programmatically and hands its own connection over in
``config.attributes["connection"]`` (so in-memory and test databases work). Without one, the URL comes from
the ``sqlalchemy.url`` option or the ``AGGREGATOR_DATABASE_URL`` environment variable, which is how a
developer runs ``alembic revision --autogenerate`` against a scratch database.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from aggregator.store import metadata

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("AGGREGATOR_DATABASE_URL")
    if not url:
        raise RuntimeError("no database: pass a connection, set sqlalchemy.url or AGGREGATOR_DATABASE_URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place: later migrations use batch (copy-and-move) mode there
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
