"""``report trend --xlsx`` and ``report daily --xlsx`` carry native Excel charts
whose series are references to the tables' cells. Read from the saved file's
parts (the chart XML, the drawing that anchors it, the sheet that holds the
drawing), the references resolved with openpyxl and compared with the
``--json`` reports and with a plain Python count of the tickets."""

from __future__ import annotations

import json
import posixpath
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from ticketctl.cli import main
from ticketctl.core.model import OPEN_STATUSES, parse_time
from ticketctl.services import daily, demo, report
from ticketctl.services.env import Env

NOW = "2026-03-12T10:30:00Z"
NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def make_env(home: Path, lang: str = "en") -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "sup", "TICKETCTL_LANG": lang})


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("charts")
    env = make_env(h)
    demo.generate(env, 800, 30, seed=5)
    env.close()
    return h


def run(home: Path, capsys: pytest.CaptureFixture[str], *argv: str, lang: str = "en") -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv), env=make_env(home, lang))
    out, err = capsys.readouterr()
    return code, out, err


# -- reading the package ------------------------------------------------------------------


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships: id -> the target's path in the package."""
    folder, name = posixpath.split(part)
    rels = ET.fromstring(z.read(f"{folder}/_rels/{name}.rels"))
    def where(target: str) -> str:  # absolute ("/xl/...") or relative to the part's folder
        return target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))

    return {r.get("Id"): where(r.get("Target")) for r in rels.findall("rel:Relationship", NS)}


def charts_by_sheet(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per sheet name, its charts as found through sheet -> drawing -> chart:
    ``{"kind": "barChart"/"lineChart"/..., "title", "axes": [titles], "from_col"
    (0-based column of the anchor), "series": [{"kind", "tx", "cat", "val"}]}``."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with zipfile.ZipFile(path) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        book_rels = _rels(z, "xl/workbook.xml")
        for sheet in book.findall("m:sheets/m:sheet", NS):
            part = book_rels[sheet.get(R_ID)]
            ws = ET.fromstring(z.read(part))
            for drawing in ws.findall("m:drawing", NS):
                dpart = _rels(z, part)[drawing.get(R_ID)]
                dxml = ET.fromstring(z.read(dpart))
                drels = _rels(z, dpart)
                for anchor in dxml:
                    ref = anchor.find(".//c:chart", NS)
                    chart = ET.fromstring(z.read(drels[ref.get(R_ID)]))
                    plot = chart.find("c:chart/c:plotArea", NS)
                    series = [{"kind": kind.tag.split("}")[1],
                               "tx": s.findtext("c:tx/c:strRef/c:f", namespaces=NS),
                               "cat": s.findtext("c:cat/c:strRef/c:f", namespaces=NS) or s.findtext("c:cat/c:numRef/c:f", namespaces=NS),
                               "val": s.findtext("c:val/c:numRef/c:f", namespaces=NS)}
                              for kind in plot if kind.tag.endswith("Chart") for s in kind.findall("c:ser", NS)]
                    out[sheet.get("name")].append({
                        "kind": series[0]["kind"] if series else None,
                        "title": "".join(t.text or "" for t in chart.findall("c:chart/c:title//a:t", NS)),
                        "axes": ["".join(t.text or "" for t in ax.findall("c:title//a:t", NS))
                                 for ax in plot if ax.tag.endswith("Ax")],
                        "from_col": int(anchor.findtext("xdr:from/xdr:col", namespaces=NS)),
                        "series": series,
                    })
    return dict(out)


def cells(path: Path, ref: str) -> list[Any]:
    """The values a reference like ``'trend'!$B$2:$B$8`` points at."""
    from openpyxl import load_workbook

    m = re.fullmatch(r"'(.+)'!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", ref)
    assert m, ref
    ws = load_workbook(path)[m.group(1).replace("''", "'")]
    got = ws[m.group(2).replace("$", "")]
    if not isinstance(got, tuple):
        return [got.value]
    return [row[0].value for row in got]


def table_width(path: Path, sheet: str) -> int:
    from openpyxl import load_workbook

    return load_workbook(path)[sheet].max_column


# -- trend ----------------------------------------------------------------------------------


def test_trend_xlsx_charts_the_days_json_gives(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trend.xlsx"
    code, out, err = run(home, capsys, "report", "trend", "--days", "14", "--xlsx", str(path))
    assert (code, out) == (0, "") and err == f"wrote {path} (14 days)\n"
    code, out, _ = run(home, capsys, "report", "trend", "--days", "14", "--json")
    want = json.loads(out)["series"]
    assert code == 0 and sum(d["opened"] for d in want) > 0 and sum(d["closed"] for d in want) > 0
    assert sum(d["blocked"] for d in want) > 0

    charts = charts_by_sheet(path)
    assert list(charts) == ["trend"] and len(charts["trend"]) == 1
    chart = charts["trend"][0]
    assert chart["kind"] == "lineChart" and chart["title"].startswith("Opened vs closed per day")
    assert chart["axes"] == ["day", "tickets"]
    assert chart["from_col"] >= table_width(path, "trend")  # beside the table, not over it
    assert [(s["tx"], s["cat"], s["val"]) for s in chart["series"]] == [
        ("'trend'!B1", "'trend'!$A$2:$A$15", "'trend'!$B$2:$B$15"),
        ("'trend'!C1", "'trend'!$A$2:$A$15", "'trend'!$C$2:$C$15"),
        ("'trend'!D1", "'trend'!$A$2:$A$15", "'trend'!$D$2:$D$15"),
    ]
    s_opened, s_closed, s_blocked = chart["series"]
    assert cells(path, s_opened["tx"]) == ["opened"] and cells(path, s_closed["tx"]) == ["closed"]
    assert cells(path, s_blocked["tx"]) == ["blocked: awaiting_parts"]
    assert cells(path, s_blocked["val"]) == [d["blocked"] for d in want]
    assert cells(path, s_opened["cat"]) == [d["day"] for d in want]
    assert cells(path, s_opened["val"]) == [d["opened"] for d in want]
    assert cells(path, s_closed["val"]) == [d["closed"] for d in want]


def test_trend_xlsx_in_chinese_and_a_bad_folder(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "趋势.xlsx"
    code, _, err = run(home, capsys, "report", "trend", "--days", "3", "--xlsx", str(path), lang="zh_CN")
    assert code == 0 and str(path) in err
    ((sheet, (chart,)),) = charts_by_sheet(path).items()
    assert sheet == "趋势" and "每日" in chart["title"] and chart["axes"] == ["日期", "工单数"]
    assert chart["series"][0]["val"] == "'趋势'!$B$2:$B$4" and cells(path, chart["series"][0]["tx"]) == ["新建"]
    assert chart["series"][2]["val"] == "'趋势'!$D$2:$D$4" and "备件" in cells(path, chart["series"][2]["tx"])[0]
    code, _, err = run(home, capsys, "report", "trend", "--xlsx", str(tmp_path / "nope" / "t.xlsx"))
    assert code == 2 and err.startswith("ticketctl: error: --xlsx") and not (tmp_path / "nope").exists()


def test_trend_xlsx_charts_another_reason(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--reason picks the third series: its header names the reason, its cells are --json's days."""
    path = tmp_path / "trend.xlsx"
    code, _, _ = run(home, capsys, "report", "trend", "--days", "20", "--reason", "awaiting_customer", "--xlsx", str(path))
    code2, out, _ = run(home, capsys, "report", "trend", "--days", "20", "--reason", "awaiting_customer", "--json")
    r = json.loads(out)
    assert (code, code2) == (0, 0) and r["reason"] == "awaiting_customer" and r["blocked"] > 0
    ((chart,),) = charts_by_sheet(path).values()
    third = chart["series"][2]
    assert third["val"] == "'trend'!$D$2:$D$21" and cells(path, third["tx"]) == ["blocked: awaiting_customer"]
    assert cells(path, third["val"]) == [d["blocked"] for d in r["series"]]


# -- daily ----------------------------------------------------------------------------------


def test_daily_xlsx_charts_dwell_and_blocked(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "daily.xlsx"
    code, _, _ = run(home, capsys, "report", "daily", "--xlsx", str(path))
    assert code == 0
    charts = charts_by_sheet(path)
    assert sorted(charts) == ["blocked", "dwell"] and all(len(c) == 1 for c in charts.values())

    # dwell: mean hours in the current status of the open tickets per department, by a plain count
    env = make_env(home)
    now = parse_time(NOW)
    waits: dict[str, list[float]] = defaultdict(list)
    for t in env.store.select_tickets("", (), "key", None):
        if t.status in OPEN_STATUSES:
            waits[t.dept].append((now - parse_time(t.status_since or t.created_at)).total_seconds() / 3600)
    assert len(waits) >= 3
    (dwell,) = charts["dwell"]
    assert dwell["kind"] == "barChart" and dwell["title"] == "Average wait per department against 2 h"
    assert dwell["axes"] == ["dept", "hours"] and dwell["from_col"] >= table_width(path, "dwell")
    n = len(waits) + 1
    assert [(s["kind"], s["tx"], s["cat"], s["val"]) for s in dwell["series"]] == [
        ("barChart", "'dwell'!C1", f"'dwell'!$A$2:$A${n}", f"'dwell'!$C$2:$C${n}"),
        ("lineChart", "'dwell'!D1", f"'dwell'!$A$2:$A${n}", f"'dwell'!$D$2:$D${n}"),
    ]
    bars, line = dwell["series"]
    assert cells(path, bars["cat"]) == sorted(waits)
    assert cells(path, bars["val"]) == pytest.approx([sum(w) / len(w) for _, w in sorted(waits.items())], abs=0.006)
    assert cells(path, line["val"]) == [2.0] * len(waits) and cells(path, line["tx"]) == ["threshold (h)"]

    # blocked: the counts `report blocked --json` gives, per reason, in its order
    code, out, _ = run(home, capsys, "report", "blocked", "--json")
    reasons = json.loads(out)["reasons"]
    assert code == 0 and len(reasons) >= 2 and any(r["blocked_now"] for r in reasons)
    (blocked,) = charts["blocked"]
    m = len(reasons) + 1
    assert blocked["kind"] == "barChart" and blocked["title"] == "Blocked tickets per reason"
    assert blocked["from_col"] >= table_width(path, "blocked")
    assert [(s["tx"], s["cat"], s["val"]) for s in blocked["series"]] == [
        ("'blocked'!B1", f"'blocked'!$A$2:$A${m}", f"'blocked'!$B$2:$B${m}"),
        ("'blocked'!C1", f"'blocked'!$A$2:$A${m}", f"'blocked'!$C$2:$C${m}"),
    ]
    tickets, now_ = blocked["series"]
    assert cells(path, tickets["cat"]) == [r["label"] for r in reasons]
    assert cells(path, tickets["val"]) == [r["tickets"] for r in reasons]
    assert cells(path, now_["val"]) == [r["blocked_now"] for r in reasons]


def test_daily_xlsx_in_chinese(home: Path, tmp_path: Path) -> None:
    from ticketctl import i18n
    from ticketctl.core.labels import label

    path = tmp_path / "daily.xlsx"
    env = make_env(home, "zh_CN")
    i18n.use("zh_CN")
    try:
        r = daily.daily(env, path)
    finally:
        i18n.use("en")
    assert r["sheets"] == list(daily.SHEETS)  # English in --json
    charts = charts_by_sheet(path)
    (dwell_sheet,) = [s for s, c in charts.items() if c[0]["series"][-1]["kind"] == "lineChart"]
    (chart,) = charts[dwell_sheet]
    assert dwell_sheet == "停留时间" and chart["title"] == "各部门平均等待时间（警戒线 2 小时）"
    (blocked_sheet,) = [s for s in charts if s != dwell_sheet]
    names = cells(path, charts[blocked_sheet][0]["series"][0]["cat"])
    assert names == [label("reason", x["reason"], lang="zh_CN") for x in report.blocked(env)["reasons"]]
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in names)
