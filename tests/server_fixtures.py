"""Shared by the server tests (test_server_api, test_server_pg): a ticketctl
home in a folder, mutations as a client would push them, and a throwaway
PostgreSQL database.

PostgreSQL: ``TICKETCTL_TEST_PG`` names the server to use (a URL of any
database on it; the tests create their own database there and drop it after),
else 127.0.0.1:5432 as ``postgres`` or the OS user, database ``test``. Without
a reachable server the PG tests skip with one line saying how to run them;
under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import getpass
import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ticketctl.home import Home

DISPATCHER_FIELDS = {"title": "no dial tone", "type": "incident", "dept": "field", "product": "fibre",
                     "customer": "Ada Lovelace", "phone": "+44 20 7946 0000"}


def home_in(root: Path) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    return Home(config_file=root / "config.toml", store_file=root / "ticketctl.db", log_dir=root / "logs", root=root)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mutation(client_seq: int, name: str, /, **args: Any) -> dict[str, Any]:
    """One queued mutation as the client pushes it."""
    return {"mutation_id": str(uuid.uuid4()), "client_seq": client_seq, "name": name, "args": args,
            "client_ts": "2026-03-02T09:00:00Z"}


class Outbox:
    """A device's outbox: numbers its mutations 1, 2, 3, ..."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self, name: str, /, **args: Any) -> dict[str, Any]:
        return mutation(next(self._n), name, **args)


# -- PostgreSQL -----------------------------------------------------------------

HOW = ("start it (e.g. pg_ctlcluster 15 main start) or set TICKETCTL_TEST_PG=postgresql://USER@HOST:PORT/DB; CI runs these")


def _candidates() -> list[str]:
    env = os.environ.get("TICKETCTL_TEST_PG")
    if env:
        return [env]
    users = dict.fromkeys(["postgres", getpass.getuser()])
    return [f"postgresql://{u}@127.0.0.1:5432/test" for u in users]


def _connect(url: str, **kw: Any) -> Any:
    import psycopg

    u = make_url(url)
    return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, password=u.password,
                           dbname=u.database or "postgres", connect_timeout=3, **kw)


def pg_unavailable(reason: str) -> None:
    """Skip on a laptop; fail under CI=true (the house rule)."""
    line = f"PostgreSQL not reachable ({reason}): {HOW}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(line, pytrace=False)
    pytest.skip(line)


def find_pg() -> str:
    """The URL of a reachable PostgreSQL database (to administer from)."""
    errors = []
    for url in _candidates():
        try:
            with _connect(url) as conn:
                conn.execute("select 1")
            return url
        except Exception as e:  # noqa: BLE001 - any failure to connect means "not here"
            errors.append(f"{make_url(url).render_as_string(hide_password=True)}: {str(e).strip().splitlines()[0]}")
    pg_unavailable("; ".join(errors))
    raise AssertionError("unreachable")


class PgDatabases:
    """Creates throwaway databases on one PostgreSQL server (``CREATE DATABASE
    ticketctl_test_<random>``), or schemas when the user may not create
    databases, and drops them all at the end."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.made: list[tuple[str, str]] = []  # (kind, name)

    def new(self) -> str:
        """The SQLAlchemy URL of an empty database."""
        name = f"ticketctl_test_{uuid.uuid4().hex[:12]}"
        u = make_url(self.admin_url)
        try:
            with _connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.made.append(("database", name))
            return u.set(database=name).render_as_string(hide_password=False)
        except Exception as e:
            import psycopg

            if not isinstance(e, psycopg.errors.InsufficientPrivilege):
                raise
        with _connect(self.admin_url, autocommit=True) as conn:  # no CREATEDB: a schema of our own instead
            conn.execute(f'CREATE SCHEMA "{name}"')
        self.made.append(("schema", name))
        return u.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with _connect(self.admin_url, autocommit=True) as conn:
            for kind, name in reversed(self.made):
                if kind == "database":
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                else:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        self.made.clear()


# fixtures under their own names, so that importing them (the way a test
# module uses them) does not shadow the parameter names
@pytest.fixture(scope="session", name="pg_databases")
def pg_databases_fixture() -> Iterator[PgDatabases]:
    dbs = PgDatabases(find_pg())
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture(name="pg_url")
def pg_url_fixture(pg_databases: PgDatabases) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return pg_databases.new()
