"""``--json`` output: the fast path for lists of flat rows prints exactly what
``json.dumps(data, indent=2, ensure_ascii=False)`` prints, and anything else
goes through json itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ticketctl.commands import output

CASES: list[Any] = [
    [{"sku": "BOSCH-08921", "name": "pressure sensor", "place": "van-ana", "on_hand": 3, "reserved": 0, "available": 3}],
    [{"a": "漏水 \"quoted\" back\\slash\ttab\nnewline \u2028 \x01", "b": None, "c": True, "d": False, "e": -12},
     {"a": "", "b": 10**20, "c": None, "d": "é", "e": 0}],
    [{"x": 1}, {"y": 2, "z": "two"}],
]
FALLBACK: list[Any] = [
    [], {}, [{}], [{"a": 1.5}], [{"a": [1, 2]}], [{"a": {"b": 1}}], [1, 2], [{"a": 1}, 3], "text", None,
    [{1: "int key"}],
]


@pytest.mark.parametrize("data", CASES + FALLBACK)
def test_emit_json_prints_what_json_dumps_prints(data: Any, capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_json(data)
    assert capsys.readouterr().out == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("data", CASES)
def test_flat_rows_take_the_fast_path(data: Any) -> None:
    assert output._flat_rows_json(data) == json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("data", FALLBACK)
def test_anything_else_goes_through_json(data: Any) -> None:
    assert output._flat_rows_json(data) is None
