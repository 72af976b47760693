"""What every route, door and page of one server process shares: the
database, its epoch, the team's rules and the pages' default language, made
once by ``server.app.create_app`` and handed to routes as a dependency
(:data:`Ctx`).

A mutation runs on the server in an :class:`Env` like a command's on a device
(:func:`server_env`): the team's config, the pushing device's name as the actor
and its role, the server's writing transaction as the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from ticketctl.core.config import Config
from ticketctl.core.model import parse_time
from ticketctl.home import Home
from ticketctl.server.poke import Waker
from ticketctl.server.store.engine import now_iso
from ticketctl.server.store.team import ServerStore
from ticketctl.services.env import Env


def server_env(home: Home, cfg: Config, st: ServerStore, actor: str, now: datetime, role: str = "") -> Env:
    """The context a mutation runs in on the server: the team's config, the
    device's name as the actor and its role (which ``core.roles`` judges it by;
    '' for the server's own doors and pages), and the server's transaction as the store."""
    env = Env(home, {}, queue_mutations=False, device_role=role)
    env.__dict__.update(config=cfg, store=st, actor=actor, now=now)
    return env


@dataclass(frozen=True)
class Server:
    """One server process's shared state."""

    engine: Engine
    #: the database's identity: a restore from an older copy keeps it, a new database gets a new one
    epoch: str
    config: Config
    home: Home
    #: the customers' pages' language when the browser asks for none ticketctl speaks
    lang: str
    #: what waiting pulls await: the sequence moving, whoever moved it (``server.poke``)
    waker: Waker

    def env(self, st: ServerStore, actor: str, now: datetime | None = None, role: str = "") -> Env:
        """:func:`server_env` with this server's home and rules; ``now``: the server's clock."""
        return server_env(self.home, self.config, st, actor, now or parse_time(now_iso()), role)


def the_server(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


Ctx = Annotated[Server, Depends(the_server)]
