"""The server database's migrations (Alembic): ``env.py`` and ``versions/``.
``server.store.engine.migrate`` runs them; a database made before they existed
is stamped with the revision matching its schema generation first."""
