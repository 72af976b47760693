"""The dates of ``calendar.country``, cached in a file beside the config.

Importing the ``holidays`` package costs ~45 ms and computing a country's years
a few more: more than a whole ``ticketctl list`` takes without it. The dates
change only with the package, so the first command after a country is set (or
the package is updated) computes them and writes ``holidays-cache.json`` beside
``config.toml``; later commands read that file (~25 KB for China) and never
import the package. The file holds one entry, keyed by country, subdivision,
package version and years; any other key, or a file that cannot be read, is a
miss, and a cache that cannot be written is skipped: it is only a cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ticketctl.core import country as countries

CACHE_NAME = "holidays-cache.json"


@contextmanager
def country_cache(config_file: Path, table: dict[str, Any]) -> Iterator[None]:
    """Around loading the config ``table`` read from ``config_file``: seed the
    country's dates from the cache before, write them to it after a load that
    computed them."""
    cal = table.get("calendar")
    country = cal.get("country") if isinstance(cal, dict) else None
    subdiv = cal.get("subdivision", "") if isinstance(cal, dict) else ""
    if not country or not isinstance(country, str) or not isinstance(subdiv, str):
        yield
        return
    version = package_version()
    if version is None:  # not installed: loading says so, naming the key
        yield
        return
    path = config_file.parent / CACHE_NAME
    key = f"{country}|{subdiv}|holidays {version}|{countries.YEARS.start}-{countries.YEARS.stop - 1}"
    hit = _read(path, key)
    if hit is not None and countries.cached(country, subdiv) is None:
        countries.remember(country, subdiv, hit)
    yield
    if hit is None and (days := countries.cached(country, subdiv)) is not None:
        _write(path, key, days)


def package_version() -> str | None:
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


def _read(path: Path, key: str) -> countries.CountryDays | None:
    import json

    try:
        entry = json.loads(path.read_text(encoding="utf-8"))[key]
        return countries.CountryDays(
            tuple(date.fromisoformat(d) for d in entry["holidays"]),
            tuple(date.fromisoformat(d) for d in entry["workdays"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, key: str, days: countries.CountryDays) -> None:
    import json

    from ticketctl.home import atomic_write

    entry = {"holidays": [d.isoformat() for d in days.holidays], "workdays": [d.isoformat() for d in days.workdays]}
    try:
        atomic_write(path, json.dumps({key: entry}, separators=(",", ":")).encode("utf-8"))
    except OSError:
        pass
