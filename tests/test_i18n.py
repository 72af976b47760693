"""English and Simplified Chinese: the catalog is complete and current, the
language is chosen as documented, and scripts see the same JSON in both.

The catalog test extracts every message from the code again (``_()`` calls,
the command tree's help texts, Click's and Typer's own messages) with Babel and
fails on a message without a Chinese translation, an entry the code no longer
has, a translation whose ``{placeholders}`` differ, or a ``.mo`` that is not the
compilation of the ``.po``.
"""

from __future__ import annotations

import ast
import json
import re
import string
import unicodedata
from pathlib import Path

import pytest
import typer
from tools_loader import load_tool

from ticketctl import errors, i18n
from ticketctl.cli import build_app, main
from ticketctl.services.env import Env

NOW = "2026-03-02T09:00:00Z"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


def test_catalog_is_complete_and_current() -> None:
    bad = load_tool("i18n").problems()
    assert bad == [], "\n".join(bad[:30]) + (f"\n... and {len(bad) - 30} more" if len(bad) > 30 else "")


def test_no_message_is_written_inside_an_f_string() -> None:
    """Babel's extractor does not look inside f-strings (Python 3.11): a
    ``_("...")`` there never reaches the catalog, so no test of the catalog
    could see it is untranslated."""
    package = Path(i18n.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Call) and sub.args and isinstance(sub.args[0], ast.Constant)
                        and (getattr(sub.func, "id", None) or getattr(sub.func, "attr", None)) in ("_", "N_", "gettext", "ngettext")):
                    found.append(f"{path.relative_to(package)}:{sub.lineno} {sub.args[0].value!r}")
    assert found == []


def test_catalog_holds_every_kind_of_message() -> None:
    """The extraction finds all three sources (a broken extractor would make the test above vacuous)."""
    tool = load_tool("i18n")
    code = {m for m, _p in tool.code_messages()}
    helps = {m for m, _p in tool.help_messages()}
    library = {m for m, _p in tool.library_messages()}
    assert len(code) > 100 and len(helps) > 200 and len(library) > 50
    assert "Show this message and exit." in library  # Click's own
    block = typer.main.get_command(build_app()).commands["block"]  # type: ignore[attr-defined]
    assert block.help in helps and all(p.help in helps for p in block.params if p.help)
    po = Path(tool.po_path("zh_CN")).read_text(encoding="utf-8")
    assert f'msgid "{block.help.splitlines()[0]}' in po


@pytest.mark.parametrize(
    ("config", "environ", "want"),
    [
        (None, {}, "en"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        (None, {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL wins, even "C"
        (None, {"LANG": "C", "LC_MESSAGES": "zh_CN.GB18030"}, "zh_CN"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),  # no catalog: English
        (None, {"LANG": "zh_TW.UTF-8"}, "zh_CN"),
        (None, {"LANG": "C", "TICKETCTL_LANG": "zh-CN"}, "zh_CN"),
        ("en", {"LANG": "zh_CN.UTF-8", "TICKETCTL_LANG": "zh_CN"}, "en"),  # the config wins
        ("zh_CN", {"LC_ALL": "C"}, "zh_CN"),
        ("", {"TICKETCTL_LANG": "", "LANG": "zh_SG.UTF-8"}, "zh_CN"),
    ],
)
def test_language_choice(config: str | None, environ: dict[str, str], want: str) -> None:
    assert i18n.choose(config, environ) == want


class _Run:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys

    def __call__(self, *argv: str, **env: str) -> tuple[int, str, str]:
        environ = {"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "ana", **env}
        self.capsys.readouterr()
        code = main(list(argv), env=Env.from_environ(environ))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> _Run:
    return _Run(tmp_path / "home", capsys)


def _flat(text: str) -> str:
    """Text without whitespace (Click rewraps help paragraphs at the terminal width)."""
    return re.sub(r"\s+", "", text)


def test_help_follows_the_locale(run: _Run) -> None:
    zh = i18n.translator("zh_CN").gettext
    block = typer.main.get_command(build_app()).commands["block"]  # type: ignore[attr-defined]
    code, out, _err = run("block", "--help", LANG="zh_CN.UTF-8")
    assert code == 0
    assert _flat(zh(block.help)) in _flat(out) and _has_cjk(zh(block.help))
    assert zh("Options") in out and zh("Show this message and exit.") in out
    reason = next(p for p in block.params if p.name == "reason")
    assert _flat(zh(reason.help)) in _flat(out)
    code, out, _err = run("block", "--help", LANG="C")
    assert code == 0 and not _has_cjk(out)
    assert _flat(block.help) in _flat(out) and "Options:" in out


def test_every_help_page_is_chinese(run: _Run) -> None:
    """No command's help in zh_CN keeps an English paragraph (only names, options and examples)."""
    root = typer.main.get_command(build_app())
    for cmd in i18n.walk_commands(root):
        if getattr(cmd, "hidden", False) or not getattr(cmd, "help", None):
            continue
        assert _has_cjk(i18n.translator("zh_CN").gettext(cmd.help)), cmd.help


def test_refusals_and_usage_errors_speak_chinese(run: _Run) -> None:
    code, out, _err = run("new", "空调不制冷", "--type", "repair", "--dept", "售后服务部", "--product", "空调")
    assert code == 0
    key = out.strip()
    code, _out, err_zh = run("close", key, LANG="zh_CN.UTF-8")
    code_en, _out, err_en = run("close", key, LANG="C")
    assert code == code_en == errors.REFUSED
    assert err_zh.startswith("ticketctl: error: ") and err_en.startswith("ticketctl: error: ")
    assert _has_cjk(err_zh) and not _has_cjk(err_en) and key in err_zh
    assert err_zh.count("\n") == 1  # one line
    code, _out, err = run("list", "--bogus", LANG="zh_CN.UTF-8")
    assert code == errors.BAD_INPUT and _has_cjk(err) and "--bogus" in err
    code, _out, err = run("show", "NOPE-1", LANG="zh_CN.UTF-8")
    assert code != 0 and _has_cjk(err)


def test_config_lang_wins_over_the_locale(run: _Run) -> None:
    assert run("config", "set", "lang", "zh_CN")[0] == 0
    code, out, _err = run("list", "--help", LANG="C")
    assert code == 0 and _has_cjk(out)
    code, _out, err = run("config", "set", "lang", "fr")
    assert code == errors.BAD_INPUT and "lang" in err
    assert run("config", "set", "lang", "en")[0] == 0
    code, out, _err = run("list", "--help", LANG="zh_CN.UTF-8")
    assert code == 0 and not _has_cjk(out)


def test_json_is_the_same_in_both_languages(run: _Run) -> None:
    code, out, _err = run("new", "空调不制冷", "--type", "repair", "--dept", "售后服务部", "--product", "空调",
                          "--customer", "李伟")
    key = out.strip()
    for argv in (("show", key, "--json"), ("list", "--json"), ("tech", "list", "--json"), ("report", "kpi", "--json")):
        code_en, out_en, _e = run(*argv, LANG="C")
        code_zh, out_zh, _z = run(*argv, LANG="zh_CN.UTF-8")
        assert code_en == code_zh == 0, argv
        assert json.loads(out_en) == json.loads(out_zh), argv
    shown = json.loads(run("show", key, "--json", LANG="zh_CN.UTF-8")[1])
    assert shown["title"] == "空调不制冷" and shown["status"] == "new"


def test_translations_keep_the_text_they_name() -> None:
    """Commands, options and config keys in backticks stay as typed in every translation."""
    tool = load_tool("i18n")
    catalog = tool.load("zh_CN")
    for m in catalog:
        if not m.id or not m.string:
            continue
        msgid = m.id[0] if isinstance(m.id, tuple) else m.id
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for code in re.findall(r"`([^`]+)`", msgid):
            assert all(f"`{code}`" in s or code in s for s in strings), (msgid, strings)
        for s in strings:
            assert unicodedata.normalize("NFC", s) == s


@pytest.mark.parametrize("argv", [["block", "--help"], ["new", "--help"], ["sync", "--help"], ["report", "kpi", "--help"],
                                  ["--help"]])
def test_chinese_help_fits_the_terminal(run: _Run, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    """Click wraps by terminal cells (a CJK character is two) and breaks Chinese between characters, never inside a name."""
    from ticketctl.cells import cells

    monkeypatch.setenv("COLUMNS", "60")
    code, out, _err = run(*argv, LANG="zh_CN.UTF-8")
    assert code == 0 and _has_cjk(out)
    assert max(cells(line) for line in out.splitlines()) <= 60, out
    cmd = typer.main.get_command(build_app())
    for word in argv[:-1]:
        cmd = cmd.commands[word]  # type: ignore[attr-defined]
    zh = i18n.translator("zh_CN").gettext
    texts = [cmd.help or "", *(p.help or "" for p in cmd.params)]
    names = {n for t in texts for n in re.findall(r"[a-z]+(?:_[a-z]+)+", zh(t))}
    assert [n for n in names if n not in out] == []  # identifiers survive wrapping whole


def _templates() -> list[tuple[str, str]]:
    """(msgid, Chinese) of every catalog message made with named placeholders and some words."""
    out = []
    for m in load_tool("i18n").load("zh_CN"):
        if not m.id or isinstance(m.id, tuple) or "{" not in m.id or not m.string:
            continue
        parts = list(string.Formatter().parse(m.id))
        fields = [p for p in parts if p[1] is not None]
        if fields and all(p[1].isidentifier() and not p[2] and not p[3] for p in fields) and \
                len(re.findall(r"[A-Za-z]{2,}", "".join(p[0] for p in parts))) >= 2:
            out.append((m.id, m.string))
    return out


def test_localize_turns_every_stored_english_message_into_chinese() -> None:
    """A refusal the server stored in English (or any message kept as text) reads in
    Chinese on a Chinese device: each message, filled with values, is found again."""
    templates = _templates()
    assert len(templates) > 200
    for msgid, msgstr in templates:
        values = {name: f"V{i}x" for i, name in enumerate(dict.fromkeys(
            p[1] for p in string.Formatter().parse(msgid) if p[1]))}
        assert i18n.localize(msgid.format(**values), "zh_CN") == msgstr.format(**values), msgid


def test_localize_keeps_data_and_unknown_text() -> None:
    """Keys and unknown text stay as they are; identifiers whose placeholder says what they are
    (i18n.LABELLED) read as their labels, a checklist item the reader types next with its identifier."""
    zh = i18n.translator("zh_CN").gettext
    refusal = "cannot start ABC-1: it is resolved (start needs assigned or in_progress)"
    want = zh("cannot {action} {key}: it is {status} ({action} needs {need})").format(
        action="开始处理", key="ABC-1", status="已解决", need="已指派" + zh(" or ") + "处理中")
    assert i18n.localize(refusal, "zh_CN") == want
    joined = "checklist items not done: safety_reset (pass --check ITEM); no customer confirmation (ticketctl confirm ABC-1 ..., or --qr)"
    assert i18n.localize(joined, "zh_CN") == zh("; ").join([
        zh("checklist items not done: {items} (pass --check ITEM)").format(items="安全复位（`safety_reset`）"),
        zh("no customer confirmation (ticketctl confirm {key} ..., or --qr)").format(key="ABC-1")])
    for text in ("something no message says", "2h 05m", "ABC-1: pump", ""):
        assert i18n.localize(text, "zh_CN") == text
    assert i18n.localize(refusal, "en") == refusal
    i18n.use("zh_CN")
    assert i18n.localize(refusal) == want


def test_show_prints_a_stored_escalation_in_the_readers_language(run: _Run) -> None:
    code, out, _err = run("new", "水泵漏水", "--type", "repair", "--dept", "设施部", "--product", "水泵", "--priority", "urgent")
    key = out.strip()
    assert run("sweep", TICKETCTL_NOW="2026-03-02T15:00:00Z")[0] == 0
    events = json.loads(run("show", key, "--json")[1])["timeline"]
    messages = [e["payload"]["message"] for e in events if e["type"] == "ticket.escalated"]
    assert messages and all(not _has_cjk(m.replace("水泵漏水", "")) for m in messages)  # stored in English
    zh_out, en_out = run("show", key, LANG="zh_CN.UTF-8")[1], run("show", key, LANG="C")[1]
    from ticketctl.core.message import labelled_value

    i18n.use("zh_CN")  # values read as the reader's labels and durations (紧急, 4小时)
    for m in messages:
        assert i18n.localize(m) != m and i18n.localize(m, value=labelled_value) in zh_out
        assert m in en_out
