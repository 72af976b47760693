"""Where ticketctl keeps things, and the config file's I/O.

Precedence for the folders:

1. ``TICKETCTL_HOME``: one folder holds ``config.toml``, the store
   ``ticketctl.db`` and ``logs/`` (scripts, tests, several identities on one
   machine);
2. otherwise the platform's user folders (platformdirs): the config in the user
   config dir, the store in the user data dir, logs in the user log dir.

The config file is written atomically (temp file, fsync, rename): a crash never
leaves half a config behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticketctl.errors import BadInput, ConfigError
from ticketctl.i18n import _

if TYPE_CHECKING:
    from ticketctl.core.config import Config

APP = "ticketctl"


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
            if "\x00" in root:
                raise BadInput(_("TICKETCTL_HOME contains a NUL character"))
            r = Path(root).expanduser().absolute()
            if r.exists() and not r.is_dir():
                raise BadInput(_("TICKETCTL_HOME={path} is a file, not a folder").format(path=root))
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
    from ticketctl.country_cache import country_cache  # calendar.country's dates, kept beside the file

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
