"""The server's store: every query the server runs, on SQLite or PostgreSQL
(SQLAlchemy), named after what it answers. Nothing else in ``ticketctl.server``
writes SQL.

- ``engine``: the engine, migrations, the global sequence;
- ``team``: ``ServerStore``, the team's state as the mutation services see a store.
"""
