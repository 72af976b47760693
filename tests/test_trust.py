"""One place decides who may do what (``services.mutations.prepare`` over
``core.roles.RULES``), on the server whatever a device sends.

The property test drives every named mutation, from a device of every role,
on a ticket held by that device, by another technician and by nobody, with the
key spelled every way a device could send it (exact, lower case, mixed case,
padded with white space, a unique prefix), and checks the server's verdict
against the rule table, read here by a few lines of its own (:func:`allowed`):
what the table forbids is rejected and changes nothing; what it allows, in a
state where the workflow allows it too, is applied to the very ticket the key
names. A prefix is resolved by the device against its own store before it
queues; pushed raw, the server never guesses at one and refuses it unchanged.

Then the attacks that were found, each on SQLite and on PostgreSQL: a
technician's lowercase, padded and prefix keys on another's ticket, QA findings
and capacity from a technician, a squatted key prefix, a phone edit, and
device keys that are garbage or stolen.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_fixtures import bearer, home_in, pg_databases_fixture, pg_url_fixture  # noqa: F401

from ticketctl.core import roles
from ticketctl.server.admin import add_device
from ticketctl.server.app import create_app
from ticketctl.services import mutations

FIELDS = {"title": "boiler pressure low", "type": "install", "dept": "facilities", "product": "hvac",
          "customer": "Ada Lovelace", "phone": "+44 20 7946 0000"}
CHECKS = ["function_test", "site_clean", "customer_briefed"]
PHONE = FIELDS["phone"]

# the devices of the team: name, role, the key prefix they hold
DEVICES = (("tina", "technician", "TIN"), ("otto", "technician", "OTT"), ("dina", "dispatcher", "DIN"),
           ("sam", "supervisor", "SAM"), ("ada", "admin", "ADA"))
ACTORS = ("tina", "dina", "sam", "ada")  # one device of each role acts; otto holds the others' work


@dataclass
class Device:
    name: str
    role: str
    prefix: str
    token: str
    seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class Team:
    """A server (in process) and its devices, each pushing in its own order."""

    def __init__(self, db_url: str, root: Path):
        self.client = TestClient(create_app(db_url, home_in(root)))
        self.url = db_url
        self.devices: dict[str, Device] = {}
        for name, role, prefix in DEVICES:
            self.devices[name] = Device(name, role, prefix, add_device(db_url, name, role)["token"])
            hello = self.client.post("/sync/hello", json={"prefix": prefix}, headers=bearer(self.devices[name].token))
            assert hello.json()["prefix"] == prefix
        self.numbers = itertools.count(1)
        for name, _role, _prefix in DEVICES:  # everyone on the roster: a roster entry about oneself exists for each
            self.push_ok("dina", ("tech.add", {"name": name, "capacity": 10_000}))

    def push(self, who: str, *batch: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
        dev = self.devices[who]
        ms = [{"mutation_id": str(uuid.uuid4()), "client_seq": next(dev.seq), "name": n, "args": a,
               "client_ts": "2026-03-02T09:00:00Z"} for n, a in batch]
        r = self.client.post("/sync/push", json={"mutations": ms}, headers=bearer(dev.token))
        assert r.status_code == 200, r.text
        return list(r.json()["results"])

    def push_ok(self, who: str, *batch: tuple[str, dict[str, Any]]) -> None:
        results = self.push(who, *batch)
        assert all(r["status"] == "applied" for r in results), results

    def tickets(self, who: str = "dina") -> dict[str, dict[str, Any]]:
        r = self.client.get("/sync/snapshot", headers=bearer(self.devices[who].token))
        return {t["key"]: t for t in r.json()["tickets"]}

    def seq(self) -> int:
        """The server's high-water sequence number."""
        return int(self.client.post("/sync/hello", json={}, headers=bearer(self.devices["dina"].token)).json()["seq"])

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        r = self.client.get("/sync/pull", params={"after": after, "limit": 5000}, headers=bearer(self.devices["dina"].token))
        assert not r.json()["more"]
        return list(r.json()["events"])

    def new_key(self, who: str = "dina") -> str:
        return f"{self.devices[who].prefix}-{next(self.numbers)}"

    def ticket_in(self, state: str, holder: str | None) -> str:
        """A new ticket (made by the dispatcher) in ``state``, assigned to ``holder``."""
        key = self.new_key()
        steps: list[tuple[str, dict[str, Any]]] = [("ticket.create", {"key": key, "fields": FIELDS})]
        if holder is not None:
            steps.append(("ticket.assign", {"key": key, "name": holder}))
        path = {"new": [], "assigned": [], "in_progress": ["start"], "blocked": ["start", "block"],
                "resolved": ["start", "resolve"], "closed": ["start", "resolve", "close"]}[state]
        args = {"block": {"reason": "awaiting_parts", "details": {}}, "close": {"checks": CHECKS}}
        steps += [(f"ticket.{step}", {"key": key, **args.get(step, {})}) for step in path]
        self.push_ok("dina", *steps)
        return key


@dataclass(frozen=True)
class Case:
    """A mutation in a state where the workflow allows it: the ticket's state
    (None: the mutation names no ticket) and its arguments for a key and an actor."""

    name: str
    state: str | None
    args: Callable[[Team, str, str], dict[str, Any]]
    #: the arguments name someone (a roster entry, a delegation): the actor, or another
    about_self: bool | None = None
    #: applied whenever the table allows it (False: it may still be refused by rules other than the role's)
    full: bool = True


def _ts(_team: Team, key: str, _actor: str) -> dict[str, Any]:
    return {"key": key}


CASES = [
    Case("ticket.start", "assigned", _ts),
    Case("ticket.note", "assigned", lambda _t, k, _a: {"key": k, "text": "called the customer"}),
    Case("ticket.block", "in_progress", lambda _t, k, _a: {"key": k, "reason": "awaiting_parts", "details": {}}),
    Case("ticket.unblock", "blocked", _ts),
    Case("ticket.resolve", "in_progress", _ts),
    Case("ticket.close", "resolved", lambda _t, k, _a: {"key": k, "checks": CHECKS}),
    Case("ticket.reopen", "closed", lambda _t, k, _a: {"key": k, "reason": "leaking again"}),
    Case("ticket.edit", "assigned", lambda _t, k, _a: {"key": k, "changes": {"title": "boiler pressure very low"}}),
    Case("ticket.cancel", "assigned", lambda _t, k, _a: {"key": k, "reason": "duplicate"}),
    Case("ticket.assign", "new", lambda _t, k, _a: {"key": k, "name": "otto"}),
    Case("ticket.attach", "in_progress", lambda _t, k, _a: {
        "key": k, "sha256": uuid.uuid4().hex * 2, "name": "valve.jpg", "size": 10, "mime": "image/jpeg", "item": None,
        "captured_at": None, "at": "2026-03-02T09:00:00Z"}),
    Case("ticket.confirm", "resolved", lambda _t, k, _a: {"key": k, "ratings": [5, 5, 5], "comment": "warm again, thank you",
                                                          "by": "Ada"}),
    Case("ticket.confirm_request", "resolved", lambda _t, k, _a: {"key": k, "token_hash": "ab" * 32,
                                                                  "expires_at": "2030-01-01T00:00:00Z"}),
    Case("ticket.confirm_token", "resolved", lambda _t, k, _a: {"token": f"{k}.{'x' * 22}", "ratings": [5, 5, 5],
                                                                "comment": "warm again, thank you", "by": "Ada"}),
    Case("ticket.why", "in_progress", lambda _t, k, _a: {"key": k, "choice": "awaiting_parts"}, full=False),
    Case("ticket.certify", "closed", lambda _t, k, _a: {"key": k, "cert_id": "c1", "content_hash": "h", "key_id": "k",
                                                        "payload": "p"}, full=False),
    Case("approval.request", "in_progress", lambda _t, k, _a: {"key": k, "cost": 50.0, "what": "a valve", "attachments": []},
         full=False),
    Case("approval.approve", "blocked", lambda _t, k, _a: {"key": k}, full=False),
    Case("approval.reject", "blocked", lambda _t, k, _a: {"key": k, "reason": "too dear"}, full=False),
    Case("events.append", "assigned", lambda _t, k, _a: {"ticket": k, "drafts": [["ticket.linked", {"to": k, "role": "parent"}]]},
         full=False),
    Case("qa.record", "closed", lambda _t, k, _a: {"run": uuid.uuid4().hex[:12], "seed": 1, "rate": 1.0,
                                                    "results": [{"key": k, "ok": True, "issues": {}}]}),
    Case("ticket.create", None, lambda t, _k, a: {"key": t.new_key(a), "fields": {k: v for k, v in FIELDS.items() if k != "phone"}}),
    Case("tech.add", None, lambda _t, _k, _a: {"name": f"new{uuid.uuid4().hex[:8]}"}),
    Case("tech.update", None, lambda _t, _k, a: {"name": a, "zone": "north"}, about_self=True),
    Case("tech.update", None, lambda _t, _k, _a: {"name": "otto", "zone": "north"}, about_self=False),
    Case("approval.delegate", None, lambda _t, _k, a: {"name": a, "to": "otto", "starts": "2026-03-02T09:00:00Z",
                                                       "until": "2026-03-09T09:00:00Z"}, about_self=True),
    Case("approval.delegate", None, lambda _t, _k, _a: {"name": "otto", "to": "dina", "starts": "2026-03-02T09:00:00Z",
                                                        "until": "2026-03-09T09:00:00Z"}, about_self=False),
    Case("approval.undelegate", None, lambda _t, _k, a: {"name": a}, about_self=True, full=False),
    Case("kb.add", None, lambda t, _k, a: {"article": f"KB-{t.devices[a].prefix}-{next(t.numbers)}",
                                           "fields": {"title": "Resetting a boiler", "steps": "Hold reset 5 s.", "solution": "Reset it."}}),
]
# parts and stock: the server keeps no stock yet, so an allowed one is refused (never for the role)
CASES += [
    Case("part.add", None, lambda _t, _k, _a: {"sku": f"P{uuid.uuid4().hex[:8]}", "name": "sensor"}, full=False),
    Case("stock.place_add", None, lambda _t, _k, _a: {"name": f"s{uuid.uuid4().hex[:8]}", "kind": "store"}, full=False),
    Case("stock.receive", None, lambda _t, _k, _a: {"sku": "P1", "qty": 1, "place": "main"}, full=False),
    Case("stock.transfer", None, lambda _t, _k, _a: {"transfer": "TR-X-1", "sku": "P1", "qty": 1, "src": "a", "dst": "b"},
         full=False),
    Case("stock.arrived", None, lambda _t, _k, _a: {"transfer": "TR-X-1"}, full=False),
    Case("stock.count", None, lambda _t, _k, _a: {"sku": "P1", "qty": 1, "place": "main", "reason": "count"}, full=False),
    Case("part.need", "assigned", lambda _t, k, _a: {"key": k, "sku": "P1", "qty": 1}, full=False),
    Case("part.use", "in_progress", lambda _t, k, _a: {"key": k, "sku": "P1", "qty": 1}, full=False),
]
KB_CASES = [("kb.edit", lambda a: {"article": a, "fields": {"title": "Resetting any boiler"}}),
            ("kb.publish", lambda a: {"article": a}), ("kb.retire", lambda a: {"article": a, "reason": "outdated"})]

SPELLINGS: dict[str, Callable[[str], str]] = {
    "exact": lambda k: k, "lower": str.lower, "mixed": lambda k: k[:1].lower() + k[1:],
    "padded": lambda k: f" \t{k}\n", "padded lower": lambda k: f"  {k.lower()} ",
}


def allowed(role: str, actor: str, name: str, holder: str | None, args: dict[str, Any]) -> bool:
    """The rule table as a reader of ``core.roles`` takes it (not its code)."""
    rule = roles.RULES[name]
    if rule == roles.SERVER:
        return False
    if role != "technician":
        return True
    if rule == roles.QUEUE:
        return False
    if rule == roles.SELF:  # and on their roster entry, only what is theirs to change
        return args["name"] == actor and (name != "tech.update" or set(args) - {"name"} <= roles.SELF_SERVICE)
    if rule == roles.OWN:
        return holder == actor
    return "phone" not in args.get("fields", {})


#: the words of every refusal ``core.roles`` gives, and of no other
ROLE_WORDS = ("a technician may", "is assigned to", "is not assigned to anyone", "recorded only by the server")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    root = tmp_path_factory.mktemp("trust")
    return Team(f"sqlite:///{root / 'server.db'}", root)


def test_the_table_names_every_mutation() -> None:
    mutations.load_mutations()
    assert set(roles.RULES) == set(mutations.SPECS)
    assert {c.name for c in CASES} | {n for n, _a in KB_CASES} == set(mutations.SPECS)


def _judge(team: Team, actor: str, case: Case, key: str | None, holder: str | None, spelled: str | None, full: bool) -> None:
    role = team.devices[actor].role
    args = case.args(team, key or "", actor)
    sent = dict(args)
    if spelled is not None:
        arg = {"events.append": "ticket", "ticket.confirm_token": "token"}.get(case.name, "key")
        sent[arg] = spelled if arg != "token" else f"{spelled}.{'x' * 22}"
    seq = team.seq()
    (res,) = team.push(actor, (case.name, sent))
    written = team.events(after=seq)
    why = f"{role} {actor} {case.name} on {holder}'s ticket as {spelled!r}: {res}"
    if not allowed(role, actor, case.name, holder, args):
        assert res["status"] == "rejected", why
        assert any(w in res["reason"] for w in ROLE_WORDS), why
        assert written == [], why  # nothing changed: every change is an event
        return
    if full:
        assert res["status"] == "applied", why
        if key:  # on the very ticket the key names
            assert written and {e["ticket"] for e in written} == {key} and {e["mutation_id"] for e in written} == {res["mutation_id"]}, why
    elif res["status"] == "rejected":
        assert not any(w in res["reason"] for w in ROLE_WORDS), why


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", [c for c in CASES if c.state is not None], ids=lambda c: c.name)
def test_every_keyed_mutation_from_every_role_in_every_spelling_follows_the_table(team: Team, actor: str, case: Case) -> None:
    for holder, spell in itertools.product((actor, "otto", None), SPELLINGS.values()):
        if case.name == "ticket.assign" and holder is not None:
            continue  # assigning is tried on new, unassigned work
        if holder == actor and team.devices[actor].role != "technician":
            holder = "tina" if actor != "tina" else holder  # only technicians hold work
        state = case.state if holder is not None else "new"  # unassigned work is new; the workflow may refuse the rest
        key = team.ticket_in(state or "new", holder)
        _judge(team, actor, case, key, holder, spell(key) if case.name != "qa.record" else None, case.full and state == case.state)


def test_the_server_never_guesses_at_a_prefix(tmp_path: Path) -> None:
    """A device resolves a unique prefix against its own store before it queues
    (tests/test_trust_device.py); pushed raw, the server takes exact keys only."""
    t = Team(f"sqlite:///{tmp_path / 'server.db'}", tmp_path)
    key = t.new_key("ada")
    t.push_ok("ada", ("ticket.create", {"key": key, "fields": FIELDS}), ("ticket.assign", {"key": key, "name": "otto"}))
    for actor in ACTORS:
        for spelled in ("ADA-", "ad", key[:-1] if key[-1] != "-" else key):
            (res,) = t.push(actor, ("ticket.note", {"key": spelled, "text": "guessed"}))
            assert res["status"] == "rejected" and res["reason"] == f"no ticket {spelled!r}", res
    assert [e["type"] for e in t.events() if e["ticket"] == key] == ["ticket.created", "ticket.assigned"]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", [c for c in CASES if c.state is None], ids=lambda c: f"{c.name}-{c.about_self}")
def test_every_unkeyed_mutation_from_every_role_follows_the_table(team: Team, actor: str, case: Case) -> None:
    _judge(team, actor, case, None, None, None, case.full)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name, args", KB_CASES, ids=[n for n, _a in KB_CASES])
def test_every_article_mutation_from_every_role_follows_the_table(team: Team, actor: str, name: str,
                                                                  args: Callable[[str], dict[str, Any]]) -> None:
    for spell in SPELLINGS.values():
        article = f"KB-DIN-{next(team.numbers)}"
        fields = {"title": "Bleeding a radiator", "steps": "Open the valve.", "solution": "Bleed it."}
        team.push_ok("dina", ("kb.add", {"article": article, "fields": fields}))
        sent = spell(article)
        (res,) = team.push(actor, (name, {**args(article), "article": sent}))
        expect = allowed(team.devices[actor].role, actor, name, None, args(article))
        assert res["status"] == ("applied" if expect else "rejected"), (actor, name, sent, res)


def test_a_technician_may_not_write_a_phone_on_a_new_ticket(team: Team) -> None:
    key = team.new_key("tina")
    (res,) = team.push("tina", ("ticket.create", {"key": key, "fields": FIELDS}))
    assert res["status"] == "rejected"
    assert res["reason"] == "a technician may not set or change a customer's phone number (a dispatcher can)"
    assert key not in team.tickets()


# -- the attacks, on SQLite and PostgreSQL ----------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_team(request: pytest.FixtureRequest, tmp_path: Path) -> Team:
    url = f"sqlite:///{tmp_path / 'server.db'}" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    return Team(url, tmp_path)


def test_a_technician_cannot_reach_anothers_ticket_by_spelling_its_key(db_team: Team) -> None:
    t = db_team
    theirs = t.ticket_in("in_progress", "otto")
    closed = t.ticket_in("closed", "otto")
    for spelled in (theirs.lower(), f" {theirs}", f"{theirs}\n", theirs.lower().center(12), theirs[:-1] + theirs[-1]):
        for name, args in (("ticket.resolve", {}), ("ticket.note", {"text": "mine now"}), ("ticket.block", {
                "reason": "awaiting_parts", "details": {}}), ("ticket.edit", {"changes": {"title": "x"}})):
            (res,) = t.push("tina", (name, {"key": spelled, **args}))
            assert res["status"] == "rejected" and res["reason"] == f"{theirs} is assigned to otto, not to tina", (spelled, res)
    t.push_ok("dina", ("ticket.resolve", {"key": theirs}))
    for name, args in (("ticket.confirm", {"ratings": [5, 5, 5], "comment": "forged by someone", "by": "Ada"}),
                       ("ticket.close", {"checks": CHECKS})):
        (res,) = t.push("tina", (name, {"key": theirs.lower(), **args}))
        assert res["status"] == "rejected" and "assigned to otto" in res["reason"], res
    (res,) = t.push("tina", ("ticket.reopen", {"key": f" {closed.lower()} "}))
    assert res["status"] == "rejected" and "assigned to otto" in res["reason"], res
    snap = t.tickets()
    assert (snap[theirs]["status"], snap[theirs]["confirmation"], snap[closed]["status"]) == ("resolved", {}, "closed")
    assert not [e for e in t.events() if e["actor"] == "tina"]


def test_qa_findings_and_a_capacity_are_not_a_technicians_to_record(db_team: Team) -> None:
    t = db_team
    closed = t.ticket_in("closed", "tina")  # even on their own closed work
    (res,) = t.push("tina", ("qa.record", {"run": "r1", "seed": 1, "rate": 1.0, "results": [{"key": closed, "ok": True, "issues": {}}]}))
    assert res["status"] == "rejected" and res["reason"] == "a technician may not record: only dispatchers and supervisors may"
    (res,) = t.push("tina", ("tech.update", {"name": "tina", "capacity": 10}))
    assert res["status"] == "rejected" and "not capacity" in res["reason"], res
    (res,) = t.push("tina", ("tech.update", {"name": "tina", "on_shift": False, "zone": "north"}))  # their own shift and place
    assert res["status"] == "applied", res
    assert not [e for e in t.events() if e["type"] == "ticket.qa_checked"]
    (res,) = t.push("sam", ("qa.record", {"run": "r2", "seed": 1, "rate": 1.0, "results": [{"key": closed, "ok": True, "issues": {}}]}))
    assert res["status"] == "applied", res


def test_a_device_makes_only_keys_of_its_own_prefix(db_team: Team) -> None:
    t = db_team
    (res,) = t.push("tina", ("ticket.create", {"key": "DIN-900", "fields": {**FIELDS, "phone": ""}}))
    assert res["status"] == "rejected" and res["reason"].startswith("DIN-900 does not carry this device's key prefix TIN"), res
    (res,) = t.push("dina", ("ticket.create", {"key": "din-900", "fields": FIELDS}))  # not as a device spells its own
    assert res["status"] == "rejected" and "not PREFIX-NUMBER" in res["reason"], res
    (res,) = t.push("ada", ("events.append", {"ticket": "DIN-901", "drafts": [["ticket.created", {**FIELDS, "key": "DIN-901"}]]}))
    assert res["status"] == "rejected" and "key prefix ADA" in res["reason"], res
    (res,) = t.push("tina", ("kb.add", {"article": "KB-DIN-5", "fields": {"title": "Squatted", "solution": "x"}}))
    assert res["status"] == "rejected" and "key prefix TIN" in res["reason"], res
    # so the owner's own ticket and its notes land where they belong
    t.push_ok("dina", ("ticket.create", {"key": "DIN-900", "fields": FIELDS}), ("ticket.note", {"key": "DIN-900", "text": "mine"}))
    snap = t.tickets()
    assert "DIN-901" not in snap and snap["DIN-900"]["phone"] == PHONE
    assert [e["device"] for e in t.events() if e["ticket"] == "DIN-900"] == ["dina", "dina"]


def test_a_technician_can_neither_write_nor_probe_a_phone(db_team: Team) -> None:
    t = db_team
    key = t.ticket_in("assigned", "tina")
    replies = set()
    for guess in (PHONE, "+1 555 0100", ""):
        (res,) = t.push("tina", ("ticket.edit", {"key": key.lower(), "changes": {"phone": guess}}))
        assert res["status"] == "rejected", res
        replies.add(res["reason"])
    assert replies == {"a technician may not set or change a customer's phone number (a dispatcher can)"}  # a right guess reads the same
    assert t.tickets()[key]["phone"] == PHONE
    t.push_ok("tina", ("ticket.edit", {"key": key, "changes": {"title": "boiler fixed soon"}}))


# -- device keys ---------------------------------------------------------------------------


def _keypair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ticketctl.services.signing import key_id_of

    pem = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, key_id_of(pem)


def test_hello_refuses_a_garbage_or_stolen_key_and_the_others_keep_their_keys(db_team: Team) -> None:
    t = db_team
    pem, kid = _keypair()
    hello = t.client.post("/sync/hello", json={"prefix": "DIN", "public_key": pem, "key_id": kid},
                          headers=bearer(t.devices["dina"].token))
    assert hello.status_code == 200
    other_pem, other_kid = _keypair()
    for body, why in (({"public_key": "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n", "key_id": "abc"},
                       "not an Ed25519 public key"),
                      ({"public_key": other_pem, "key_id": kid}, "is not the id of that key"),
                      ({"public_key": pem, "key_id": kid}, "is enrolled by device dina"),
                      ({"public_key": other_pem}, "must be text")):
        r = t.client.post("/sync/hello", json=body, headers=bearer(t.devices["tina"].token))
        assert r.status_code == 422 and why in r.json()["detail"], (body, r.text)
    listed = t.client.get("/sync/keys", headers=bearer(t.devices["otto"].token)).json()["keys"]
    assert listed[kid]["device"] == "dina" and [k for k, v in listed.items() if v["device"] == "tina"] == []
    ok = t.client.post("/sync/hello", json={"public_key": other_pem, "key_id": other_kid}, headers=bearer(t.devices["tina"].token))
    assert ok.status_code == 200


def test_a_poisoned_key_from_an_older_server_is_skipped_by_everyone(db_team: Team) -> None:
    """A database written before hello checked keys may hold garbage and copies:
    the server lists only sound keys, each with the device that enrolled it first."""
    from sqlalchemy import update

    from ticketctl.server import schema as S
    from ticketctl.server.store.engine import engine_for

    pem, kid = _keypair()
    engine = engine_for(t.url) if (t := db_team) else None
    assert engine is not None
    with engine.begin() as c:
        c.execute(update(S.devices).where(S.devices.c.name == "dina").values(public_key=pem, key_id=kid))
        c.execute(update(S.devices).where(S.devices.c.name == "tina").values(public_key="garbage", key_id="deadbeef"))
        c.execute(update(S.devices).where(S.devices.c.name == "ada")  # a copy, by a device enrolled later
                  .values(public_key=pem, key_id=kid, created_at="2099-01-01T00:00:00Z"))
    engine.dispose()
    listed = t.client.get("/sync/keys", headers=bearer(t.devices["sam"].token)).json()["keys"]
    assert listed[kid]["device"] == "dina" and "deadbeef" not in listed
    assert json.dumps(listed).count(kid) == 1
