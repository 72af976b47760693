"""The one error root and the one exit-code table of ticketctl.

Core and services raise these; only the top of the CLI (``ticketctl.cli.main``)
turns them into a line on stderr and an exit code.

    0  ok
    1  the action was refused or failed (the message says why)
    2  bad usage or bad input
    3  the server is unreachable
"""

from __future__ import annotations

OK = 0
REFUSED = 1
BAD_INPUT = 2
UNREACHABLE = 3


class TicketctlError(Exception):
    """Base of every error a user can cause; carries its exit code."""

    exit_code = REFUSED


class Refused(TicketctlError):
    """The rules do not allow this action on this ticket now (illegal transition,
    missing checklist items, ...)."""


class NotFound(TicketctlError):
    """A ticket key or technician name that the store does not know."""


class BadInput(TicketctlError):
    """A value that can never be right: an unknown priority, a malformed time."""

    exit_code = BAD_INPUT


class ConfigError(BadInput):
    """The config file cannot be used; the message names the file and the key."""


class Unreachable(TicketctlError):
    """The sync server could not be reached; local work stays queued."""

    exit_code = UNREACHABLE
