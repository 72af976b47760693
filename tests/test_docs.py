"""The README's references are generated from the code; they must not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tools_loader import load_tool

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gen_docs():
    return load_tool("gen_docs")


def test_readme_references_are_current(gen_docs):
    current = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gen_docs.render(current) == current, "README.md is out of date: run python tools/gen_docs.py"


def test_every_command_is_documented_with_an_example(gen_docs):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    leaves = [p for p in gen_docs.command_paths() if p and not _is_group(gen_docs, p)]
    assert len(leaves) >= 20
    for path in leaves:
        title = " ".join(["ticketctl", *path])
        assert f"### `{title}`" in readme, f"{title} is missing from the README"
        assert "Example: ticketctl" in gen_docs.help_text(path) or "Example: TICKETCTL_" in gen_docs.help_text(path), (
            f"{title} --help has no example"
        )


def _is_group(gen_docs, path):
    return any(len(q) > len(path) and q[: len(path)] == path for q in gen_docs.command_paths())


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert block
    commands = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && ticketctl demo")
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_config_reference_lists_every_field(gen_docs):
    from ticketctl.core.config.reference import field_docs

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key, _, doc in field_docs():
        assert doc, f"config field {key} has no documentation"
        assert f"| `{key}` |" in readme


def test_the_security_doc_names_only_tests_that_exist() -> None:
    """docs/security.md says which tests hold each line: they must exist."""
    import ast
    import re

    doc = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
    section = doc
    defined: dict[str, set[str]] = {}
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        defined[path.name] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    named = re.findall(r"(?:(test_\w+\.py)::)?(test_\w+)\b(?!\.py)", section)
    assert len(named) >= 40
    current = None
    for file, name in named:
        current = file or current
        assert current is not None and name in defined[current], (current, name)
