"""The device's store: one SQLite file (stdlib ``sqlite3``, WAL,
``synchronous=FULL``) and every query a device runs on it, named after what it
answers. Its tables are declared once, as the SQLModel classes of
``store.tables`` (the projections made from ``core``'s dataclasses);
``tools/gen_ddl.py`` generates from them ``store.ddl``, the DDL a new store is
created with, and ``store.columns``, so a technician's command imports neither
SQLModel nor SQLAlchemy. An older store is upgraded through the migrations of
``store.schema``; ``tests/test_store_schema.py`` checks that both ways give the
same schema.

Modules here import the standard library (SQLModel only in ``store.tables``),
``ticketctl.core`` (the projections they fold and the rules a query compiles),
``ticketctl.errors``, ``ticketctl.i18n`` and each other; never the services,
sync, the server, rendering, commands or the dashboard: those call the store,
not the other way round.
"""
