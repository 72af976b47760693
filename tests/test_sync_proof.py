"""Closing with proof through a real server: the customer confirms on the
server's page from the QR link, the certificate issued offline is valid at once
and countersigned once synced, anyone can check it at /v/... and sees what to
check there (the work, the dates, the technician, their own confirmation),
and a revoked device's certificates stop verifying everywhere except those
the server countersigned before the revocation. The revocation and the page
tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import pg_databases_fixture, pg_url_fixture  # noqa: F401
from sqlalchemy import update
from sync_helpers import Server, client, fresh, server_on

from ticketctl import i18n
from ticketctl.core import certificate, labels
from ticketctl.errors import Refused
from ticketctl.server import admin
from ticketctl.server import schema as S
from ticketctl.server.store.engine import engine_for
from ticketctl.services import cert, confirm, techs, tickets
from ticketctl.services.env import Env
from ticketctl.sync import client as sync

CHECKS = ["function_test", "safety_reset", "parts_recorded"]
FORM = {"rating": ["5", "4", "5"], "comment": "Works again, thank you!", "by": "Mrs Li"}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path).start()
    yield s
    s.kill()


@pytest.fixture(params=["sqlite", "postgresql"])
def team_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    s = server_on(request, tmp_path)
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

    # revoked: what the server countersigned before stays valid (test_revocation_keeps_... below)
    after_this_second()
    admin.revoke(server.db, "ana")
    sync.sync(fresh(disp))
    v = cert.verify(fresh(disp), out["qr"])
    assert v["valid"] and v["revoked_at"] and v["reason"].endswith(f"before the key was revoked at {v['revoked_at']}")


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


def after_this_second() -> None:
    """Wait for the next second of the clock: times are kept to the second, and
    one taken after this is later than any taken before it (never equal)."""
    time.sleep(1.02 - time.time() % 1)


def closed_for_certificates(server: Server, tmp_path: Path) -> tuple[Env, Env, str]:
    disp, ana, k = resolved_repair(server, tmp_path)
    confirm.confirm(ana, k, [5, 4, 5], "Fixed and explained well", "Mr Ode")
    tickets.close(ana, k, CHECKS)
    return disp, ana, k


def revoke_as_of(server: Server, name: str, at: str) -> None:
    """Record a device's revocation as of ``at`` (an admin who learns late that a
    van was stolen dates it back); ``server revoke`` dates it now."""
    engine = engine_for(server.db)
    with engine.begin() as c:
        c.execute(update(S.devices).where(S.devices.c.name == name).values(revoked_at=at))
    engine.dispose()


def test_revocation_keeps_what_the_server_countersigned_before(team_server: Server, tmp_path: Path) -> None:
    server = team_server
    disp, ana, k = closed_for_certificates(server, tmp_path)
    early = cert.issue(ana, k, tmp_path / "early.pdf")
    sync.sync(ana)  # countersigned now
    late = cert.issue(fresh(ana), k, tmp_path / "late.pdf")  # issued offline, still in ana's outbox
    countersigned = fresh(ana).store.ticket(k).certificates[0]["countersigned"]["at"]
    after_this_second()
    revoked_at = admin.revoke(server.db, "ana")["revoked_at"]
    assert countersigned < revoked_at

    # the server: the early one stays valid and says when the key was revoked; the late one never was countersigned
    v = httpx.get(f"{early['qr']}?format=json", timeout=10).json()
    assert (v["valid"], v["countersigned"], v["countersigned_at"], v["revoked_at"]) == (True, True, countersigned, revoked_at)
    assert v["reason"] == (f"valid: certificate {early['cert_id']} for {k}, signed by ana and countersigned at"
                           f" {countersigned}, before the key was revoked at {revoked_at}")
    assert html.escape(v["reason"], quote=False) in httpx.get(early["qr"], timeout=10).text
    v = httpx.get(f"{late['qr']}?format=json", timeout=10).json()
    assert not v["valid"] and not v["countersigned"] and v["reason"] == (
        f"revoked key {late['key_id']} (ana revoked at {revoked_at}), and the server did not countersign this certificate"
        " before then")
    assert httpx.get(late["qr"], timeout=10).status_code == 422
    # the revoked device cannot get the late one countersigned any more
    with pytest.raises(Refused, match="the server refused this device's token: device ana was revoked"):
        sync.sync(fresh(ana))

    # another device learns of the revocation at its next sync and judges the same, from the file and from the QR text
    sync.sync(fresh(disp))
    for source in (str(tmp_path / "early.pdf"), early["qr"]):
        v = cert.verify(fresh(disp), source)
        assert (v["valid"], v["countersigned_at"], v["revoked_at"]) == (True, countersigned, revoked_at), v
        assert v["reason"].endswith(f"before the key was revoked at {revoked_at}")
    for source in (str(tmp_path / "late.pdf"), late["qr"]):
        v = cert.verify(fresh(disp), source)
        assert not v["valid"] and "did not countersign this certificate before then" in v["reason"], v

    # a revocation dated before the countersignature: then the early one was countersigned too late
    revoke_as_of(server, "ana", "2026-01-01T00:00:00Z")
    v = httpx.get(f"{early['qr']}?format=json", timeout=10).json()
    assert not v["valid"] and v["reason"] == (
        f"revoked key {early['key_id']} (ana revoked at 2026-01-01T00:00:00Z), and the server countersigned this"
        f" certificate only at {countersigned}")
    sync.sync(fresh(disp))
    assert not cert.verify(fresh(disp), str(tmp_path / "early.pdf"))["valid"]


def test_a_countersignature_counts_only_as_the_servers_signature_over_that_payload(server: Server, tmp_path: Path) -> None:
    """The device does not take its store's word that a certificate was countersigned: the signature must verify."""
    disp, ana, k = closed_for_certificates(server, tmp_path)
    out = cert.issue(ana, k, tmp_path / "c.pdf")
    sync.sync(ana)
    sync.sync(disp)
    ring = certificate_ring(disp)
    record = fresh(disp).store.ticket(k).certificates[0]
    p = certificate.decode_payload(out["payload"])
    at = record["countersigned"]["at"]
    assert certificate.countersigned_at(record, p, ring) == at
    forged = {**record, "countersigned": {**record["countersigned"], "signature": certificate.b64(bytes(64))}}
    assert certificate.countersigned_at(forged, p, ring) is None
    by_ana = {**record, "countersigned": {**record["countersigned"], "key_id": out["key_id"]}}
    assert certificate.countersigned_at(by_ana, p, ring) is None  # a device's key is not the server's
    other = certificate.decode_payload(cert.issue(fresh(ana), k, tmp_path / "d.pdf")["payload"])
    assert certificate.countersigned_at({**record, "cert_id": other.cert_id}, other, ring) is None


def certificate_ring(env: Env) -> dict[str, dict[str, Any]]:
    from ticketctl.services import signing

    return signing.keyring(fresh(env))


def test_the_verification_page_shows_what_the_customer_can_check(team_server: Server, tmp_path: Path) -> None:
    server = team_server
    disp = joined(server, tmp_path, "disp", "dispatcher")
    ana = joined(server, tmp_path, "ana", "technician")
    techs.add(disp, "ana", capacity=3)
    k = tickets.create(disp, {"title": "Chiller alarm", "type": "repair", "dept": "fac", "product": "hvac",
                              "customer": "Mrs Li", "phone": "+86 138 0013 8000"})["key"]
    tickets.assign(disp, k, "ana")
    sync.sync(disp)
    sync.sync(ana)
    tickets.start(ana, k)
    tickets.note(ana, k, "internal: the compressor warranty claim is pending")
    tickets.resolve(ana, k)
    link = confirm.request_qr(ana, k)
    sync.sync(ana)
    assert httpx.post(link["url"], data=FORM, timeout=10).status_code == 200  # the customer, on their phone
    sync.sync(ana)
    tickets.close(fresh(ana), k, CHECKS)
    out = cert.issue(fresh(ana), k, tmp_path / "c.pdf")
    sync.sync(fresh(ana))

    # what the page must say, from ana's synced copy (the server's events as ana pulled them)
    t = fresh(ana).store.ticket(k)
    conf, issued = t.confirmation, t.certificates[0]["at"]
    assert (conf["by"], conf["via"], list(conf["ratings"].values())) == ("Mrs Li", "qr", [5, 4, 5])
    v = httpx.get(f"{out['qr']}?format=json", timeout=10).json()
    assert v["valid"] and v["countersigned"]
    assert {f: v[f] for f in ("work", "issued_at", "closed_at", "technician", "confirmation", "reopened", "reopened_at",
                              "status")} == {
        "work": {"key": k, "title": "Chiller alarm", "type": "repair"}, "issued_at": issued, "closed_at": t.closed_at,
        "technician": "ana", "confirmation": {"by": "Mrs Li", "at": conf["at"], "via": "qr", "ratings": conf["ratings"]},
        "reopened": False, "reopened_at": None, "status": "closed"}

    def page(lang: str) -> str:
        r = httpx.get(out["qr"], headers={"Accept-Language": lang}, timeout=10)
        assert r.status_code == 200
        return html.unescape(r.text)

    def when(at: str) -> str:
        return at.replace("T", " ").replace("Z", " UTC")

    for lang, tag in (("en-GB,en;q=0.8", "en"), ("zh-CN,zh;q=0.9", "zh_CN")):
        text, gettext = page(lang), i18n.translator(tag).gettext
        assert f'lang="{tag.replace("_", "-")}"' in text and gettext("Certificate valid") in text
        work_type = labels.label("type", "repair", lang=tag)  # the page's language: 维修 in Chinese
        for shown in (gettext("{key}: {title} ({type})").format(key=k, title="Chiller alarm", type=work_type),
                      when(issued), when(str(t.closed_at)), gettext("by {by}, {at}, {via}").format(
                          by="Mrs Li", at=when(conf["at"]), via=gettext("on the customer's phone (QR link)")),
                      gettext(", ").join(gettext("{label} {rating}/5").format(label=gettext(label), rating=r)
                                         for label, r in zip(("Problem solved", "Professional", "On time"), (5, 4, 5),
                                                             strict=True)),
                      gettext("Reopened since"), gettext("no")):
            assert shown in text, (lang, shown)
        assert tag == "en" or "repair" not in text
        # never the customer's phone, their comment, or what the team wrote for itself
        for private in ("138 0013 8000", FORM["comment"], "warranty claim"):
            assert private not in text, (lang, private)
    js = httpx.get(f"{out['qr']}?format=json", timeout=10).text
    assert "138 0013 8000" not in js and "warranty" not in js and FORM["comment"] not in js

    # reopened since: the page says so, with when and the state now; the certificate's own facts stay as certified
    tickets.reopen(fresh(ana), k, "leaking again")
    sync.sync(fresh(ana))
    reopened_at = next(e["at"] for e in tickets.show(fresh(ana), k)["timeline"] if e["type"] == "ticket.reopened")
    v = httpx.get(f"{out['qr']}?format=json", timeout=10).json()
    assert (v["valid"], v["reopened"], v["reopened_at"], v["status"]) == (True, True, reopened_at, "assigned")
    assert v["confirmation"]["by"] == "Mrs Li" and v["closed_at"] == t.closed_at
    assert f"{k} was reopened after this certificate; it is assigned now" in v["warnings"]
    text = page("en")
    assert f"yes, at {when(reopened_at)}; it is assigned now" in text
    # a payload that does not verify shows nothing of the ticket
    bad = out["qr"][:-3] + ("AAA" if not out["qr"].endswith("AAA") else "BBB")
    r = httpx.get(bad, timeout=10)
    assert r.status_code == 422 and "Chiller alarm" not in r.text and "Mrs Li" not in r.text
    v = httpx.get(f"{bad}?format=json", timeout=10).json()
    assert not v["valid"] and all(v[f] is None for f in ("work", "issued_at", "closed_at", "technician", "confirmation",
                                                          "reopened", "reopened_at", "status"))
    assert re.search(r"<h1 class=bad>", r.text)
