"""Alembic environment: migrations run on the connection ``Database.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from parkshare.db import Base, make_engine
from parkshare.models import __all__ as _all_tables  # noqa: F401  (fills Base.metadata)

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line: ``alembic -x url=... revision --autogenerate``
    url = context.get_x_argument(as_dictionary=True)["url"]
    with make_engine(url).begin() as own_connection:
        _run(own_connection)
