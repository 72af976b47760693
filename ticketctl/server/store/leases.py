"""Leases on the team's scheduled jobs (``server.jobs``): the ``counters`` row
``job:NAME`` holds the unix time the job's next run may start."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ticketctl.server import schema as S


def take(engine: Engine, job: str, now: int, until: int) -> bool:
    """Take ``job``'s run at ``now`` (unix seconds), holding it ``until``: True
    for exactly one caller, by one conditional UPDATE (``value <= now``) that
    only one transaction can win, on SQLite and PostgreSQL alike (or the INSERT
    of the job's first row, which a second caller finds taken)."""
    name = f"job:{job}"
    try:
        with engine.begin() as c:
            won = c.execute(update(S.counters).where(S.counters.c.name == name, S.counters.c.value <= now)
                            .values(value=until)).rowcount
            if won:
                return True
            if c.execute(select(S.counters.c.value).where(S.counters.c.name == name)).first() is None:
                c.execute(insert(S.counters).values(name=name, value=until))
                return True
            return False
    except IntegrityError:  # another worker made the row first: its run
        return False
