"""Alembic's environment for the server database: always on the connection
``server.store.engine.migrate`` passes (``config.attributes["connection"]``),
inside its transaction, with the server's SQLModel tables as the target."""

from __future__ import annotations

from alembic import context

from ticketctl.server.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters a table by copying it
with context.begin_transaction():
    context.run_migrations()
