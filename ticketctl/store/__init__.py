"""The device's store: one SQLite file (stdlib ``sqlite3``, WAL,
``synchronous=FULL``) and every query a device runs on it, named after what it
answers. The schema is a list of SQL migrations (``store.schema``);
``store.tables`` mirrors it as SQLModel classes for the server and tooling, and
``tests/test_store_schema.py`` keeps the two equal, so a technician's command
imports neither SQLModel nor SQLAlchemy.

Modules here import the standard library (SQLModel only in ``store.tables``),
``ticketctl.core`` (the projections they fold and the rules a query compiles),
``ticketctl.errors``, ``ticketctl.i18n`` and each other; never the services,
sync, the server, rendering, commands or the dashboard: those call the store,
not the other way round.
"""
