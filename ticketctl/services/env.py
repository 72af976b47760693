"""The injected context of one invocation: where, who, when.

Commands build one :class:`Env` from the process environment; tests build one
with a fixed clock and a temporary home and call services directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ticketctl.errors import BadInput
from ticketctl.home import Home
from ticketctl.i18n import _, ngettext

if TYPE_CHECKING:  # imported where first used: `ticketctl --help` needs neither
    from ticketctl.core.config import Config
    from ticketctl.store.db import Store
    from ticketctl.store.protocol import MutationStore


@dataclass
class Env:
    """Paths, identity and clock of one command; the store opens on first use."""

    home: Home
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: the mutation being run (``services.mutations.Intent``), set by ``mutations.intent``
    intent: Any = field(default=None, repr=False)
    #: queue each mutation in the outbox for the server; the server itself does not
    queue_mutations: bool = True
    #: where a one-line notice for the person waiting goes (the CLI: stderr); None: nowhere
    notice: Any = field(default=None, repr=False)
    #: on the server: the role of the device whose mutation runs (None on a device: its own, see :attr:`role`)
    device_role: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Env:
        env = dict(os.environ if environ is None else environ)
        return cls(Home.from_env(env), env)

    @cached_property
    def now(self) -> datetime:
        """One "now" per invocation: ``TICKETCTL_NOW`` (ISO-8601) or the clock."""
        fixed = self.environ.get("TICKETCTL_NOW")
        if not fixed:
            return datetime.now(UTC).replace(microsecond=0)
        from ticketctl.core.model import OutOfRange, out_of_range, parse_moment

        try:
            return parse_moment(fixed)
        except OutOfRange:
            raise BadInput(out_of_range(f"TICKETCTL_NOW={fixed!r}")) from None
        except ValueError:
            raise BadInput(_("TICKETCTL_NOW={value!r} is not an ISO-8601 time like 2026-03-02T09:00:00Z").format(value=fixed)) from None

    @cached_property
    def config(self) -> Config:
        from ticketctl.home import load_config

        return load_config(self.home.config_file)

    @cached_property
    def actor(self) -> str:
        """Who is acting: ``TICKETCTL_USER``, else the config's ``me``, else the OS user."""
        name = self.environ.get("TICKETCTL_USER") or self.config.me
        if name:
            from ticketctl.core.inputs import check_text

            check_text("TICKETCTL_USER" if self.environ.get("TICKETCTL_USER") else "me", name)
        else:
            import getpass

            try:
                name = getpass.getuser()
            except (KeyError, OSError):  # no login name (some containers)
                name = "unknown"
        return name

    @property
    def role(self) -> str:
        """The role the team's rules judge this invocation by (``core.roles``): on
        the server, the pushing device's; on a device, the one its sync server
        gave it ('' on a device that never synced: its own store, no team rules)."""
        if self.device_role is not None:
            return self.device_role
        return self.store.meta("sync_role", "")

    @property
    def principal(self) -> str:
        """The name those rules know this device by: the server's name for it (a
        ticket's assignee is compared with it), else :attr:`actor`."""
        if self.device_role is not None:
            return self.actor
        return self.store.meta("sync_device", "") or self.actor

    @cached_property
    def store(self) -> Store:
        from ticketctl.store.db import Store

        st = Store(self.home.store_file)
        rules = self.config.rules_fingerprint
        # a migration added projection columns, or the calendar / SLA rules changed since the
        # projections were folded (`config set calendar.country CN` moves every due time)
        changed = st.meta("rules", rules) != rules
        if st.meta("rebuild_needed", "0") == "1" or changed:
            from ticketctl.services.rebuild import rebuild

            if changed and self.notice is not None:
                n = st.count_tickets()
                self.notice(ngettext("the calendar or SLA rules changed: folding the clock of {n} ticket again",
                                     "the calendar or SLA rules changed: folding the clocks of {n} tickets again", n).format(n=n))
            rebuild(st, self.config)
        if st.meta("rules", "") != rules:
            with st.transaction():
                st.set_meta("rules", rules)
        return st

    @property
    def mutation_store(self) -> MutationStore:
        """The store as a mutation sees it (``store.protocol.MutationStore``): on a
        device its own :attr:`store`, on the server the team's state inside the
        running transaction (``server.context.server_env`` puts it in :attr:`store`).
        The mutation services use only this, so mypy proves they call nothing
        the server's store lacks."""
        return self.store

    def public_url(self, given: str | None = None) -> str:
        """The server's base URL for the links customers open (confirmation,
        certificate checks): ``given``, else the config's ``proof.url``, else
        the sync server's; '' when there is none."""
        return (given or self.config.proof.url or self.home.server_url() or "").rstrip("/")

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]
