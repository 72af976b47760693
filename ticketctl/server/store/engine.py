"""The server's database: the engine (SQLite or PostgreSQL), its migrations,
and the global sequence every writer takes in order (``server.schema``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from ticketctl.errors import ConfigError, Unreachable
from ticketctl.i18n import _
from ticketctl.server import schema as S


def engine_for(url: str) -> Engine:
    """An engine for ``sqlite:///PATH`` or ``postgresql://...`` (psycopg 3)."""
    try:
        u = make_url(url)
    except Exception:
        raise ConfigError(_("--db {url!r} is not a database URL (sqlite:///PATH or postgresql://HOST/DB)").format(url=url)) from None
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_size=10, max_overflow=40, pool_pre_ping=True)
    if u.drivername != "sqlite" or not u.database:
        raise ConfigError(_("--db {url!r}: only sqlite:///PATH and postgresql://... are supported").format(url=url))
    if u.database != ":memory:":
        from pathlib import Path

        from ticketctl.home import make_folder

        path = Path(u.database)
        try:
            is_dir = path.is_dir()
        except OSError as e:  # a name too long
            raise ConfigError(_("--db {url!r}: {reason}").format(url=url, reason=e.strerror)) from None
        if is_dir:
            raise ConfigError(_("--db {url!r}: {path} is a folder, not a database file").format(url=url, path=path))
        make_folder(path.parent)  # the home on first use (`server add-device` before anything else ran)
    eng = create_engine(u, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=20, max_overflow=40)

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        cur = dbapi.cursor()
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.close()

    return eng


def token_hash(token: str) -> str:
    """What the server stores of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def migrate(engine: Engine) -> str:
    """Bring the database to the latest schema; returns its epoch (made once,
    with the database: a restore from an older copy keeps the epoch, a new
    database gets a new one)."""
    try:
        return _migrate(engine)
    except OperationalError as e:  # no such server, refused, bad credentials: one line, not a traceback
        reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise Unreachable(_("cannot reach the server database {url}: {reason}").format(
            url=engine.url.render_as_string(hide_password=True), reason=reason)) from None
    except DatabaseError as e:  # a file that is no database (--db sqlite:////etc/hostname)
        reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise ConfigError(_("--db {url}: {reason}").format(url=engine.url.render_as_string(hide_password=True), reason=reason)) from None


#: the schema generation this ticketctl leaves in ``server_meta.version``: above every number an
#: older ticketctl knows (it refuses the database instead of writing to a schema it does not know)
GENERATION = 6
#: a database made before the migrations moved to Alembic: its schema generation -> its revision
STAMPS = {1: "0001", 2: "0001", 3: "0001", 4: "0001", 5: "0002"}


def _migrate(engine: Engine) -> str:
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy import inspect

    with engine.begin() as c:
        if engine.dialect.name == "postgresql":  # two servers starting at once migrate one after the other
            c.exec_driver_sql("SELECT pg_advisory_xact_lock(874211)")
        tables = set(inspect(c).get_table_names())
        cfg = _alembic(c)
        if "alembic_version" not in tables and "server_meta" in tables:
            version = int(c.execute(select(S.server_meta.c.value).where(S.server_meta.c.key == "version")).scalar() or 0)
            if version not in STAMPS:
                raise ConfigError(_("the server database has schema v{have}; this ticketctl knows v{known}: upgrade ticketctl").format(
                    have=version, known=max(STAMPS)))
            # an older generation's tables (each version only added tables): the baseline's, then its revision
            baseline = [t for t in S.metadata.sorted_tables if t.name != "webhook_deliveries" or version >= 5]
            S.metadata.create_all(c, tables=baseline, checkfirst=True)
            command.stamp(cfg, STAMPS[version])
        try:
            command.upgrade(cfg, "head")
        except CommandError as e:  # a revision this ticketctl has never heard of
            raise ConfigError(_("the server database was upgraded by a newer ticketctl ({reason}): upgrade ticketctl").format(
                reason=e)) from None
        c.execute(update(S.server_meta).where(S.server_meta.c.key == "version").values(value=str(GENERATION)))
        return str(c.execute(select(S.server_meta.c.value).where(S.server_meta.c.key == "epoch")).scalar_one())


def _alembic(c: Connection) -> Any:
    """Alembic's config for the migrations in ``server/migrations``, on connection ``c``."""
    from pathlib import Path

    from alembic.config import Config as AlembicConfig

    import ticketctl.server.migrations as migrations

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["connection"] = c
    return cfg


def revision(engine: Engine) -> str | None:
    """The database's Alembic revision (None before its first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


#: PostgreSQL's channel a writing transaction notifies with its new high-water mark as it commits
#: (``ServerStore.flush``), which the waiting pulls of every server process listen on (``server.poke``)
SEQ_CHANNEL = "ticketctl_seq"


def lock_sequence(c: Connection) -> int:
    """Take the write lock of the global sequence (first statement of every
    writing transaction: a row lock on PostgreSQL, the database write lock on
    SQLite); returns the last number taken."""
    c.execute(update(S.counters).where(S.counters.c.name == "seq").values(value=S.counters.c.value))
    return int(c.execute(select(S.counters.c.value).where(S.counters.c.name == "seq")).scalar_one())


def high_water(c: Connection) -> int:
    return int(c.execute(select(S.counters.c.value).where(S.counters.c.name == "seq")).scalar_one())
