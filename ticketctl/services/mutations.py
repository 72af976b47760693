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

and give it a rule in ``core.roles.RULES``. Its arguments must be JSON values
(they travel to the server).

Every mutation, whoever calls it, goes through one pipeline (:func:`perform`):
:func:`prepare` resolves an argument named ``key`` to the exact ticket key
(and ``article`` to the exact article id) once, then decides whether this
device's role may change *that* ticket (``core.roles``), then the function
runs inside the mutation's intent. The CLI, the dashboard and the server's
``/sync/push`` all come through it, so a rule cannot hold for one spelling of
a key and not for another. Events written outside any mutation (the sweep's
escalations, batch parents) are queued one by one as ``events.append`` and
accepted by the server only for system events.
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

#: every registered mutation by name, as Python calls it (through :func:`perform`)
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


@dataclass(frozen=True)
class Spec:
    """A registered mutation: its service function (unwrapped), and whether its
    ``key``/``article`` argument names an existing ticket or article (False for
    one that makes it)."""

    name: str
    fn: Callable[..., Any]
    resolves: bool


#: every mutation's spec by name (what :func:`prepare` looks names up in)
SPECS: dict[str, Spec] = {}


def mutation(name: str, resolve_key: bool = True) -> Callable[[F], F]:
    """Register a service function as the mutation ``name`` (see the module doc);
    ``resolve_key=False`` for one that makes the ticket (or article) its
    ``key`` (``article``) names.

    Called from Python, the function runs through :func:`perform` (resolved,
    checked, queued); called inside another mutation it is part of that one and
    runs as it is, with the exact keys its caller read from the store."""

    def wrap(fn: F) -> F:
        sig = inspect.signature(fn)
        SPECS[name] = Spec(name, fn, resolve_key)

        @functools.wraps(fn)
        def run(env: Env, *args: Any, **kwargs: Any) -> Any:
            if env.intent is not None:
                return fn(env, *args, **kwargs)
            bound = sig.bind(env, *args, **kwargs)
            bound.apply_defaults()
            call: dict[str, Any] = {}
            for pname, value in list(bound.arguments.items())[1:]:
                if sig.parameters[pname].kind is inspect.Parameter.VAR_KEYWORD:
                    call.update(value)
                else:
                    call[pname] = value
            return perform(env, name, call)

        REGISTRY[name] = run
        return run  # type: ignore[return-value]

    return wrap


def load_mutations() -> None:
    """Import every module that registers mutations (the server must know every
    name before the first push that uses it)."""
    import importlib

    for module in ("tickets", "techs", "dispatch", "sweep", "evidence", "confirm", "cert", "qa", "kb", "approvals"):
        importlib.import_module(f"ticketctl.services.{module}")


@dataclass(frozen=True)
class Call:
    """A mutation ready to run: its spec and its arguments, every key resolved
    to the exact ticket (or article) it changes."""

    spec: Spec
    args: dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec.name

    def run(self, env: Env) -> Any:
        return self.spec.fn(env, **self.args)


def prepare(env: Env, name: str, args: dict[str, Any], check: bool = False) -> Call:
    """The one place that decides whether this device (``env.role``, acting as
    ``env.principal``) may send mutation ``name`` with ``args``.

    It resolves the ticket key once (``resolve_key`` of the store: the same
    normalisation on every store), then asks ``core.roles`` about the ticket
    the mutation will actually change, field permissions included. A key the
    mutation makes (``ticket.create``, ``kb.add``, a ticket created by
    ``events.append``) must carry this device's own prefix.

    ``check``: first check the arguments' shapes (the server, for whatever a
    device sent: :func:`check_args`). Raises NotFound for an unknown key,
    Refused for what the role may not do, BadInput for malformed arguments."""
    from ticketctl.core import roles
    from ticketctl.errors import Refused

    spec = SPECS.get(name)
    if spec is None:
        raise Refused(_("unknown action {name!r} (is the server older than the client?)").format(name=name))
    if check:
        check_args(name, args)
    args = dict(args)
    st = env.mutation_store
    ticket = None
    if spec.resolves and isinstance(args.get("key"), str):
        args["key"] = st.resolve_key(args["key"])
        ticket = st.ticket(args["key"])
    if spec.resolves and isinstance(args.get("article"), str):
        args["article"] = st.resolve_article(args["article"])
    made = _made_key(name, args)
    if made is not None:
        arg, key = made
        own = st.meta("key_prefix", "")
        if name == RAW and st.has_ticket(key):  # system events on a ticket that exists
            args[arg] = key
            ticket = st.ticket(key)
        elif key.rsplit("-", 1)[0] != (f"KB-{own}" if name == "kb.add" else own):
            raise Refused(_("{key} does not carry this device's key prefix {prefix}: a device makes only keys of its own").format(
                key=key, prefix=own or "-"))
    role = env.role
    if role:
        why = roles.refusal(role, env.principal, name, ticket, args)
        if why:
            if env.queue_mutations:  # on the device: refused at once instead of queued and refused later
                why = _("{why} (the server enforces this for a {role}'s device)").format(why=why, role=role)
            raise Refused(why)
    return Call(spec, args)


def _made_key(name: str, args: dict[str, Any]) -> tuple[str, str] | None:
    """(argument, normalised key) of the ticket or article this mutation makes
    (or, for ``events.append``, may make); None when it makes none. The key
    itself stays as sent: the function refuses one not spelled as a device makes it."""
    arg = {"ticket.create": "key", "kb.add": "article", RAW: "ticket"}.get(name)
    if arg is None or not isinstance(args.get(arg), str):
        return None
    return arg, str(args[arg]).strip().upper()


def perform(env: Env, name: str, args: dict[str, Any], mutation_id: str | None = None, check: bool = False) -> Any:
    """Run mutation ``name`` as one user action: :func:`prepare`, then the
    service function inside the mutation's intent (its events carry
    ``mutation_id``; on a device the outbox gets it)."""
    call = prepare(env, name, args, check)
    with intent(env, name, call.args, mutation_id):
        return call.run(env)


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
    target = SPECS[name].fn
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
