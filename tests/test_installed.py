"""The installed console script, end to end, in real processes.

Everything else drives ``ticketctl.cli.main`` in process; this one test proves
the packaging: the ``ticketctl`` entry point exists, ``sys.exit`` carries the
exit code, and stdout is parseable JSON across separate invocations sharing
one ``TICKETCTL_HOME``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def installed_ticketctl() -> str:
    """The script next to this interpreter (the venv's own), else the one on PATH."""
    beside = Path(sys.executable).parent / ("ticketctl.exe" if os.name == "nt" else "ticketctl")
    if beside.exists():
        return str(beside)
    found = shutil.which("ticketctl")
    if found is None:
        pytest.fail("no installed `ticketctl` script: run `pip install -e .` in this environment")
    return found


def test_installed_entry_point(tmp_path: Path) -> None:
    exe = installed_ticketctl()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(tmp_path / "home"), TICKETCTL_NOW="2026-03-02T09:00:00Z", TICKETCTL_USER="ana")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *argv], capture_output=True, text=True, env=env, timeout=60, check=False)

    def ok_json(*argv: str) -> Any:
        p = run(*argv, "--json")
        assert (p.returncode, p.stderr) == (0, ""), argv
        return json.loads(p.stdout)

    t = ok_json("new", "No cooling in server room", "--type", "repair", "--dept", "facilities", "--product", "hvac",
                "--priority", "high")
    key = t["key"]
    assert (t["status"], t["priority"], t["created_at"]) == ("new", "high", "2026-03-02T09:00:00Z")
    assert ok_json("tech", "add", "ana")["name"] == "ana"

    p = run("assign", key, "ana")
    assert (p.returncode, p.stdout, p.stderr) == (0, f"{key} assigned @ana  No cooling in server room\n", "")
    p = run("start", key)
    assert (p.returncode, p.stdout, p.stderr) == (0, f"{key} in_progress @ana  No cooling in server room\n", "")

    t = ok_json("show", key)
    assert (t["key"], t["status"], t["assignee"], t["first_response_at"]) == (
        key, "in_progress", "ana", "2026-03-02T09:00:00Z")
    assert [e["type"] for e in t["timeline"]] == ["ticket.created", "ticket.assigned", "ticket.started"]

    p = run("start", key)
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == f"ticketctl: error: cannot start {key}: it is in_progress (start needs assigned)\n"
    assert (tmp_path / "home" / "ticketctl.db").exists()


@pytest.mark.parametrize("argv", [
    ["report", "trend", "--days", "1500"],  # Rich draws it
    ["list", "--limit", "2000", *(x for s in ("new", "resolved", "closed") for x in ("--status", s))],
    ["list", "--limit", "2000", "--status", "closed", "--json"],
])
def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path, argv: list[str]) -> None:
    """`ticketctl ... | head -1` on more output than a pipe holds (~400 kB): exit 0,
    nothing on stderr (Rich alone would exit 1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_")}
    env.update(TICKETCTL_HOME=str(tmp_path / "home"), TICKETCTL_NOW="2026-03-02T09:00:00Z")
    gen = subprocess.run([installed_ticketctl(), "demo", "--tickets", "2000", "--techs", "5", "--lang", "en"], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert gen.returncode == 0, gen.stderr
    p = subprocess.Popen([installed_ticketctl(), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    first = p.stdout.readline()
    p.stdout.close()  # the reader goes away
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and err == "" and first


REPO = Path(__file__).resolve().parents[1]


def test_a_plain_install_prints_and_verifies_a_chinese_certificate(tmp_path: Path) -> None:
    """`pip install ticketctl` (no extras) into a fresh virtual environment, on a machine whose fontconfig
    sees no font at all: a Chinese repair's certificate is issued and verified, its page holds the Chinese
    title, customer and comment, and the font it embeds is the one the install brought (noto-cjk), not a
    system font. pip takes what this machine's pip takes (its index, find-links and wheel cache)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_ = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bin_ / ("python.exe" if os.name == "nt" else "python")
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", str(REPO)], capture_output=True, text=True, timeout=1200,
                         check=False)
    assert pip.returncode == 0, pip.stderr[-3000:]
    # the extra older instructions name (`pip install 'ticketctl[cjk]'`) is still there: an alias of the font
    meta = subprocess.run([str(py), "-c", "from importlib.metadata import metadata as m; d = m('ticketctl');"
                           " print(d.get_all('Provides-Extra')); print(d.get_all('Requires-Dist'))"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert "'cjk'" in meta and "noto-cjk[sans]>=0.0.1; extra == \"cjk\"" in meta, meta
    no_fonts = tmp_path / "fonts.conf"
    no_fonts.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKETCTL_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(TICKETCTL_HOME=str(tmp_path / "home"), TICKETCTL_USER="ana", TICKETCTL_LANG="zh_CN",
               FONTCONFIG_FILE=str(no_fonts), PATH=os.pathsep.join([str(bin_), env.get("PATH", "")]))
    exe = str(bin_ / ("ticketctl.exe" if os.name == "nt" else "ticketctl"))
    title, customer, comment = "空调不制冷，机房温度过高", "欧阳喆", "制冷已经恢复正常，谢谢师傅！"

    def run(*argv: str, at: str) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([exe, *argv], capture_output=True, text=True, env={**env, "TICKETCTL_NOW": f"2026-03-02T{at}:00Z"},
                           timeout=120, check=False)
        assert p.returncode == 0, (argv, p.stdout, p.stderr)
        return p

    run("tech", "add", "ana", at="08:00")
    key = json.loads(run("new", title, "--type", "repair", "--dept", "facilities", "--product", "hvac", "--priority", "high",
                         "--customer", customer, "--json", at="09:00").stdout)["key"]
    run("assign", key, "ana", at="09:10")
    run("start", key, at="09:30")
    run("resolve", key, at="10:10")
    run("confirm", key, "--rating", "5", "--rating", "4", "--rating", "5", "--comment", comment, "--by", customer, at="10:20")
    run("close", key, *(a for c in ("function_test", "safety_reset", "parts_recorded") for a in ("--check", c)), at="10:30")
    out = tmp_path / "cert.pdf"
    issued = json.loads(run("cert", "issue", key, "-o", str(out), "--json", at="10:40").stdout)
    verified = json.loads(run("cert", "verify", str(out), "--json", at="11:00").stdout)
    assert (verified["valid"], verified["cert_id"]) == (True, issued["cert_id"]), verified
    # the font: the installed package's, found without fontconfig or a system font
    where = subprocess.run([str(py), "-c", "from ticketctl.services.cert_fonts import font_for; print(font_for('空调'))"],
                           capture_output=True, text=True, env=env, timeout=120, check=True).stdout
    assert str(venv) in where and "noto_cjk" in where, where
    data = out.read_bytes()
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansCJKSC", data)
    from ticketctl.services import cert_pdf

    text = re.sub(r"\s+", "", cert_pdf.page_text(data))
    for shown in (title, customer, comment, "维修", "优先级高", "当面"):
        assert re.sub(r"\s+", "", shown) in text, shown
