"""End to end, as cron runs it: `sweep` escalates a silent urgent ticket while the
webhook is down; the next sweeps deliver it once the endpoint is back, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from test_notify import Receiver

from ticketctl.cli import main
from ticketctl.services.env import Env


def run(home: Path, now: str, *argv: str, capsys) -> tuple[int, dict]:
    code = main(list(argv), env=Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": now, "TICKETCTL_USER": "cron"}))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip().startswith("{") else {})


def test_a_webhook_that_was_down_gets_the_escalation_when_it_comes_back(tmp_path: Path, capsys) -> None:
    rx = Receiver()  # listening on 127.0.0.1, a free port
    try:
        (tmp_path / "config.toml").write_text(
            f'[notify]\ntimeout = 3.0\ntries_per_run = 1\n[notify.targets.ops]\nurl = "{rx.url()}"\nformat = "slack"\n')
        code, t = run(tmp_path, "2026-03-02T09:10:00Z", "new", "payment gateway down", "--type", "incident", "--dept", "it",
                      "--product", "payments", "--priority", "urgent", "--skills", "quantum", "--json", capsys=capsys)
        assert code == 0
        rx.down()
        code, r = run(tmp_path, "2026-03-02T11:15:00Z", "sweep", "--json", capsys=capsys)
        assert code == 0
        silent = [a for a in r["actions"] if a["rule"] == "silent"]
        assert [a["key"] for a in silent] == [t["key"]]
        assert r["notifications"]["sent"] == 0 and r["notifications"]["pending"] >= 1
        assert main(["notify", "list", "--status", "pending", "--json"],
                    env=Env.from_environ({"TICKETCTL_HOME": str(tmp_path), "TICKETCTL_NOW": "2026-03-02T11:15:00Z"})) == 0
        rows = json.loads(capsys.readouterr().out)
        assert any(r_["ticket"] == t["key"] and r_["rule"] == "silent" and r_["last_error"] == "connection refused" for r_ in rows)
        rx.up()  # back, on the same port
        code, r2 = run(tmp_path, "2026-03-02T11:20:00Z", "sweep", "--json", capsys=capsys)
        assert code == 0 and [a for a in r2["actions"] if a["rule"] == "silent"] == []  # escalated once only
        assert r2["notifications"]["pending"] == 0
        texts = [b["text"] for b in rx.bodies()]
        assert sum(f"silent: {t['key']}" in x for x in texts) == 1, texts
        code, _ = run(tmp_path, "2026-03-02T11:40:00Z", "sweep", "--json", capsys=capsys)
        assert code == 0 and sum(f"silent: {t['key']}" in b["text"] for b in rx.bodies()) == 1  # never twice
    finally:
        rx.down()
