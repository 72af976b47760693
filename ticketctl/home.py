"""Where ticketctl keeps things, and the config file's I/O.

Precedence for the folders:

1. ``TICKETCTL_HOME``: one folder holds ``config.toml``, the store
   ``ticketctl.db`` and ``logs/`` (scripts, tests, several identities on one
   machine);
2. otherwise the platform's user folders (platformdirs): the config in the user
   config dir, the store in the user data dir, logs in the user log dir.

The config file is written atomically (temp file, fsync, rename): a crash never
leaves half a config behind.

Beside it, ``holidays-cache.json`` keeps the dates of ``calendar.country``.
Importing the ``holidays`` package costs ~45 ms and computing a country's years
a few more: more than a whole ``ticketctl list`` takes without it. The dates
change only with the package, so the first command after a country is set (or
the package is updated) computes them (``core.country``) and writes the file;
later commands read it (~25 KB for China) and never import the package. The
file holds one entry, keyed by country, subdivision, package version and years;
any other key, or a file that cannot be read, is a miss, and a cache that cannot
be written is skipped: it is only a cache.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticketctl.errors import ConfigError
from ticketctl.i18n import _

if TYPE_CHECKING:
    from ticketctl.core.config import Config
    from ticketctl.core.country import CountryDays

APP = "ticketctl"
#: the dates of ``calendar.country``, beside the config file
HOLIDAYS_CACHE = "holidays-cache.json"


@dataclass(frozen=True)
class Home:
    """The paths of one ticketctl installation."""

    config_file: Path
    store_file: Path
    log_dir: Path
    root: Path | None = None  # set when TICKETCTL_HOME chose everything

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Home:
        env = os.environ if environ is None else environ
        root = env.get("TICKETCTL_HOME")
        if root:
            r = Path(root).expanduser().absolute()
            return cls(r / "config.toml", r / "ticketctl.db", r / "logs", r)
        import platformdirs

        return cls(
            Path(platformdirs.user_config_dir(APP)) / "config.toml",
            Path(platformdirs.user_data_dir(APP)) / "ticketctl.db",
            Path(platformdirs.user_log_dir(APP)),
        )

    @property
    def log_file(self) -> Path:
        return self.log_dir / "ticketctl.log"

    @property
    def sync_file(self) -> Path:
        """The sync server's URL and this device's token (mode 0600)."""
        return self.store_file.parent / "sync.json"

    @property
    def sync_lock(self) -> Path:
        """Held by the one sync running on this store (CLI, dashboard or cron)."""
        return self.store_file.parent / "sync.lock"

    def server_url(self) -> str | None:
        """The sync server this store is set up with (``sync setup``), or None."""
        import json

        try:
            return str(json.loads(self.sync_file.read_text(encoding="utf-8"))["url"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def lang(self) -> str | None:
        """``lang`` of the config file, for choosing the language before anything
        else runs (a broken file is reported by the command that needs it, not here)."""
        try:
            value = read_config_table(self.config_file).get("lang")
        except ConfigError:
            return None
        return value if isinstance(value, str) else None

    @property
    def server_db(self) -> Path:
        """The central server's default database (``ticketctl server run``)."""
        return self.store_file.parent / "server.db"


#: the last table read per file, with the file's (mtime, size, inode): a command reads its config once
_tables: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def read_config_table(path: Path) -> dict[str, Any]:
    """The user's own table from ``path`` ({} when there is no file). Read once
    per process while the file stays the same (the language is chosen from it
    before the command loads the whole config); callers get their own copy."""
    import copy
    import tomllib

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            hit = _tables.get(path)
            if hit is not None and hit[0] == stamp:
                return copy.deepcopy(hit[1])
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(_("{path}: cannot read: {reason}").format(path=path, reason=e.strerror)) from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(_("{path}: not valid TOML: {error}").format(path=path, error=e)) from None
    _tables[path] = (stamp, table)
    return copy.deepcopy(table)


def load_config(path: Path) -> Config:
    """The validated config (defaults when the file does not exist).

    Raises ConfigError naming the file, the key and what is wrong."""
    from ticketctl.core.config import Config, config_from_dict

    data = read_config_table(path)
    if not data:
        return Config()
    try:
        with country_cache(path, data):
            return config_from_dict(data)
    except ValueError as e:
        raise ConfigError(f"{path}: {e}") from None


def write_config_table(path: Path, data: dict[str, Any]) -> None:
    """Validate ``data`` as a config, then write it atomically."""
    from ticketctl.core.config import config_from_dict

    try:
        config_from_dict(data)
    except ValueError as e:
        raise ConfigError(_("{path}: refused, the config would be invalid: {error}").format(path=path, error=e)) from None
    import tomli_w

    text = tomli_w.dumps(data)
    atomic_write(path, text.encode("utf-8"))


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old or the new file, never half."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def country_cache(config_file: Path, table: dict[str, Any]) -> Iterator[None]:
    """Around loading the config ``table`` read from ``config_file``: seed the
    country's dates from :data:`HOLIDAYS_CACHE` before, write them to it after a
    load that computed them."""
    from ticketctl.core import country as countries

    cal = table.get("calendar")
    country = cal.get("country") if isinstance(cal, dict) else None
    subdiv = cal.get("subdivision", "") if isinstance(cal, dict) else ""
    if not country or not isinstance(country, str) or not isinstance(subdiv, str):
        yield
        return
    version = holidays_version()
    if version is None:  # not installed: loading says so, naming the key
        yield
        return
    path = config_file.parent / HOLIDAYS_CACHE
    key = f"{country}|{subdiv}|holidays {version}|{countries.YEARS.start}-{countries.YEARS.stop - 1}"
    hit = _read_country_days(path, key)
    if hit is not None and countries.cached(country, subdiv) is None:
        countries.remember(country, subdiv, hit)
    yield
    if hit is None and (days := countries.cached(country, subdiv)) is not None:
        _write_country_days(path, key, days)


def holidays_version() -> str | None:
    """The installed ``holidays`` version without importing it (the name of its
    ``.dist-info`` folder; importlib.metadata alone costs ~20 ms), or None."""
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.origin:
        return None
    found = sorted(Path(spec.origin).parent.parent.glob("holidays-*.dist-info"))
    if len(found) == 1:
        return found[0].name[len("holidays-") : -len(".dist-info")]
    import importlib.metadata  # an unusual layout: ask the slow way

    try:
        return importlib.metadata.version("holidays")
    except importlib.metadata.PackageNotFoundError:
        return None


def _read_country_days(path: Path, key: str) -> CountryDays | None:
    import json
    from datetime import date

    from ticketctl.core.country import CountryDays

    try:
        entry = json.loads(path.read_text(encoding="utf-8"))[key]
        return CountryDays(
            tuple(date.fromisoformat(d) for d in entry["holidays"]),
            tuple(date.fromisoformat(d) for d in entry["workdays"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_country_days(path: Path, key: str, days: CountryDays) -> None:
    import json

    entry = {"holidays": [d.isoformat() for d in days.holidays], "workdays": [d.isoformat() for d in days.workdays]}
    try:
        atomic_write(path, json.dumps({key: entry}, separators=(",", ":")).encode("utf-8"))
    except OSError:
        pass
