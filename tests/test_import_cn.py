"""Chinese service desks' files: GB18030 and UTF-8-BOM CSVs with Chinese headers in, Excel-safe exports out.

The fixture is ``tests/data/nyc311_cn_gb18030.csv``: 120 real NYC 311 service
requests with Chinese headers and Chinese values, saved as GB18030 the way
Excel on a Chinese Windows saves a CSV, and ``nyc311_cn_utf8bom.csv``, the same
table as Excel's "CSV UTF-8" (``tests/data/README.md``, ``make_cn_tickets.py``).
What the tickets should hold is read from the file here with the stdlib ``csv``
module and Python's codecs, not through the importer. Commands run in process
through ``ticketctl.cli.main`` with a fixed clock (the day after the requests)
and user; the store is read back with ``sqlite3``.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.services.env import Env

DATA = Path(__file__).resolve().parent / "data"
GB = DATA / "nyc311_cn_gb18030.csv"
BOM = DATA / "nyc311_cn_utf8bom.csv"
NOW = "2013-12-26T12:00:00Z"
MAP = "key=工单编号,title=标题,type=类型,dept=部门,product=产品,fault=故障类型,priority=优先级,zone=区域,customer=客户,created_at=创建时间"
PRIORITY = {"紧急": "urgent", "高": "high", "中": "medium", "低": "low"}
NEW_YORK = ZoneInfo("America/New_York")
UTF8_BOM = b"\xef\xbb\xbf"
SUMMARY = {"indexed": 0, "blank": 0, "invalid_rows": 0, "invalid": {}, "tickets_unchanged": 0,
           "written": True, "dry_run": False, "team": None, "dates": {"created_at": "iso"}, "dates_ambiguous": [],
           "retimed": {"count": 0, "rows": []}}


class Cli:
    """``ticketctl`` in process against one home; reads the store file back."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]):
        self.home, self.capsys = home, capsys
        self.db_file = home / "ticketctl.db"

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        env = Env.from_environ({"TICKETCTL_HOME": str(self.home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "ana"})
        code = main(list(argv), env=env)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert (code, err) == (0, ""), err
        return json.loads(out)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(self.db_file)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]] | None:
        if not self.db_file.exists():
            return None
        return {t: self.rows(f"SELECT * FROM {t} ORDER BY 1") for t in ("meta", "events", "tickets", "spans")}


@pytest.fixture()
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def fixture_rows(path: Path = GB, encoding: str = "gb18030") -> list[dict[str, str]]:
    with path.open(newline="", encoding=encoding) as f:
        return list(csv.DictReader(f))


def utc(text: str) -> str:
    """``2013/12/25 23:55:00`` (New York) -> ISO-8601 UTC."""
    t = datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=NEW_YORK)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected(row: dict[str, str]) -> dict[str, str]:
    return {"key": row["工单编号"], "title": row["标题"], "type": row["类型"], "dept": row["部门"], "product": row["产品"],
            "fault": row["故障类型"], "priority": PRIORITY[row["优先级"]], "zone": row["区域"], "customer": row["客户"],
            "created_at": utc(row["创建时间"]), "status": "new"}


def cells(s: str) -> int:
    """Columns a text takes in Excel or a terminal: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def test_the_fixture_is_what_excel_on_a_chinese_windows_saves() -> None:
    raw = GB.read_bytes()
    assert not raw.startswith(UTF8_BOM)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk") == raw.decode("gb18030")  # GBK, the "ANSI" code page 936, is all it needs
    assert BOM.read_bytes().startswith(UTF8_BOM) and BOM.read_bytes()[3:].decode("utf-8") == raw.decode("gb18030")
    rows = fixture_rows()
    assert len(rows) == 120 and len({r["工单编号"] for r in rows}) == 120
    assert b"\r\n" in raw  # Excel's line ends


# -- import ------------------------------------------------------------------------------------------


def test_a_gb18030_csv_with_chinese_headers_imports_every_row(cli: Cli) -> None:
    rows = fixture_rows()
    r = cli.json("import", "csv", str(GB), "--map", MAP, "--tz", "America/New_York")
    assert r == {**SUMMARY, "file": str(GB), "encoding": "gb18030", "rows": 120, "valid": 120, "tickets_new": 120, "events": 120}
    assert cli.rows("SELECT count(*) FROM tickets") == [(120,)]
    for row in rows:
        want = expected(row)
        t = cli.json("show", want["key"])
        assert {k: t[k] for k in want} == want
    # again, for a person: the encoding on stderr, the summary on stdout, nothing changed
    before = cli.snapshot()
    code, out, err = cli("import", "csv", str(GB), "--map", MAP, "--tz", "America/New_York")
    assert (code, err) == (0, f"read {GB} as GB18030\n")
    assert out == f"{GB}: 120 rows, 120 valid, 0 invalid, 0 blank; imported 0 new tickets, 120 unchanged\n"
    assert cli.snapshot() == before


def test_the_utf8_bom_copy_makes_the_same_tickets(cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli("import", "csv", str(BOM), "--map", MAP, "--tz", "America/New_York")
    assert (code, err) == (0, f"read {BOM} as UTF-8 with BOM\n")
    assert out.endswith("imported 120 new tickets, 0 unchanged\n")
    other = Cli(tmp_path / "gb", capsys)
    assert other.json("import", "csv", str(GB), "--map", MAP, "--tz", "America/New_York")["tickets_new"] == 120
    cols = "key, title, type, dept, product, fault, priority, zone, customer, created_at"
    assert cli.rows(f"SELECT {cols} FROM tickets ORDER BY key") == other.rows(f"SELECT {cols} FROM tickets ORDER BY key")
    assert cli.json("show", "NYC311-26985142")["title"] == "皇后区 下水道报修：下水道倒灌"  # the file's first row
    # plain UTF-8, as a script or another system writes it, reads the same
    plain = tmp_path / "plain.csv"
    plain.write_bytes(BOM.read_bytes()[3:])
    r = Cli(tmp_path / "plain", capsys).json("import", "csv", str(plain), "--map", MAP, "--dry-run")
    assert (r["encoding"], r["valid"], r["invalid_rows"]) == ("utf-8", 120, 0)
    # and a gzipped GB18030 file is detected inside the gzip
    import gzip

    gz = tmp_path / "orders.csv.gz"
    gz.write_bytes(gzip.compress(GB.read_bytes()))
    r = Cli(tmp_path / "gz", capsys).json("import", "csv", str(gz), "--map", MAP, "--dry-run")
    assert (r["encoding"], r["valid"], r["invalid_rows"]) == ("gb18030", 120, 0)


def _undecodable(tmp_path: Path) -> tuple[Path, int]:
    """The fixture with one more row holding 0x80, a byte neither UTF-8 nor GB18030 has alone; the row's line."""
    raw = GB.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(raw + "NYC311-1,坏行,维修,交通局,路面,".encode("gb18030") + b"\x80\r\n")
    return bad, raw.count(b"\n") + 1


def test_a_file_neither_utf8_nor_gb18030_leaves_the_store_unchanged(cli: Cli, tmp_path: Path) -> None:
    bad, line = _undecodable(tmp_path)
    first = "工".encode("gb18030")[0]  # UTF-8 stops at the header's first byte
    message = (f"ticketctl: error: {bad}: cannot read it as any of UTF-8 (line 1, byte 0x{first:02X}), GB18030 (line {line},"
               " byte 0x80); nothing was imported; name its encoding with --encoding\n")
    for extra in ([], ["--skip-invalid"], ["--dry-run"], ["--json"]):
        code, out, err = cli("import", "csv", str(bad), "--map", MAP, *extra)
        assert (code, out, err) == (errors.BAD_INPUT, "", message), extra
    assert not cli.db_file.exists()  # decoded before the store is opened
    cli.json("import", "csv", str(GB), "--map", MAP, "--tz", "America/New_York")
    before = cli.snapshot()
    code, out, err = cli("import", "csv", str(bad), "--map", MAP, "--skip-invalid")
    assert (code, out, err) == (errors.BAD_INPUT, "", message)
    assert cli.snapshot() == before


def test_a_big5_file_is_refused_until_its_encoding_is_named(cli: Cli, tmp_path: Path) -> None:
    """Big5 (Taiwan, Hong Kong) decodes as GB18030 into the wrong characters; most of them fall outside GB2312."""
    text = ("編號,標題,類型,部門,產品,客戶\r\n"
            "TW-1,電腦無法開機,維修,資訊部,筆記型電腦,台灣電力公司\r\n"
            "TW-2,網路連線中斷,維修,網路組,交換器,中華電信\r\n")
    big5 = tmp_path / "big5.csv"
    big5.write_bytes(text.encode("big5"))
    garbled = text.encode("big5").decode("gb18030")  # strict GB18030 reads it without an error
    spec = "key=編號,title=標題,type=類型,dept=部門,product=產品,customer=客戶"
    code, out, err = cli("import", "csv", str(big5), "--map", spec)
    assert (code, out) == (errors.BAD_INPUT, "")
    assert err.startswith(f"ticketctl: error: {big5}: it decodes as GB18030, but ") and err.count("\n") == 1
    assert "nothing was imported; name its encoding with --encoding" in err
    assert not cli.db_file.exists()
    r = cli.json("import", "csv", str(big5), "--map", spec, "--encoding", "big5")
    assert (r["encoding"], r["tickets_new"]) == ("big5", 2)
    t = cli.json("show", "TW-1")
    assert (t["title"], t["dept"], t["product"], t["customer"]) == ("電腦無法開機", "資訊部", "筆記型電腦", "台灣電力公司")
    # --encoding gb18030 imports it as it decodes: the override is obeyed (the headers no longer match the map)
    code, _, err = cli("import", "csv", str(big5), "--map", spec, "--encoding", "gb18030", "--dry-run")
    assert code == errors.BAD_INPUT and f"(columns: {', '.join(garbled.splitlines()[0].split(','))})" in err


def test_encoding_option_errors(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("import", "csv", str(GB), "--map", MAP, "--encoding", "klingon")
    assert (code, out, err) == (errors.BAD_INPUT, "", "ticketctl: error: --encoding 'klingon' is not a text encoding"
                                " (e.g. utf-8, gb18030, gbk, big5)\n")
    code, out, err = cli("import", "csv", str(GB), "--map", MAP, "--encoding", "utf-8")
    first = "工".encode("gb18030")[0]
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: {GB}: cannot read it as UTF-8 (line 1, byte"
                                f" 0x{first:02X}); nothing was imported\n")
    broken = tmp_path / "broken_bom.csv"
    body = "标题,部门\r\n".encode() + "暖气".encode("gb18030") + b",x\r\n"  # a UTF-8 header, then a GB18030 row
    broken.write_bytes(UTF8_BOM + body)
    with pytest.raises(UnicodeDecodeError) as where:
        body.decode("utf-8")
    assert body.count(b"\n", 0, where.value.start) == 1
    code, out, err = cli("import", "csv", str(broken), "--map", "title=标题,type=标题,dept=部门,product=部门")
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: {broken}: it starts with a UTF-8 byte-order mark but"
                                f" is not UTF-8 (line 2, byte 0x{body[where.value.start]:02X}); nothing was imported\n")
    # GBK by name (an alias of what Excel calls ANSI on a Chinese Windows) reads the fixture too
    r = cli.json("import", "csv", str(GB), "--map", MAP, "--encoding", "cp936", "--dry-run")
    assert (r["encoding"], r["valid"]) == ("gbk", 120)
    assert not cli.db_file.exists() or cli.rows("SELECT count(*) FROM tickets") == [(0,)]


def test_gb18030_beyond_gbk_loose_dates_chinese_words_and_full_width_headers(cli: Cli, tmp_path: Path) -> None:
    """GB18030's four-byte characters (not in GBK), the dates Excel writes in a Chinese locale, Chinese priority and
    impact words, and a full-width header matched by a half-width --map."""
    rows = [("A-1", "空调不制冷", "刘䶮", "紧急", "系统", "2026/3/2 9:05"),
            ("A-2", "打印机卡纸", "𠮷野家（上海）", "P2", "部门", "2026年3月2日 10:30:15"),
            ("A-3", "门禁故障", "王喆", "低", "个人", "2026-3-2"),
            ("A-4", "网络中断", "李四", "1 - 紧急", "3", "2026/03/02 18:00:00")]
    text = "工单编号,标题,类型,部门,产品,客户,优先级（Ｐ）,影响范围,创建时间\r\n" + "".join(
        f"{k},{title},维修,信息部,网络,{who},{p},{i},{at}\r\n" for k, title, who, p, i, at in rows)
    with pytest.raises(UnicodeEncodeError):
        "刘䶮".encode("gbk")
    path = tmp_path / "gb18030.csv"
    path.write_bytes(text.encode("gb18030"))
    spec = "key=工单编号,title=标题,type=类型,dept=部门,product=产品,customer=客户,priority=优先级(P),impact=影响范围,created_at=创建时间"
    r = cli.json("import", "csv", str(path), "--map", spec)
    assert (r["encoding"], r["rows"], r["tickets_new"], r["invalid"]) == ("gb18030", 4, 4, {})
    got = cli.rows("SELECT key, title, customer, priority, impact, created_at FROM tickets ORDER BY key")
    assert got == [("A-1", "空调不制冷", "刘䶮", "urgent", "system", "2026-03-02T09:05:00Z"),
                   ("A-2", "打印机卡纸", "𠮷野家（上海）", "high", "department", "2026-03-02T10:30:15Z"),
                   ("A-3", "门禁故障", "王喆", "low", "user", "2026-03-02T00:00:00Z"),
                   ("A-4", "网络中断", "李四", "urgent", "user", "2026-03-02T18:00:00Z")]
    # a Chinese value that is no priority is invalid like any other, and named in the report
    bad = tmp_path / "bad_priority.csv"
    bad.write_bytes("标题,类型,部门,产品,优先级\r\n漏水,维修,后勤部,管道,十万火急\r\n".encode("gb18030"))
    code, out, err = cli("import", "csv", str(bad), "--map", "title=标题,type=类型,dept=部门,product=产品,priority=优先级", "--json")
    assert code == errors.REFUSED and json.loads(out)["invalid"] == {"bad_priority": {"count": 1, "rows": [2], "example": "十万火急"}}


def test_a_chinese_column_the_file_lacks_names_the_columns_it_has(cli: Cli) -> None:
    code, out, err = cli("import", "csv", str(GB), "--map", "title=標題,type=类型,dept=部门,product=产品")  # 標題: traditional
    header = next(csv.reader(io.StringIO(GB.read_bytes().decode("gb18030"))))
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: --map: no column '標題' in {GB.name}"
                                f" (columns: {', '.join(header)})\n")


def test_an_xlsx_with_chinese_headers_still_imports(cli: Cli, tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = fixture_rows()[:30]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    path = tmp_path / "工单.xlsx"
    wb.save(path)
    r = cli.json("import", "csv", str(path), "--map", MAP, "--tz", "America/New_York")
    assert r == {**SUMMARY, "file": str(path), "encoding": None, "rows": 30, "valid": 30, "tickets_new": 30, "events": 30}
    for row in rows[::7]:
        want = expected(row)
        t = cli.json("show", want["key"])
        assert {k: t[k] for k in want} == want
    code, out, err = cli("import", "csv", str(path), "--map", MAP, "--encoding", "gb18030")
    assert (code, out, err) == (errors.BAD_INPUT, "", f"ticketctl: error: --encoding is for CSV files: {path} is an XLSX"
                                " workbook, which holds its text as Unicode\n")
    code, out, err = cli("import", "csv", str(path), "--map", MAP, "--tz", "America/New_York")
    assert (code, err) == (0, "")  # no encoding to report


# -- exports -----------------------------------------------------------------------------------------


@pytest.fixture()
def imported(cli: Cli) -> list[dict[str, str]]:
    cli.json("import", "csv", str(GB), "--map", MAP, "--tz", "America/New_York")
    return fixture_rows()


def test_heatmap_csv_file_has_a_bom_and_stdout_is_plain_utf8(cli: Cli, imported: list[dict[str, str]], tmp_path: Path) -> None:
    want = Counter((r["部门"], r["产品"]) for r in imported)  # every ticket is new: all of them are backlog
    out_csv = tmp_path / "热力图.csv"
    code, out, err = cli("report", "heatmap", "--by", "dept,product", "--csv", str(out_csv))
    assert (code, out, err) == (0, "", f"wrote {out_csv} (120 open tickets)\n")
    raw = out_csv.read_bytes()
    assert raw.startswith(UTF8_BOM) and not raw[3:].startswith(UTF8_BOM)
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        got = list(csv.DictReader(f))
    assert list(got[0]) == ["dept", "product", "count", "over_4h", "oldest_age_h"]
    assert {(r["dept"], r["product"]): int(r["count"]) for r in got} == want
    code, out, err = cli("report", "heatmap", "--by", "dept,product", "--csv", "-")
    assert (code, err) == (0, "")
    assert not out.startswith("\ufeff")
    assert out == raw[3:].decode("utf-8")  # the same CSV, without the BOM
    code, out, err = cli("report", "heatmap", "--csv", "-", "--json")
    assert (code, out, err) == (errors.BAD_INPUT, "", "ticketctl: error: --csv - and --json both print to stdout: choose one\n")


def _column_width(ws: Any, letter: str) -> float:
    return ws.column_dimensions[letter].width


def test_xlsx_exports_keep_chinese_text_and_fit_its_width(cli: Cli, imported: list[dict[str, str]], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    depts = {r["部门"] for r in imported}
    products = {r["产品"] for r in imported}
    oldest = sorted(imported, key=lambda r: (utc(r["创建时间"]), r["工单编号"]))[:5]  # all are over 4 h old at NOW
    heat, daily = tmp_path / "heat.xlsx", tmp_path / "daily.xlsx"
    assert cli("report", "heatmap", "--by", "dept,product", "--xlsx", str(heat))[0] == 0
    assert cli.json("report", "daily", "--xlsx", str(daily))["backlog"] == 120
    for path in (heat, daily):
        wb = load_workbook(path)
        grid, stuck = wb.worksheets[0], wb.worksheets[1]
        labels = [grid.cell(r, 1).value for r in range(2, grid.max_row + 1)]
        assert set(labels) == depts
        header = [c.value for c in grid[1]][1:-1]
        assert set(header) == products
        totals = {grid.cell(r, 1).value: grid.cell(r, grid.max_column).value for r in range(2, grid.max_row + 1)}
        assert totals == Counter(r["部门"] for r in imported)
        # a CJK character is two columns wide: 住房保护与发展局 needs 16 + a margin of 2, not len() = 8
        assert _column_width(grid, "A") >= max(cells(d) for d in depts) + 2
        for product in grid[1][1:-1]:  # the counts below are narrower than the product names
            assert _column_width(grid, product.column_letter) == max(cells(str(product.value)) + 2, 8.43), product.value
        got = [[c.value for c in row] for row in stuck.iter_rows(min_row=2, max_col=5)]
        assert got == [[r["工单编号"], "new", r["部门"], r["产品"], r["故障类型"]] for r in oldest]
        for letter, col in (("C", "部门"), ("D", "产品"), ("E", "故障类型")):
            widest = max([cells(stuck[f"{letter}1"].value)] + [cells(r[col]) for r in oldest])
            assert _column_width(stuck, letter) == max(widest + 2, 8.43), letter
    kpis = load_workbook(daily).worksheets[2]
    assert depts <= {kpis.cell(r, 1).value for r in range(1, kpis.max_row + 1)}
    assert _column_width(kpis, "A") >= max(cells(d) for d in depts) + 2
