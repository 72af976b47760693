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


class Spec:
    """A registered mutation: its service function (unwrapped), and whether its
    ``key``/``article`` argument names an existing ticket or article (False for
    one that makes it). (A plain class: a frozen dataclass costs every command
    a millisecond to define.)"""

    __slots__ = ("name", "fn", "resolves")

    def __init__(self, name: str, fn: Callable[..., Any], resolves: bool):
        self.name, self.fn, self.resolves = name, fn, resolves


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

    for module in ("tickets", "techs", "dispatch", "sweep", "evidence", "confirm", "cert", "qa", "kb", "approvals", "parts"):
        importlib.import_module(f"ticketctl.services.{module}")


class Call:
    """A mutation ready to run: its spec and its arguments, every key resolved
    to the exact ticket (or article) it changes."""

    __slots__ = ("spec", "args")

    def __init__(self, spec: Spec, args: dict[str, Any]):
        self.spec, self.args = spec, args

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
    server's first line of defence: a device may send anything): each argument
    is validated, strictly and at every depth, against the service function's
    annotations by a pydantic model made from its signature (:func:`args_model`:
    no coercion, no unknown argument, a ``FieldValue`` never a nested object),
    and all text is free of NUL characters and of sane length. BadInput names
    the first argument that fails, and why."""
    from pydantic import ValidationError

    from ticketctl.errors import BadInput

    model, extra = args_model(name)
    unknown = sorted(set(args) - set(model.model_fields)) if extra is None else []
    if unknown:
        raise BadInput(_("{name} takes no argument {arg!r}").format(name=name, arg=unknown[0]))
    try:
        model.model_validate({k: v for k, v in args.items() if k in model.model_fields})
        for arg, value in args.items():
            if arg not in model.model_fields and extra is not None:
                extra.validate_python(value)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "arguments"
        raise BadInput(_("{name}: {arg}: {why}").format(name=name, arg=where, why=err["msg"])) from None
    for arg, value in args.items():
        _clean(name, arg, value)


@functools.cache
def args_model(name: str) -> tuple[Any, Any]:
    """The pydantic model of mutation ``name``'s named arguments (strict), and a
    TypeAdapter for the values of its ``**kwargs`` (None when it takes none).
    Made once per name, on the server: a device never needs it."""
    from pydantic import ConfigDict, TypeAdapter, create_model

    target = SPECS[name].fn
    hints = typing.get_type_hints(target)
    fields: dict[str, Any] = {}
    extra = None
    for p in list(inspect.signature(target).parameters.values())[1:]:
        want = hints.get(p.name, Any)
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            extra = TypeAdapter(want, config=ConfigDict(strict=True))
        else:
            fields[p.name] = (want, ... if p.default is inspect.Parameter.empty else p.default)
    model = create_model(f"{name.replace('.', '_')}_args", __config__=ConfigDict(strict=True, extra="ignore"), **fields)
    return model, extra


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
