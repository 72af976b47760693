"""Closing with proof through a real server: the customer confirms on the
server's page from the QR link, the certificate issued offline is valid at once
and countersigned once synced, anyone can check it at /v/..., and a revoked
device's certificates stop verifying everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_helpers import Server, client, fresh

from ticketctl.services import cert, confirm, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import admin
from ticketctl.sync import client as sync

CHECKS = ["function_test", "safety_reset", "parts_recorded"]
FORM = {"rating": ["5", "4", "5"], "comment": "Works again, thank you!", "by": "Mrs Li"}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


def joined(server: Server, root: Path, name: str, role: str, **environ: str) -> Env:
    env = client(root, name)
    env = Env(env.home, {**env.environ, **environ})
    sync.setup(env, server.url, server.token(name, role))
    return env


def resolved_repair(server: Server, tmp_path: Path) -> tuple[Env, Env, str]:
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac"})["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.start(ana, k)
    tickets.resolve(ana, k)
    return disp, ana, k


def post_form(url: str, form: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, data=form, timeout=10)


def test_the_customer_confirms_on_the_servers_page_once(server: Server, tmp_path: Path) -> None:
    disp, ana, k = resolved_repair(server, tmp_path)
    link = confirm.request_qr(ana, k)  # the base URL comes from the sync setup
    assert link["url"].startswith(f"{server.url}/c/{k}.")
    sync.sync(ana)
    page = httpx.get(link["url"], timeout=10)
    assert page.status_code == 200 and "Chiller alarm" in page.text and 'name="comment"' in page.text
    done = post_form(link["url"], FORM)
    assert done.status_code == 200 and "Thank you" in done.text
    again = post_form(link["url"], FORM)
    assert again.status_code == 409 and "already used" in again.text
    assert "was already used" in httpx.get(link["url"], timeout=10).text
    sync.sync(ana)
    got = fresh(ana).store.ticket(k).confirmation
    assert (got["by"], got["via"], got["comment"]) == ("Mrs Li", "qr", FORM["comment"])
    assert list(got["ratings"].values()) == [5, 4, 5]
    sync.sync(disp)
    assert fresh(disp).store.ticket(k).confirmation["by"] == "Mrs Li"


def test_bad_and_expired_links_record_nothing(server: Server, tmp_path: Path) -> None:
    _disp, ana, k = resolved_repair(server, tmp_path)
    past = Env(ana.home, {**ana.environ, "TICKETCTL_NOW": "2026-01-05T09:00:00Z"})
    link = confirm.request_qr(past, k)
    sync.sync(fresh(ana))
    assert "expired" in httpx.get(link["url"], timeout=10).text
    r = post_form(link["url"], FORM)
    assert r.status_code == 409 and "expired" in r.text
    assert httpx.get(f"{server.url}/c/{k}.not-a-real-token-at-all", timeout=10).status_code == 404
    fresh_link = confirm.request_qr(fresh(ana), k)
    sync.sync(fresh(ana))
    r = post_form(fresh_link["url"], {**FORM, "comment": "short"})
    assert r.status_code == 409 and "10 characters" in r.text
    sync.sync(fresh(ana))
    assert fresh(ana).store.ticket(k).confirmation == {}


def test_an_offline_certificate_is_valid_at_once_and_countersigned_after_sync(server: Server, tmp_path: Path) -> None:
    disp, ana, k = resolved_repair(server, tmp_path)
    confirm.confirm(ana, k, [5, 5, 4], "Fixed and explained well", "Mr Ode")
    tickets.close(ana, k, CHECKS)
    out = cert.issue(ana, k, tmp_path / "cert.pdf")
    assert out["qr"].startswith(f"{server.url}/v/")
    v = cert.verify(ana, str(tmp_path / "cert.pdf"))
    assert v["valid"] and not v["countersigned"], v
    v = httpx.get(f"{out['qr']}?format=json", timeout=10).json()
    assert v["valid"] and not v["countersigned"] and "has not reached the server yet" in v["warnings"][0]

    sync.sync(ana)
    assert cert.verify(fresh(ana), str(tmp_path / "cert.pdf"))["countersigned"]
    v = httpx.get(f"{out['qr']}?format=json", timeout=10).json()
    assert v["valid"] and v["countersigned"] and v["warnings"] == []
    assert "Certificate valid" in httpx.get(out["qr"], timeout=10).text

    sync.sync(disp)  # the dispatcher learns ana's key from the server: verifies offline too
    assert cert.verify(fresh(disp), out["qr"])["valid"]
    i = len(out["qr"]) - 5
    tampered = out["qr"][:i] + ("A" if out["qr"][i] != "A" else "B") + out["qr"][i + 1:]
    assert not httpx.get(f"{tampered}?format=json", timeout=10).json()["valid"]
    assert httpx.get(tampered, timeout=10).status_code == 422

    admin.revoke(server.db, "ana")
    sync.sync(fresh(disp))
    v = cert.verify(fresh(disp), out["qr"])
    assert not v["valid"] and v["reason"].startswith("revoked key")
    v = httpx.get(f"{out['qr']}?format=json", timeout=10).json()
    assert not v["valid"] and v["reason"].startswith("revoked key")


def test_the_server_refuses_a_certificate_not_signed_by_the_devices_key(server: Server, tmp_path: Path) -> None:
    disp, ana, k = resolved_repair(server, tmp_path)
    confirm.confirm(ana, k, [5, 5, 5], "All good, thank you", "Mr Ode")
    tickets.close(ana, k, CHECKS)
    sync.sync(ana)
    real = cert.issue(ana, k, tmp_path / "real.pdf")
    ana = fresh(ana)
    with ana.store.transaction():  # swap the queued certify's key id for one the server does not know for ana
        ana.store.db.execute("UPDATE outbox SET args = replace(args, ?, ?) WHERE name = 'ticket.certify'",
                             (real["key_id"], "0" * len(real["key_id"])))
    r = sync.sync(ana)
    assert r["rejected"] and "not accepted" in r["rejected"][0]["reason"]
    assert not fresh(ana).store.ticket(k).certificates, "the refused certificate is undone locally"
    sync.sync(disp)
    assert not fresh(disp).store.ticket(k).certificates
