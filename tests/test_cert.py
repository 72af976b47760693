"""Signed certificates: issue a PDF, read its QR code back with decoders
ticketctl did not write (pypdfium2 renders, zxing-cpp reads), verify both the
file and the QR text; tampering of any single character, unknown and revoked
keys and changed content all fail."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path
from typing import Any

import cert_tampering as tamper
import pypdfium2
import pytest
import zxingcpp
from test_cli import CONFIRM, REPAIR_CHECKS, Cli
from test_confirm import service_env
from test_evidence import RELAY, RELAY_SHA, T, started_repair

from ticketctl.core import certificate
from ticketctl.errors import BadInput
from ticketctl.services import cert_pdf, signing


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def closed_repair(cli: Cli, photo: bool = True) -> str:
    key = started_repair(cli)
    if photo:
        cli.ok("attach", key, RELAY, "--for", "function_test", now=T("10:05"))
    cli.ok("resolve", key, "--note", "relay replaced", now=T("10:10"))
    cli.ok(*CONFIRM, key, now=T("10:20"))
    cli.ok("close", key, *(a for c in REPAIR_CHECKS for a in ("--check", c)), now=T("10:30"))
    return key


def read_qr(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        page = doc[0]
        # QR codes only: a page of Chinese text can read as a spurious code of another symbology now and then
        codes = zxingcpp.read_barcodes(page.render(scale=3).to_pil(), formats=zxingcpp.BarcodeFormat.QRCode)
        assert len(codes) == 1, [(c.format, c.text) for c in codes]
        return str(codes[0].text)
    finally:
        doc.close()


def page_text(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return str(doc[0].get_textpage().get_text_range())
    finally:
        doc.close()


@pytest.fixture()
def issued(cli: Cli, tmp_path: Path) -> tuple[str, Path, dict[str, Any]]:
    key = closed_repair(cli)
    out = tmp_path / "cert.pdf"
    r = cli.json("cert", "issue", key, "-o", str(out), now=T("10:40"))
    return key, out, r


def test_issue_writes_a_pdf_whose_qr_verifies(cli: Cli, issued: tuple[str, Path, dict[str, Any]]) -> None:
    key, out, r = issued
    assert set(r) == {"key", "cert_id", "file", "issued_at", "key_id", "content_hash", "payload", "qr"}
    assert (r["key"], r["file"], r["issued_at"], r["qr"]) == (key, str(out), T("10:40"), r["payload"])
    qr = read_qr(out)
    assert qr == r["payload"]
    text = page_text(out)
    for needle in (key, "AC not cooling", "Problem solved 5/5", "Professional 4/5", "On time 5/5", "Cooling works again",
                   "Li Wei", RELAY_SHA, "function_test", "ana, signed with device key " + r["key_id"]):
        assert needle in text, needle
    for source in (str(out), qr):
        v = cli.ok("cert", "verify", source, now=T("11:00"))
        assert v.out == f"valid: certificate {r['cert_id']} for {key}, signed by this device\n"
        assert v.err == ""
    js = cli.json("cert", "verify", str(out), now=T("11:00"))
    assert (js["valid"], js["source"], js["ticket"], js["cert_id"], js["key_id"], js["warnings"]) == (
        True, "pdf", key, r["cert_id"], r["key_id"], [])
    # the issue is on the ticket's timeline and queued for the server
    assert cli.event_types(key)[-1] == "ticket.certified"
    certs = json.loads(cli.ticket_row(key)["certificates"])
    assert [(c["cert_id"], c["content_hash"], c["key_id"], c["payload"]) for c in certs] == [
        (r["cert_id"], r["content_hash"], r["key_id"], r["payload"])]
    (args,), = cli.rows("SELECT args FROM outbox WHERE name = 'ticket.certify'")
    assert json.loads(args) == {"key": key, "cert_id": r["cert_id"], "content_hash": r["content_hash"],
                                "key_id": r["key_id"], "payload": r["payload"]}
    # the photo's thumbnail is drawn: two images on the page (QR code and thumbnail)
    doc = pypdfium2.PdfDocument(str(out))
    try:
        images = [o for o in doc[0].get_objects() if o.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
    finally:
        doc.close()
    assert len(images) == 2


def test_every_single_character_change_of_the_payload_fails(cli: Cli, issued: tuple[str, Path, dict[str, Any]]) -> None:
    _, _, r = issued
    qr = r["qr"]
    ring = signing.keyring(service_env(cli, T("11:00")))
    assert certificate.verify(qr, ring) == (True, f"valid: certificate {r['cert_id']} for {r['key']}, signed by this device")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    tried = 0
    for i, ch in enumerate(qr):
        for sub in {alphabet[(alphabet.index(ch) + 1) % len(alphabet)] if ch in alphabet else "A", "A" if ch != "A" else "B"}:
            bad = qr[:i] + sub + qr[i + 1:]
            ok, reason = certificate.verify(bad, ring)
            assert not ok, f"character {i} ({ch!r} -> {sub!r}) still verifies"
            tried += 1
    assert tried >= len(qr)
    # and through the CLI: exit 1 and the reason
    bad = qr[:-1] + ("A" if qr[-1] != "A" else "B")
    f = cli.fails(1, "cert", "verify", bad, now=T("11:00"))
    assert f.err.startswith("ticketctl: error: invalid certificate: ")
    p = cli("cert", "verify", bad, "--json", now=T("11:00"))
    assert p.code == 1 and p.json["valid"] is False and p.json["reason"]
    for truncated in (qr[:-1], qr + "A", "", "hello", qr.replace("TKC1", "TKC2")):
        assert not certificate.verify(truncated, ring)[0]


def test_reasons_for_a_tampered_payload(cli: Cli, issued: tuple[str, Path, dict[str, Any]]) -> None:
    _, _, r = issued
    ring = signing.keyring(service_env(cli, T("11:00")))
    p = certificate.decode_payload(r["payload"])
    other_hash = certificate.b64(bytes(32))
    forged = f"{certificate.unsigned_text(p.cert_id, p.ticket, other_hash, p.key_id)}.{certificate.b64(p.signature)}"
    assert certificate.verify(forged, ring) == (False, "bad signature (the payload was changed or not signed by this key)")
    # the last character of the signature carries spare bits: a non-canonical spelling is refused
    head, sig = r["payload"].rsplit(".", 1)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = sig[:-1] + b64[b64.index(sig[-1]) ^ 1]  # 86 characters hold 516 bits: the last 4 are spare
    assert base64.urlsafe_b64decode(spare + "==") == base64.urlsafe_b64decode(sig + "==")  # the same signature bytes
    assert certificate.verify(f"{head}.{spare}", ring) == (False, "malformed certificate payload (non-canonical encoding)")
    other_key = "0123456789abcdef"
    swapped = r["payload"].replace(f".{p.key_id}.", f".{other_key}.")
    assert certificate.verify(swapped, ring) == (False, f"unknown key {other_key} (not a device this one trusts)")
    assert certificate.verify(f"https://t.example/v/{r['payload']}", ring)[0] is True


def test_another_device_verifies_only_with_the_key_trusted_and_not_revoked(
        cli: Cli, issued: tuple[str, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, out, r = issued
    other = Cli(tmp_path / "other", capsys)
    f = other.fails(1, "cert", "verify", str(out), now=T("11:00"))
    assert f.err == f"ticketctl: error: invalid certificate: unknown key {r['key_id']} (not a device this one trusts)\n"
    pem = cli.json("cert", "key")
    assert pem["key_id"] == r["key_id"]
    pem_file = tmp_path / "van.pem"
    pem_file.write_text(pem["public_key"])
    other.ok("cert", "trust", r["key_id"], str(pem_file), "--device", "van-7")
    v = other.ok("cert", "verify", str(out), now=T("11:00"))
    assert v.out == f"valid: certificate {r['cert_id']} for {key}, signed by van-7\n"
    assert v.err == f"ticketctl: warning: {key} is not in this store; certificate {r['cert_id']} cannot be cross-checked\n"
    other.ok("cert", "trust", r["key_id"], str(pem_file), "--device", "van-7", "--revoked-at", "2026-03-05T00:00:00Z")
    f = other.fails(1, "cert", "verify", r["qr"], now=T("11:00"))
    assert f.err == (f"ticketctl: error: invalid certificate: revoked key {r['key_id']} (van-7 revoked at"
                     " 2026-03-05T00:00:00Z), and the server did not countersign this certificate before then\n")
    # the server may revoke this device's own key: its own certificates stop verifying too
    env = service_env(cli, T("11:00"))
    signing.trust(env, r["key_id"], pem["public_key"], "this device", "2026-03-05T00:00:00Z")
    assert cli.fails(1, "cert", "verify", str(out)).err.startswith(f"ticketctl: error: invalid certificate: revoked key {r['key_id']}")
    with pytest.raises(BadInput, match="does not belong to that public key"):
        signing.trust(env, "0123456789abcdef", pem["public_key"], "x")


def test_changed_content_fails(cli: Cli, issued: tuple[str, Path, dict[str, Any]], tmp_path: Path) -> None:
    key, out, r = issued
    data = out.read_bytes()
    payload, content = cert_pdf.read_embedded(data) or ("", {})
    assert payload == r["payload"] and content["pages"] and content["v"] == 2
    # a changed rating in the embedded content (an incremental update of the metadata, as an editor saves)
    (tmp_path / "t1.pdf").write_bytes(tamper.change_content(data, lambda c: c["confirmation"]["ratings"].update(solved=1)))
    f = cli.fails(1, "cert", "verify", str(tmp_path / "t1.pdf"))
    assert f.err == "ticketctl: error: invalid certificate: content changed (the certificate's content does not match its signed hash)\n"
    # a page drawn from other facts, finished with the genuine payload, content, QR code and signature
    changed = json.loads(json.dumps(content))
    changed["confirmation"]["ratings"]["solved"] = 1
    fake, _layout = cert_pdf.draw(changed, {}, None)
    (tmp_path / "t2.pdf").write_bytes(cert_pdf.finish(fake, content, payload))
    f = cli.fails(1, "cert", "verify", str(tmp_path / "t2.pdf"))
    assert f.err == "ticketctl: error: invalid certificate: page 1's drawing changed\n"
    # a file that is no certificate at all, a PDF without one, a file cut short
    (tmp_path / "plain.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    f = cli.fails(1, "cert", "verify", str(tmp_path / "plain.pdf"))
    assert f.err == "ticketctl: error: invalid certificate: plain.pdf holds no ticketctl certificate (no signed payload in its metadata)\n"
    (tmp_path / "notes.pdf").write_text("shopping list\n")
    assert "notes.pdf holds no ticketctl certificate" in cli.fails(1, "cert", "verify", str(tmp_path / "notes.pdf")).err
    (tmp_path / "cut.pdf").write_bytes(data[:len(data) - 200])
    f = cli.fails(1, "cert", "verify", str(tmp_path / "cut.pdf"))
    assert f.err == "ticketctl: error: invalid certificate: the file is truncated (it does not end as a PDF ends)\n"
    cli.fails(2, "cert", "verify", str(tmp_path / "missing.pdf"), message=f"no file {str(tmp_path / 'missing.pdf')!r}")


def test_only_a_closed_ticket_gets_a_certificate(cli: Cli, tmp_path: Path) -> None:
    key = started_repair(cli)
    out = tmp_path / "c.pdf"
    cli.fails(1, "cert", "issue", key, "-o", str(out),
              message=f"cannot issue a certificate for {key}: it is in_progress (close it first)")
    assert not out.exists()
    done = closed_repair(cli, photo=False)
    cli.fails(2, "cert", "issue", done, "-o", str(tmp_path / "no" / "c.pdf"),
              message=f"--out {tmp_path / 'no' / 'c.pdf'}: there is no folder {tmp_path / 'no'}")
    cli.fails(2, "cert", "issue", done, "-o", str(out), "--url", "ftp://x", message="--url 'ftp://x' is not an http(s) URL")
    assert "ticket.certified" not in cli.event_types(done)


def test_a_server_url_goes_into_the_qr(cli: Cli, tmp_path: Path) -> None:
    key = closed_repair(cli, photo=False)
    cli.ok("config", "set", "proof.url", "https://tickets.example.com")
    r = cli.json("cert", "issue", key, "-o", str(tmp_path / "c.pdf"), now=T("10:40"))
    assert r["qr"] == f"https://tickets.example.com/v/{r['payload']}"
    assert read_qr(tmp_path / "c.pdf") == r["qr"]
    cli.ok("cert", "verify", r["qr"])
    # a reopen after the certificate: still a valid signature, with a warning
    cli.ok("reopen", key, "--reason", "leaking again", now=T("12:00"))
    v = cli.ok("cert", "verify", str(tmp_path / "c.pdf"), now=T("12:01"))
    assert v.err == f"ticketctl: warning: {key} was reopened after this certificate; it is assigned now\n"


def test_the_device_key_is_private_and_stable(cli: Cli) -> None:
    env = service_env(cli, T("10:00"))
    kid = signing.key_id(env)
    assert re.fullmatch(r"[0-9a-f]{16}", kid)
    assert signing.key_id(service_env(cli, T("10:01"))) == kid
    priv = cli.home / "keys" / "device_ed25519.pem"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert signing.key_id_of(signing.public_key_pem(env)) == kid
    assert "PRIVATE" not in cli.ok("cert", "key").out


def test_a_revoked_keys_certificate_needs_a_countersignature_from_before_the_revocation(
        cli: Cli, issued: tuple[str, Path, dict[str, Any]]) -> None:
    """The rule itself, on the certificate just issued: the countersignature's time, the revocation's
    and the issue's, to the second (a tie is not "before")."""
    _, out, r = issued
    ring = signing.keyring(service_env(cli, T("11:00")))
    _payload, content = cert_pdf.read_embedded(out.read_bytes()) or ("", {})
    assert content["issued_at"] == T("10:40")
    revoked = {kid: {**e, "revoked_at": T("12:00")} for kid, e in ring.items()}
    valid = f"valid: certificate {r['cert_id']} for {r['key']}, signed by this device and countersigned at"
    assert certificate.verify(r["payload"], revoked, content, T("11:59")) == (
        True, f"{valid} {T('11:59')}, before the key was revoked at {T('12:00')}")
    assert certificate.verify(r["payload"], revoked, None, T("11:59"))[0] is True  # the QR text alone: no issue time to check
    for countersigned, why in ((None, "and the server did not countersign this certificate before then"),
                               (T("12:00"), f"and the server countersigned this certificate only at {T('12:00')}"),
                               (T("12:01"), f"and the server countersigned this certificate only at {T('12:01')}"),
                               ("not a time", "and the server countersigned this certificate only at not a time")):
        assert certificate.verify(r["payload"], revoked, content, countersigned) == (
            False, f"revoked key {r['key_id']} (this device revoked at {T('12:00')}), {why}")
    # issued (by its own word) after the revocation: not valid, whatever the countersignature says
    early = {kid: {**e, "revoked_at": T("10:30")} for kid, e in ring.items()}
    assert certificate.verify(r["payload"], early, content, T("10:29")) == (
        False, f"revoked key {r['key_id']} (this device revoked at {T('10:30')}), and this certificate says it was issued"
               f" at {T('10:40')}")
    # a valid countersignature never rescues a bad signature
    forged = r["payload"][:-2] + ("AA" if not r["payload"].endswith("AA") else "BA")
    assert certificate.verify(forged, revoked, None, T("11:59"))[0] is False
