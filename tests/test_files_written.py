"""Files and folders ticketctl writes: a home is made by the first command that
writes into it, whichever it is, with the mode every home gets; reports,
certificates and the config follow the umask like any file a program writes,
while secrets (this device's signing key, its server token) stay 0600."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import CLI, Server, free_port

from ticketctl.cli import main
from ticketctl.home import atomic_write

NOW = "2026-03-02T09:00:00Z"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def run(home: Path, *argv: str, monkeypatch: pytest.MonkeyPatch) -> int:
    with monkeypatch.context() as m:
        for k in [k for k in os.environ if k.startswith("TICKETCTL_")]:
            m.delenv(k)
        m.setenv("TICKETCTL_HOME", str(home))
        m.setenv("TICKETCTL_NOW", NOW)
        m.setenv("TICKETCTL_USER", "ana")
        return main(list(argv))


# -- homes on first use ---------------------------------------------------------------------------------


def test_server_add_device_makes_the_home_like_any_command(tmp_path: Path, umask: None, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    server_home, device_home = tmp_path / "a" / "server", tmp_path / "b" / "device"
    assert run(server_home, "server", "add-device", "ana", "--role", "technician", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.startswith("device ana (technician) token: ")
    assert run(device_home, "new", "Leak", "--type", "repair", "--dept", "it", "--product", "pc", monkeypatch=monkeypatch) == 0
    assert (server_home / "server.db").is_file() and (device_home / "ticketctl.db").is_file()
    assert mode(server_home) == mode(device_home) == 0o755
    assert mode(server_home.parent) == mode(device_home.parent) == 0o755


def test_server_run_makes_the_home(tmp_path: Path) -> None:
    home, port = tmp_path / "new" / "home", free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}, "TICKETCTL_HOME": str(home)}
    proc = subprocess.Popen([*CLI, "server", "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert (home / "server.db").is_file()


# -- modes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mask", "want"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_reports_certificates_and_the_config_follow_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str], mask: int, want: int) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    old = os.umask(mask)
    try:
        assert run(home, "config", "set", "capacity", "4", monkeypatch=monkeypatch) == 0
        assert run(home, "tech", "add", "ana", monkeypatch=monkeypatch) == 0
        assert run(home, "new", "Leak", "--type", "incident", "--dept", "it", "--product", "pc", monkeypatch=monkeypatch) == 0
        key = capsys.readouterr().out.split()[-1]
        for argv in (["assign", key, "ana"], ["resolve", key], ["close", key],
                     ["cert", "issue", key, "-o", str(out / "cert.pdf")],
                     ["report", "heatmap", "--csv", str(out / "heat.csv"), "--xlsx", str(out / "heat.xlsx")],
                     ["report", "daily", "--xlsx", str(out / "daily.xlsx")]):
            assert run(home, *argv, monkeypatch=monkeypatch) == 0, capsys.readouterr().err
    finally:
        os.umask(old)
    written = {p.name: mode(p) for p in [*out.iterdir(), home / "config.toml"]}
    assert written == {"cert.pdf": want, "heat.csv": want, "heat.xlsx": want, "daily.xlsx": want, "config.toml": want}
    assert mode(home / "keys" / "device_ed25519.pem") == 0o600  # the signing key the certificate made: never the umask's


def test_a_secret_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        atomic_write(tmp_path / "sync.json", b'{"token": "t"}', secret=True)
        atomic_write(tmp_path / "plain.txt", b"x")
    finally:
        os.umask(old)
    assert (mode(tmp_path / "sync.json"), mode(tmp_path / "plain.txt")) == (0o600, 0o666)


def test_sync_setup_writes_the_token_0600_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(tmp_path).start()
    try:
        old = os.umask(0o000)
        try:
            assert run(tmp_path / "dev", "sync", "setup", server.url, "--token", server.token("ana", "technician"),
                       monkeypatch=monkeypatch) == 0
        finally:
            os.umask(old)
    finally:
        server.kill()
    assert mode(tmp_path / "dev" / "sync.json") == 0o600
