"""ticketctl edit: plain fields, priority (SLA targets follow) and department, each an event."""

from __future__ import annotations

import json

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.services import rebuild
from ticketctl.services.env import Env

MON = "2026-03-02T09:00:00Z"


def env_at(home, now=MON):
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "disp"})


def run(home, *argv, now=MON, capsys):
    code = main(list(argv), env=env_at(home, now))
    out, err = capsys.readouterr()
    return code, out, err


def test_edit_fields_priority_and_dept(tmp_path, capsys):
    code, out, _ = run(tmp_path, "new", "No cooling", "--type", "repair", "--dept", "fac", "--product", "hvac",
                       "--priority", "low", "--json", capsys=capsys)
    t = json.loads(out)
    assert t["sla_resolve_due"] == "2026-03-11T09:00:00Z"  # low: 7 business days
    code, out, _ = run(tmp_path, "edit", t["key"], "--priority", "high", "--dept", "it", "--zone", "east",
                       "--skills", "hvac,electrical", "--json", now="2026-03-02T10:00:00Z", capsys=capsys)
    e = json.loads(out)
    assert code == 0
    assert (e["priority"], e["dept"], e["zone"], e["skills"]) == ("high", "it", "east", ["hvac", "electrical"])
    # high: 8 business hours from the creation, one hour of which is used: due 17:00
    assert e["sla_resolve_due"] == "2026-03-02T17:00:00Z"
    code, out, _ = run(tmp_path, "show", t["key"], "--json", capsys=capsys)
    tl = json.loads(out)["timeline"]
    assert [x["type"] for x in tl] == ["ticket.created", "ticket.reprioritized", "ticket.transferred",
                                      "ticket.edited", "ticket.edited"]
    assert tl[3]["payload"] == {"field": "zone", "value": "east", "previous": ""}
    assert len({x["mutation_id"] for x in tl[1:]}) == 1  # one action, one mutation
    env = env_at(tmp_path)
    assert rebuild.differences(env.store, env.config) == []
    env.close()


def test_edit_refusals_write_nothing(tmp_path, capsys):
    _, key, _ = run(tmp_path, "new", "x", "--type", "incident", "--dept", "d", "--product", "p", capsys=capsys)
    key = key.strip()
    for argv, code, msg in (
        (["edit", key, "--product", "p"], errors.REFUSED, f"nothing to change on {key}"),
        (["edit", key, "--impact", "moon"], errors.BAD_INPUT, "unknown impact 'moon'"),
        (["edit", key, "--priority", "sky"], errors.BAD_INPUT, "unknown priority 'sky'"),
        (["edit", key, "--title", "  "], errors.BAD_INPUT, "a ticket needs a title"),
    ):
        got, out, err = run(tmp_path, *argv, capsys=capsys)
        assert (got, out) == (code, "") and err == f"ticketctl: error: {msg}" + err.split(msg, 1)[1]
        assert msg in err and err.count("\n") == 1
    run(tmp_path, "cancel", key, "--reason", "dup", capsys=capsys)
    got, _, err = run(tmp_path, "edit", key, "--zone", "x", capsys=capsys)
    assert got == errors.REFUSED and "it is cancelled" in err
    env = env_at(tmp_path)
    assert [e.type for e in env.store.events(key)] == ["ticket.created", "ticket.cancelled"]
    env.close()
