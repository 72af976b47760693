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
            try:
                if r.exists() and not r.is_dir():
                    raise BadInput(_("TICKETCTL_HOME={path} is a file, not a folder").format(path=root))
            except OSError as e:  # a name too long
                raise BadInput(_("TICKETCTL_HOME={path}: {reason}").format(path=root, reason=e.strerror)) from None
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


def make_folder(folder: Path) -> Path:
    """Create ``folder`` and its missing parents, as every ticketctl home and
    the folders in it are created (``mkdir -p``: 0777 less the umask); a folder
    that exists is fine. BadInput naming the file in the way, or why the
    folder cannot be made (no permission, a read-only disk)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        in_the_way = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise BadInput(_("{path} is a file, not a folder").format(path=in_the_way)) from None
    except OSError as e:
        raise BadInput(_("cannot create the folder {path}: {reason}").format(path=folder, reason=e.strerror)) from None
    return folder


def output_file(option: str, path: Path) -> Path:
    """Check a file a command is asked to write (a report, an export, a
    certificate) before any work: its folder must exist, be a folder and take
    new files, and the path must not be a folder or a device. Nothing creates
    missing folders for it: a typo in a path is refused, not built. BadInput
    (exit 2) naming the option and the folder; '-' (stdout) is not a file."""
    if str(path) == "-":
        return path
    folder = path.parent
    try:
        if path.is_dir():
            raise BadInput(_("{option} {path} is a folder: give a file name in it").format(option=option, path=path))
        if path.exists() and not path.is_file():
            raise BadInput(_("{option} {path} is not a regular file").format(option=option, path=path))
        if not folder.is_dir():
            if folder.exists():
                raise BadInput(_("{option} {path}: {folder} is not a folder").format(option=option, path=path, folder=folder))
            raise BadInput(_("{option} {path}: there is no folder {folder}").format(option=option, path=path, folder=folder))
    except OSError as e:  # a name too long, a loop of links
        raise BadInput(_("{option} {path}: {reason}").format(option=option, path=path, reason=e.strerror)) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(_("{option} {path}: cannot write in {folder}").format(option=option, path=path, folder=folder))
    return path


def file_mode(secret: bool = False) -> int:
    """The mode a new file gets: 0600 for a secret, else 0666 less the
    process's umask (what ``open()`` would give it)."""
    if secret:
        return 0o600
    try:  # Linux says it without changing it (changing it twice would race with other threads)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: bytes, secret: bool = False) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old or the new file,
    never half. The file gets 0666 less the umask, like any file a program
    writes; ``secret`` (a token, a private key): 0600 from the first byte."""
    import tempfile

    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600 while it is written
    except OSError as e:  # a read-only disk, no permission: the path given cannot take the file
        raise BadInput(_("cannot write {path}: {reason}").format(path=path, reason=e.strerror)) from None
    try:
        if not secret:
            os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
