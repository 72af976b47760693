"""The server's store: every query the server runs, on SQLite or PostgreSQL
(SQLAlchemy), named after what it answers. Nothing else in ``ticketctl.server``
writes SQL.

- ``engine``: the engine, migrations, the global sequence;
- ``team``: ``ServerStore``, the team's state as the mutation services see a store;
- ``forms``: what the customers' web form reads and counts;
- ``outbox``: the team's webhook outbox (``services.delivery`` sends it);
- ``leases``: which worker runs a scheduled job this period.
"""
