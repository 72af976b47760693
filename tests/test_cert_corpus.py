"""The tamper corpus (tests/data/cert_tamper): the installed ``ticketctl cert
verify --json`` gives every file the verdict its manifest expects and names
the change; people read the reason in their language; and the corpus comes
out of ``make.py`` the same, with the same verdicts."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ticketctl import i18n
from ticketctl.core.message import render
from ticketctl.home import Home
from ticketctl.services import cert, signing
from ticketctl.services.env import Env

CORPUS = Path(__file__).parent / "data" / "cert_tamper"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
TICKETCTL = Path(sys.executable).with_name("ticketctl")


def run(home: Path, *argv: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TICKETCTL_HOME": str(home), "TICKETCTL_LANG": "en", **environ}
    return subprocess.run([str(TICKETCTL), *argv], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ticketctl home that trusts the corpus's test key (and nothing of its own)."""
    h = tmp_path_factory.mktemp("corpus") / "home"
    r = run(h, "cert", "trust", MANIFEST["key_id"], str(CORPUS / "test_key.pub.pem"), "--device", "corpus key")
    assert r.returncode == 0, r.stderr
    return h


def says(verdict: dict[str, Any], phrase: str) -> bool:
    return phrase in verdict["reason"] or any(phrase in w for w in verdict["warnings"])


def test_the_corpus_is_what_its_manifest_says() -> None:
    files = {f["file"] for f in MANIFEST["files"]}
    assert len(files) >= 10 and len(MANIFEST["files"]) == len(files)
    assert sum(not f["valid"] for f in MANIFEST["files"]) >= 10 and sum(f["valid"] for f in MANIFEST["files"]) >= 4
    assert files == {p.name for p in CORPUS.glob("*.pdf")}
    for f in MANIFEST["files"]:
        data = (CORPUS / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"], f["file"]
        assert len(data) < 30_000, f["file"]
    assert signing.key_id_of((CORPUS / "test_key.pub.pem").read_text()) == MANIFEST["key_id"]


@pytest.mark.parametrize("entry", MANIFEST["files"], ids=lambda f: f["file"])
def test_the_installed_cli_gives_each_file_its_verdict(home: Path, entry: dict[str, Any]) -> None:
    r = run(home, "cert", "verify", "--json", str(CORPUS / entry["file"]))
    verdict = json.loads(r.stdout)
    assert (r.returncode, verdict["valid"]) == ((0, True) if entry["valid"] else (1, False)), (entry["what"], verdict)
    assert says(verdict, entry["says"]), (entry["what"], verdict)
    assert verdict["source"] == "pdf" and r.stderr == ""
    if entry["file"] != "truncated.pdf":  # a file cut short is not read for its payload
        assert (verdict["cert_id"], verdict["ticket"], verdict["key_id"]) == ("AAECAwQFBgc", "KQT-7", MANIFEST["key_id"])


def test_people_read_the_reason_through_the_catalog(home: Path) -> None:
    """Without --json the reason is rendered in the reader's language (the catalog's words, whatever they are)."""
    env = Env(Home.from_env({"TICKETCTL_HOME": str(home)}), {"TICKETCTL_HOME": str(home)})
    for name in ("overlay-white-box.pdf", "added-page.pdf", "replaced-photo.pdf"):
        reason = cert.verify(env, str(CORPUS / name))["reason"]
        try:
            i18n.use("zh_CN")
            want = i18n._("invalid certificate: {reason}").format(reason=render(reason))
        finally:
            i18n.use("en")
        r = run(home, "cert", "verify", str(CORPUS / name), TICKETCTL_LANG="zh_CN")
        assert (r.returncode, r.stdout, r.stderr) == (1, "", f"ticketctl: error: {want}\n")
    env.close()


def load_make() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cert_tamper_make", CORPUS / "make.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_make_py_makes_the_corpus_again_with_the_same_verdicts(home: Path, tmp_path: Path) -> None:
    make = load_make()
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    made = make.make(first)
    assert [m["sha256"] for m in made] == [m["sha256"] for m in make.make(second)]  # the same each time
    assert [(m["file"], m["valid"], m["says"]) for m in made] == [(f["file"], f["valid"], f["says"]) for f in MANIFEST["files"]]
    env = Env(Home.from_env({"TICKETCTL_HOME": str(home)}), {"TICKETCTL_HOME": str(home)})
    for m in made:
        v = cert.verify(env, str(first / m["file"]))
        assert v["valid"] is m["valid"] and says(v, m["says"]), (m["file"], v)
    env.close()
    # base.pdf issued anew with the test key is a valid certificate too (whatever fpdf2 draws today)
    (tmp_path / "new.pdf").write_bytes(make.issue_base())
    env = Env(Home.from_env({"TICKETCTL_HOME": str(home)}), {"TICKETCTL_HOME": str(home)})
    assert cert.verify(env, str(tmp_path / "new.pdf"))["valid"]
    env.close()
