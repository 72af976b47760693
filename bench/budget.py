"""Shared by the benchmarks: find the installed ticketctl, print figures against budgets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

Row = tuple[str, float, float | None, str]  # (measure, seconds, budget in seconds or None, note)


def sibling(name: str) -> Any:
    """Another benchmark script of this folder as a module (``sibling("cli")``: its timing helpers)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ticketctl() -> str:
    """The ticketctl next to this interpreter (a venv), else the one on PATH."""
    here = Path(sys.executable).with_name("ticketctl")
    return str(here) if here.exists() else "ticketctl"


def print_rows(rows: list[Row], digits: int = 2) -> None:
    print(f"{'measure':<36} {'median s':>9} {'budget s':>9}  verdict  note")
    missed = 0
    for name, secs, budget, note in rows:
        verdict = "-" if budget is None else ("met" if secs <= budget else "MISSED")
        missed += verdict == "MISSED"
        print(f"{name:<36} {secs:>9.{digits}f} {budget if budget else '':>9}  {verdict:<7}  {note}")
    print("all budgets met" if not missed else f"{missed} budget(s) MISSED")
