"""A Chinese service desk's repair, end to end, in real processes of the
installed ``ticketctl``: a ticket with a Chinese title, customer, department
and notes goes through its whole life under ``LANG=zh_CN.UTF-8`` (refusals and
help in Chinese, a certificate whose page text holds the Chinese title and
customer and that verifies), and the same life under ``LANG=C`` is English.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_installed import installed_ticketctl

from ticketctl import i18n

CJK = re.compile(r"[\u4e00-\u9fff]")
TITLE, CUSTOMER, DEPT, PRODUCT, TECH = "空调不制冷", "李伟", "售后服务部", "格力空调", "王小明"
NOTE = "更换了压缩机继电器，制冷恢复"


class Desk:
    def __init__(self, home: Path, lang: str):
        self.exe = installed_ticketctl()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKETCTL_", "LC_", "LANG"))}
        self.env.update(TICKETCTL_HOME=str(home), TICKETCTL_NOW="2026-03-02T09:00:00Z", TICKETCTL_USER=TECH, LANG=lang)

    def __call__(self, *argv: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([self.exe, *argv], capture_output=True, text=True, env=self.env, timeout=60, check=False)
        assert p.returncode == code, (argv, p.returncode, p.stderr)
        assert "Traceback" not in p.stderr
        return p

    def json(self, *argv: str) -> Any:
        return json.loads(self(*argv, "--json").stdout)


def _life(desk: Desk, tmp: Path) -> dict[str, str]:
    """One repair from opening to a verified certificate; returns what was printed, by step."""
    said: dict[str, str] = {}
    desk("tech", "add", TECH, "--skills", "hvac")
    key = desk("new", TITLE, "--type", "repair", "--dept", DEPT, "--product", PRODUCT, "--fault", "不制冷",
               "--customer", CUSTOMER, "--skills", "hvac", "--priority", "high").stdout.strip()
    said["help"] = desk("block", "--help").stdout
    said["close_new"] = desk("close", key, code=1).stderr
    said["start_new"] = desk("start", key, code=1).stderr
    desk("assign", key, TECH)
    said["bad_reason"] = desk("block", key, "--reason", "no_such_reason", code=2).stderr
    desk("start", key)
    desk("block", key, "--reason", "awaiting_parts", "--note", "等待压缩机继电器到货")
    desk("unblock", key)
    desk("note", key, NOTE)
    desk("resolve", key)
    said["close_unconfirmed"] = desk("close", key, code=1).stderr
    desk("confirm", key, "--rating", "5", "--rating", "4", "--rating", "5", "--comment", "制冷恢复正常，师傅很专业", "--by", CUSTOMER)
    desk("close", key, "--check", "function_test", "--check", "safety_reset", "--check", "parts_recorded")
    shown = desk.json("show", key)
    assert shown["status"] == "closed" and shown["title"] == TITLE and shown["dept"] == DEPT
    assert any(NOTE in json.dumps(e, ensure_ascii=False) for e in shown["timeline"])
    pdf = tmp / "cert.pdf"
    desk("cert", "issue", key, "-o", str(pdf))
    said["verify"] = desk("cert", "verify", str(pdf)).stdout + desk("cert", "verify", str(pdf)).stderr
    said["pdf_text"] = _page_text(pdf)
    said["key"] = key
    return said


def _page_text(pdf: Path) -> str:
    """The certificate's page text as pdftotext reads it (pypdfium2 where poppler is missing, off CI)."""
    exe = shutil.which("pdftotext")
    if exe:
        return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    if os.environ.get("CI"):
        pytest.fail("pdftotext (Debian poppler-utils) is missing under CI; .ci/run installs it")
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def test_a_chinese_repair_in_chinese(tmp_path: Path) -> None:
    said = _life(Desk(tmp_path / "home", "zh_CN.UTF-8"), tmp_path)
    zh = i18n.translator("zh_CN").gettext
    for step in ("close_new", "start_new", "bad_reason", "close_unconfirmed"):
        line = said[step]
        assert line.startswith("ticketctl: error: ") and line.count("\n") == 1, (step, line)
        assert CJK.search(line.removeprefix("ticketctl: error: ").replace(said["key"], "")), (step, line)
    assert zh("Options") in said["help"] and CJK.search(said["help"].split("Example")[0])
    text = said["pdf_text"]
    assert TITLE in text and CUSTOMER in text and said["key"] in text
    assert "?" * 2 not in text  # no glyph-less characters printed as question marks
    assert CJK.search(said["verify"])  # the verdict is said in Chinese too


def test_the_same_repair_in_english(tmp_path: Path) -> None:
    said = _life(Desk(tmp_path / "home", "C"), tmp_path)
    for step in ("close_new", "start_new", "bad_reason", "close_unconfirmed", "help", "verify"):
        assert not CJK.search(said[step].replace(said["key"], "")), (step, said[step])
    assert "Options:" in said["help"]
    assert TITLE in said["pdf_text"] and CUSTOMER in said["pdf_text"]  # the data stays Chinese
