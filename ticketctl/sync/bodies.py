"""The sync protocol's request bodies, which the server validates (and
publishes in its OpenAPI schema) and ``docs/sync.md`` documents for clients.

Replies are plain JSON objects, described field by field in the endpoint
docstrings; every reply carries the server's ``epoch``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ticketctl.sync.protocol import MAX_HISTORY, MAX_PUSH


class Hello(BaseModel):
    """A client introducing itself (``sync setup`` and every sync)."""

    prefix: str = Field("", max_length=12, pattern=r"^[A-Z]{0,12}$", description="The ticket key prefix this device uses.")
    public_key: str | None = Field(None, max_length=4000, pattern=r"^[^\x00]*$",
                                   description="PEM of the device's certificate signing key.")
    key_id: str | None = Field(None, max_length=64, pattern=r"^[0-9A-Za-z_.:-]*$")


class Mutation(BaseModel):
    """One queued user action, by name, with its JSON arguments."""

    mutation_id: str = Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")
    client_seq: int = Field(ge=1, le=2**62, description="This device's push order: 1, 2, 3, ... without gaps.")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_.]+$", description="ticket.start, ticket.assign, tech.add, ...")
    args: dict[str, Any] = Field(default_factory=dict)
    client_ts: str = Field(min_length=1, max_length=40, pattern=r"^[0-9T:.+Z-]+$", description="When it was made on the device (ISO-8601).")


class Push(BaseModel):
    mutations: list[Mutation] = Field(max_length=MAX_PUSH)


class HistoryEvent(BaseModel):
    """One event written on a device outside any mutation (an import, ``demo``),
    with its identity: the same id uploaded twice is stored once."""

    id: str = Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")
    mutation_id: str = Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")
    ticket: str | None = Field(None, max_length=64)
    type: str = Field(min_length=1, max_length=64, pattern=r"^(ticket|tech)\.[a-z_]+$")
    payload: dict[str, Any] = Field(default_factory=dict)
    actor: str = Field(min_length=1, max_length=200)
    device: str = Field(min_length=1, max_length=200)
    at: str = Field(min_length=1, max_length=40, pattern=r"^[0-9T:.+Z-]+$")


class History(BaseModel):
    events: list[HistoryEvent] = Field(max_length=MAX_HISTORY)
