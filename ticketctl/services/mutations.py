"""Named mutations: every user action that changes shared state is one.

A mutation is the *intent* (``ticket.start`` on ``ABC-12``), not its result.
The client runs it against its own store at once (the technician sees the
change offline) and queues ``(name, args)`` in the outbox in the same
transaction; the server later runs the very same function again, by name,
against the team's state, where it may be refused (``docs/sync.md``).

Writing a new action::

    @mutation("ticket.attach")
    def attach(env: Env, key: str, sha256: str) -> dict[str, Any]:
        return act(env, key, lambda t: workflow.decide_attach(t, sha256))

Its arguments must be JSON values (they travel to the server). An argument
named ``key`` is resolved to the exact ticket key before the intent is
queued, so the server never guesses at a prefix; so is one named ``article``
to the exact knowledge article id. Events written outside any
mutation (the sweep's escalations, batch parents) are queued one by one as
``events.append`` and accepted by the server only for system events.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ticketctl.i18n import _
from ticketctl.services.env import Env

#: every registered mutation by name; the server looks names up here
REGISTRY: dict[str, Callable[..., Any]] = {}

#: the mutation that carries events written outside any named action
RAW = "events.append"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Intent:
    """One mutation in flight: its id (shared by the events it writes), its
    name and JSON arguments, and whether the outbox already holds it."""

    name: str
    args: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    queued: bool = False


@contextmanager
def intent(env: Env, name: str, args: dict[str, Any], mutation_id: str | None = None) -> Iterator[Intent]:
    """Run the body as mutation ``name``: every event it records carries the
    intent's id, and the outbox gets one row for it. Nested intents belong to
    the outer one (one user action, one mutation)."""
    if env.intent is not None:
        yield env.intent
        return
    env.intent = Intent(name, args, mutation_id or str(uuid.uuid4()))
    try:
        yield env.intent
    finally:
        env.intent = None


def mutation(name: str, resolve_key: bool = True) -> Callable[[F], F]:
    """Register a service function as the mutation ``name`` (see the module doc);
    ``resolve_key=False`` for one that makes the ticket its ``key`` names."""

    def wrap(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def run(env: Env, *args: Any, **kwargs: Any) -> Any:
            if env.intent is not None:
                return fn(env, *args, **kwargs)
            bound = sig.bind(env, *args, **kwargs)
            bound.apply_defaults()
            if resolve_key and isinstance(bound.arguments.get("key"), str):
                bound.arguments["key"] = env.store.resolve_key(bound.arguments["key"])
            if resolve_key and isinstance(bound.arguments.get("article"), str):
                bound.arguments["article"] = env.store.resolve_article(bound.arguments["article"])
            call: dict[str, Any] = {}
            for pname, value in list(bound.arguments.items())[1:]:
                if sig.parameters[pname].kind is inspect.Parameter.VAR_KEYWORD:
                    call.update(value)
                else:
                    call[pname] = value
            _check_role(env, name, call)
            with intent(env, name, call):
                return fn(*bound.args, **bound.kwargs)

        REGISTRY[name] = run
        return run  # type: ignore[return-value]

    return wrap


def _check_role(env: Env, name: str, args: dict[str, Any]) -> None:
    """On a synced device, refuse at once what the server would refuse for this
    device's role (the same rules, ``core.roles``), instead of queueing it."""
    st = env.store
    role = st.meta("sync_role", "")
    if not role:
        return
    from ticketctl.core.roles import refusal
    from ticketctl.errors import Refused

    key = args.get("key") if isinstance(args.get("key"), str) else None
    ticket = st.ticket(key) if key is not None and st.has_ticket(key) else None
    why = refusal(role, st.meta("sync_device", "") or env.actor, name, ticket, args)
    if why:
        raise Refused(_("{why} (the server enforces this for a {role}'s device)").format(why=why, role=role))


def check_args(name: str, args: dict[str, Any]) -> None:
    """Refuse arguments a mutation could never have been queued with (the
    server's first line of defence: a device may send anything). Checks each
    argument against the service function's annotations, and that text is
    free of NUL characters and of sane length."""
    from ticketctl.errors import BadInput

    hints, named, extra = _signature(name)
    for arg, value in args.items():
        if arg in named:
            want = hints.get(arg, Any)
        elif extra is not None:
            want = hints.get(extra.name, Any)
        else:
            raise BadInput(_("{name} takes no argument {arg!r}").format(name=name, arg=arg))
        if not _fits(value, want):
            raise BadInput(_("{name}: {arg} must be {want}, not {got}").format(
                name=name, arg=arg, want=getattr(want, "__name__", want), got=type(value).__name__))
        _clean(name, arg, value)
    missing = [p.name for p in named.values() if p.default is inspect.Parameter.empty and p.name not in args]
    if missing:
        raise BadInput(_("{name} needs {args}").format(name=name, args=", ".join(missing)))


@functools.cache
def _signature(name: str) -> tuple[dict[str, Any], dict[str, inspect.Parameter], inspect.Parameter | None]:
    """A mutation's annotations, named parameters and ``**kwargs`` parameter (read once)."""
    fn = REGISTRY[name]
    target = getattr(fn, "__wrapped__", fn)
    params = list(inspect.signature(target).parameters.values())[1:]
    named = {p.name: p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD}
    extra = next((p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
    return typing.get_type_hints(target), named, extra


def _fits(value: Any, want: Any) -> bool:
    """Whether a JSON value fits a (simple) annotation."""
    if want is Any:
        return True
    origin = typing.get_origin(want)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, w) for w in typing.get_args(want))
    if want is type(None):
        return value is None
    if origin is not None:
        want = origin
    if want is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if want is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, want)


def _clean(name: str, arg: str, value: Any, depth: int = 0) -> None:
    from ticketctl.errors import BadInput

    if depth > 8:
        raise BadInput(_("{name}: {arg} is nested too deeply").format(name=name, arg=arg))
    if isinstance(value, str):
        if "\x00" in value or len(value) > 20_000:
            raise BadInput(_("{name}: {arg} holds a NUL character or is longer than 20,000 characters").format(name=name, arg=arg))
    elif isinstance(value, dict):
        for k, v in value.items():
            _clean(name, arg, k, depth + 1)
            _clean(name, arg, v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _clean(name, arg, v, depth + 1)


def raw_intent(key: str | None, drafts: list[tuple[str, dict[str, Any]]]) -> Intent:
    """The intent for events written outside a named mutation."""
    return Intent(RAW, {"ticket": key, "drafts": [[typ, payload] for typ, payload in drafts]})
