"""Import tickets from any other system: one CSV or XLSX row, one ticket.

The user maps ticket fields to the file's columns (``title=Subject,dept=Team``).
Everything is checked before anything is written:

1. the mapping: an unknown field, a column the file does not have, or a
   required field (title, type, dept, product) left unmapped is bad input;
2. every row: missing required values, a priority, impact or created_at that
   cannot be read, a key used twice in the file or already taken by another
   ticket. Rows are numbered as a spreadsheet shows them (the header is row 1).

With any invalid row nothing is written, unless the caller skips invalid rows.
A mapped ``key`` column makes a re-import idempotent: the ``ticket.created``
event's id is a uuid5 of the key, and a key whose event is already in the
store is counted unchanged. Without one, each row gets this device's next
``PFX-N`` key, so importing the same file twice makes the tickets twice.

A CSV is read whole and decoded before its first row is looked at, so a file
read in the wrong encoding fails before anything is checked or written. Its
encoding is ``--encoding`` when given, else detected (:func:`decode`): a
byte-order mark (UTF-8, as Excel's "CSV UTF-8" writes, or UTF-16, its "Unicode
text"), else strict UTF-8, else strict GB18030, what Excel on a Chinese Windows
saves ("CSV", the ANSI code page: GBK, which GB18030 contains). Strict GB18030
also decodes most Big5, Shift_JIS and Latin-1 files, into the wrong characters;
those come out mostly as characters outside GB2312, which Chinese text hardly
uses, so such a file is refused with the advice to name its encoding.
"""

from __future__ import annotations

import codecs
import collections
import csv
import gzip
import io
import itertools
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ticketctl.core import dates, workflow
from ticketctl.core.config import IMPACTS, PRIORITIES
from ticketctl.core.model import Event, Ticket, iso
from ticketctl.errors import BadInput, Refused
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.servicenow_log import KEEP_ROWS, READ_ERRORS, uid, unreadable, zone
from ticketctl.store.db import Store

FIELDS = ("title", "type", "dept", "product", "fault", "priority", "impact", "zone", "customer", "phone", "channel",
          "description", "created_at", "key", "status", "resolved_at", "closed_at")
#: the columns read as times, each with its own layout (``core.dates.detect`` over the whole column)
TIME_FIELDS = ("created_at", "resolved_at", "closed_at")
REQUIRED = ("title", "type", "dept", "product")
DEVICE = "import:csv"
SEQ_KEY = "seq:import:csv"
XLSX = (".xlsx", ".xlsm")

PRIORITY_WORDS = {"urgent": "urgent", "critical": "urgent", "high": "high", "medium": "medium", "moderate": "medium",
                  "normal": "medium", "low": "low", "planning": "low",
                  "紧急": "urgent", "特急": "urgent", "高": "high", "中": "medium", "一般": "medium", "普通": "medium", "低": "low"}
IMPACT_DIGITS = {"1": "system", "2": "department", "3": "user"}
IMPACT_WORDS = {"系统": "system", "全系统": "system", "部门": "department", "用户": "user", "个人": "user"}
#: byte-order marks: (the mark, the codec reported, the codec that reads what follows it)
BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"))
#: what detection tries, in order, on a file without a byte-order mark
CANDIDATES = ("utf-8", "gb18030")
_LEADING_DIGIT = re.compile(r"^p?([1-4])\b")


def parse_map(specs: list[str]) -> dict[str, str]:
    """``["title=Subject,dept=Team", ...]`` -> {field: column}; raises BadInput."""
    out: dict[str, str] = {}
    for spec in specs:
        for pair in spec.split(","):
            if not pair.strip():
                continue
            name, eq, column = pair.partition("=")
            name, column = name.strip(), column.strip()
            if not eq or not column:
                raise BadInput(f"--map: {pair.strip()!r} is not field=column")
            if name not in FIELDS:
                raise BadInput(f"--map: unknown field {name!r} (fields: {', '.join(FIELDS)})")
            if name in out:
                raise BadInput(f"--map: {name} is mapped twice")
            out[name] = column
    missing = [f for f in REQUIRED if f not in out]
    if missing:
        raise BadInput(f"--map must map {', '.join(missing)} (required: {', '.join(REQUIRED)})")
    return out


def _cell(v: Any) -> Any:
    """A cell as text; a time stays a datetime, a whole float loses its ``.0``."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _fold(header: str) -> str:
    """A column name as ``--map`` matches it when no column has it exactly: case
    folded, and full-width forms (``ＩＤ``, ``优先级（P）``, typed with a Chinese
    input method) read as their ASCII ones (NFKC)."""
    return unicodedata.normalize("NFKC", header).casefold()


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def encoding_label(codec: str) -> str:
    """How a message names a codec :func:`decode` reports: ``GB18030``, ``UTF-8``, "UTF-8 with BOM"."""
    return _("UTF-8 with BOM") if codec == "utf-8-sig" else codec.upper()


def _where(data: bytes, e: UnicodeDecodeError) -> str:
    """Where a strict decode failed, as a person finds it: the line and the byte."""
    line = data.count(b"\n", 0, e.start) + 1
    if e.start >= len(data):
        return _("line {line}, at the end").format(line=line)
    return _("line {line}, byte 0x{byte:02X}").format(line=line, byte=data[e.start])


def _outside_gb2312(text: str) -> tuple[int, int, str]:
    """(non-ASCII characters, how many of them GB2312 lacks, the commonest of those).

    GB2312's 6,763 hanzi cover nearly all of any Simplified Chinese text; a
    Big5, Shift_JIS or Latin-1 file read as GB18030 comes out mostly as
    characters GB2312 lacks (GBK's extra hanzi, the private use area)."""
    counts = collections.Counter(text)  # counted in C: fast on a large file
    total = rare = 0
    example, most = "", 0
    for ch, n in counts.items():
        if ch.isascii():
            continue
        total += n
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            rare += n
            if n > most:
                example, most = ch, n
    return total, rare, example


def decode(path: Path, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """``data`` (the bytes of ``path``) as text, and the codec that read it.

    ``encoding`` is used as given (a leading BOM is dropped). Else: a BOM picks
    ``utf-8-sig`` or ``utf-16``; else the first of :data:`CANDIDATES` that
    decodes the whole file strictly. A GB18030 reading is refused when more than
    a quarter of its non-ASCII characters are outside GB2312 (see the module's
    docstring). Raises BadInput for an unknown encoding or a file it cannot read."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
            text = data.decode(codec)
        except LookupError:
            raise BadInput(_("--encoding {name!r} is not a text encoding (e.g. utf-8, gb18030, gbk, big5)").format(
                name=encoding)) from None
        except UnicodeDecodeError as e:
            raise BadInput(_("{file}: cannot read it as {encoding} ({where}); nothing was imported").format(
                file=path, encoding=encoding_label(codec), where=_where(data, e))) from None
        return text.removeprefix("\ufeff"), codec
    for bom, codec, plain in BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                return body.decode(plain), codec
            except UnicodeDecodeError as e:
                raise BadInput(_("{file}: it starts with a {encoding} byte-order mark but is not {encoding} ({where});"
                                 " nothing was imported").format(file=path, encoding=codec.upper().removesuffix("-SIG"),
                                                                 where=_where(body, e))) from None
    failed = []
    for codec in CANDIDATES:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as e:
            failed.append(f"{encoding_label(codec)} ({_where(data, e)})")
            continue
        if codec == "gb18030":
            total, rare, example = _outside_gb2312(text)
            if rare * 4 > total:
                raise BadInput(_("{file}: it decodes as GB18030, but {rare} of its {total} non-ASCII characters (e.g. {example!r})"
                                 " are rare ones outside GB2312, as when a Big5, Shift_JIS or Latin-1 file is read as GB18030;"
                                 " nothing was imported; name its encoding with --encoding (--encoding gb18030 to import it"
                                 " as it decodes)").format(file=path, rare=rare, total=total, example=example))
        return text, codec
    raise BadInput(_("{file}: cannot read it as any of {tried}; nothing was imported; name its encoding with --encoding").format(
        file=path, tried=", ".join(failed)))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except READ_ERRORS as e:
        raise unreadable(path, 0, e, False) from None
    except OSError as e:  # no permission
        raise BadInput(_("{path}: cannot read it: {error}").format(path=path, error=e.strerror)) from None


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, list[Any]]]:
    no = 0
    lines = io.StringIO(text, newline="")
    try:
        first = lines.readline()
        reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
        for no, row in enumerate(reader, start=1):
            yield no, [_cell(v) for v in row]
    except csv.Error as e:
        raise unreadable(path, no, e, False) from None


def read_rows(path: Path, encoding: str | None = None) -> tuple[str | None, Iterator[tuple[int, list[Any]]]]:
    """The codec a CSV was read with (None for an XLSX) and its (row number,
    cells): a CSV (``,``/``;``/tab/``|``, optionally gzip), decoded whole here
    by :func:`decode` before any row is handed out, or the first sheet of an
    XLSX; row 1 is the header. Raises BadInput for a file it cannot read."""
    try:
        is_file = path.is_file()
    except OSError as e:  # a name too long, a loop of links
        raise BadInput(_("{path}: cannot read it: {error}").format(path=path, error=e.strerror)) from None
    if not is_file:
        raise BadInput(f"{path}: no such file")
    if path.suffix.lower() in XLSX:
        if encoding:
            raise BadInput(_("--encoding is for CSV files: {file} is an XLSX workbook, which holds its text as Unicode").format(
                file=path))
        return None, _xlsx_rows(path)
    text, codec = decode(path, _read_bytes(path), encoding)
    return codec, _csv_rows(path, text)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import zipfile

    from openpyxl import load_workbook  # only for XLSX: a heavy import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
        raise BadInput(f"{path}: not a readable XLSX workbook ({type(e).__name__}: {e})") from None
    try:
        ws = wb.worksheets[0]
        for no, row in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            yield no, [_cell(v) for v in row]
    finally:
        wb.close()


def resolve_columns(path: Path, header: list[str], fields_to_columns: dict[str, str]) -> dict[str, int]:
    """{field: column index} for ``--map``'s column names in ``header`` (exact,
    else case and width folded, see :func:`_fold`). Raises BadInput naming the
    columns it lacks."""
    col: dict[str, int] = {}
    lower = {_fold(h): i for i, h in reversed(list(enumerate(header))) if h}
    unknown = []
    for f, c in fields_to_columns.items():
        if c in header:
            col[f] = header.index(c)
        elif _fold(c) in lower:
            col[f] = lower[_fold(c)]
        else:
            unknown.append(c)
    if unknown:
        raise BadInput(f"--map: no column {', '.join(repr(c) for c in unknown)} in {path.name}"
                       f" (columns: {', '.join(h for h in header if h)})")
    return col


def priority_word(v: str) -> str | None:
    low = v.lower()
    if low in PRIORITY_WORDS:
        return PRIORITY_WORDS[low]
    m = _LEADING_DIGIT.match(low)
    return PRIORITIES[int(m.group(1)) - 1] if m else None


def impact_word(v: str) -> str | None:
    low = v.lower()
    if low in IMPACTS:
        return low
    if low in IMPACT_WORDS:
        return IMPACT_WORDS[low]
    return IMPACT_DIGITS.get(low[:1]) if re.match(r"^[1-3]\b", low) else None


@dataclass
class _Invalid:
    """Invalid rows by reason: a complete count, the first row numbers, one
    example value; and the set of invalid rows (a row may have several reasons)."""

    by: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: set[int] = field(default_factory=set)

    def add(self, reason: str, row: int, example: Any = None) -> None:
        d = self.by.setdefault(reason, {"count": 0, "rows": []})
        d["count"] += 1
        if len(d["rows"]) < KEEP_ROWS:
            d["rows"].append(row)
        if example is not None and "example" not in d:
            d["example"] = str(example)
        self.rows.add(row)


@dataclass
class Reading:
    """How a run reads values: the zone of naive times, each time column's
    layout, ``--status-map`` ({source: target}) and ``--value-map``."""

    tz: tzinfo
    layouts: dict[str, dates.Layout] = field(default_factory=dict)
    status_map: dict[str, str] = field(default_factory=dict)
    value_map: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, name: str, raw: str) -> str:
        return self.value_map.get(name, {}).get(raw, raw)


def _validate_row(no: int, cells: list[Any], col: dict[str, int], rd: Reading, bad: _Invalid) -> dict[str, Any] | None:
    """The ticket fields of one row, or None (the reasons recorded in ``bad``)."""
    vals = {f: cells[i] if i < len(cells) else "" for f, i in col.items()}
    ok = True
    for f in REQUIRED:
        if not str(vals[f]).strip():
            bad.add(f"missing_{f}", no)
            ok = False
    out: dict[str, Any] = {f: str(v) for f, v in vals.items() if f not in TIME_FIELDS and str(v).strip()}
    if out.get("priority"):
        p = priority_word(rd.value("priority", out["priority"]))
        if p is None:
            bad.add("bad_priority", no, out["priority"])
            ok = False
        out["priority"] = p
    if out.get("impact"):
        i = impact_word(rd.value("impact", out["impact"]))
        if i is None:
            bad.add("bad_impact", no, out["impact"])
            ok = False
        out["impact"] = i
    if "channel" in out:
        out["channel"] = out["channel"].lower()
    for f in TIME_FIELDS:
        if vals.get(f) not in (None, ""):
            at = rd.layouts[f].parse(vals[f], rd.tz)
            if at is None:
                bad.add(f"bad_{f}", no, vals[f])
                ok = False
            out[f] = at
    if "status" in col:
        raw = out.pop("status", "")
        target = rd.status_map.get(rd.value("status", raw)) if raw else "new"
        if target is None:
            bad.add("unmapped_status", no, raw)
            ok = False
        elif target in ("resolved", "closed") and not (out.get("resolved_at") or out.get("closed_at")):
            bad.add(f"missing_{target}_at", no, raw)
            ok = False
        out["status"] = target
    if "key" in out:
        out["key"] = out["key"].upper()
        if any(c.isspace() for c in out["key"]):
            bad.add("bad_key", no, out["key"])
            ok = False
    elif "key" in col:
        bad.add("missing_key", no)
        ok = False
    return out if ok else None


def history(eid: str, created: str, fields: dict[str, Any]) -> tuple[list[tuple[str, str, str, dict[str, Any]]], bool]:
    """The events after ``ticket.created`` that bring a one-row ticket to its
    mapped status: (id, type, at, payload) each, and whether a time had to be
    moved up to the creation (a closed date before the created date, as raw
    data has). ``resolved_at`` falls back to ``closed_at`` and back; an open
    status ignores both; in_progress and blocked start at the creation."""
    status = fields.pop("status", None) or "new"
    resolved, closed = fields.pop("resolved_at", None), fields.pop("closed_at", None)
    target, _colon, reason = status.partition(":")
    out: list[tuple[str, str, dict[str, Any]]] = []
    retimed = False

    def at(t: str | None) -> str:
        nonlocal retimed
        t = t or created
        if t < created:
            retimed = True
            return created
        return t

    if target == "in_progress":
        out.append(("ticket.started", created, {}))
    elif target == "blocked":
        out.append(("ticket.blocked", created, {"reason": reason or "awaiting_third_party"}))
    elif target in ("resolved", "closed"):
        r = at(resolved or closed)
        out.append(("ticket.resolved", r, {}))
        if target == "closed":
            out.append(("ticket.closed", max(r, at(closed or resolved)), {}))
    elif target == "cancelled":
        out.append(("ticket.cancelled", at(closed), {"reason": "imported"}))
    return [(uid(eid, typ), typ, t, p) for typ, t, p in out], retimed


def _stored_keys(st: Store, keys: list[str]) -> tuple[set[str], set[str]]:
    """Of ``keys``, those taken by other tickets, and those this importer already
    made (their ``ticket.created`` id is ours): re-importing them changes nothing."""
    taken = st.imports.existing_keys(keys)
    ours = st.imports.tickets_of_events([uid("csv", k, "created") for k in keys])
    return taken - ours, ours


def import_table(env: Env, path: Path, mapping: list[str], dry_run: bool = False, skip_invalid: bool = False,
                 tz: str | None = None, encoding: str | None = None, status_map: list[str] | None = None,
                 value_map: list[str] | None = None, date_format: str | None = None) -> dict[str, Any]:
    """Validate every row, then (unless ``dry_run``, and only when no row is
    invalid or ``skip_invalid``) write one ``ticket.created`` per valid row in
    one transaction. Returns the report: ``file``, ``encoding`` (the codec a
    CSV was read with, see :func:`decode`; None for an XLSX), ``rows`` (data rows),
    ``blank`` (empty rows, ignored), ``valid``, ``invalid_rows``, ``invalid``
    {reason: {count, rows, example?}}, ``tickets_new``, ``tickets_unchanged``, ``events``,
    ``written``, ``dry_run``, ``dates`` {field: layout} and ``dates_ambiguous``
    (the time columns whose day-first/month-first the data could not decide),
    ``retimed`` {count, rows}: rows whose resolved/closed time was before their
    created time, written at the created time. A mapped ``status`` (through
    ``--status-map``; resolved and closed need a resolved_at or closed_at) adds
    the events that take the ticket there (:func:`history`); ``--value-map``
    translates priority, impact and status words first. Raises BadInput for a
    bad mapping or file; a file that cannot be decoded fails here, before the
    store is opened."""
    from ticketctl.services.event_map import parse_status_map, parse_value_map

    fields_to_columns = parse_map(mapping)
    smap = parse_status_map(status_map or [], env.config.reasons)
    if "status" in fields_to_columns and not smap:
        raise BadInput(_("--map names a status column: --status-map must say which of its values is which ticketctl status"))
    if smap and "status" not in fields_to_columns:
        raise BadInput(_("--status-map needs the column of the status: add status=COLUMN to --map"))
    rd = Reading(zone(tz), status_map=smap, value_map=parse_value_map(value_map or []))
    codec, rows = read_rows(path, encoding)
    header_row = next(rows, None)
    if header_row is None:
        raise BadInput(f"{path}: the file is empty")
    header = [str(h).strip() for h in header_row[1]]
    col = resolve_columns(path, header, fields_to_columns)
    table = list(rows)
    for f in TIME_FIELDS:
        if f in col:
            i = col[f]
            try:
                rd.layouts[f] = dates.detect((c[i] for _no, c in table if i < len(c) and c[i] != ""), date_format)
            except dates.Conflict as conflict:
                raise BadInput(_("{path}: {column} is neither all day-first ({day!r}) nor all month-first ({month!r});"
                                 " name the layout with --date-format").format(
                    path=path, column=fields_to_columns[f], day=conflict.day_first, month=conflict.month_first)) from None
    rd.layouts = dates.agree(rd.layouts)
    bad = _Invalid()
    valid: list[tuple[int, dict[str, Any]]] = []
    seen_keys: dict[str, int] = {}
    n_rows = blank = 0
    for no, cells in table:
        n_rows += 1
        if not any(str(c).strip() for c in cells):
            blank += 1
            continue
        fields = _validate_row(no, cells, col, rd, bad)
        if fields is None:
            continue
        key = fields.get("key")
        if key is not None:
            if key in seen_keys:
                bad.add("duplicate_key", no, f"{key} (first in row {seen_keys[key]})")
                continue
            seen_keys[key] = no
        valid.append((no, fields))
    st, cfg = env.store, env.config
    taken, unchanged = _stored_keys(st, list(seen_keys))
    for no, row_fields in valid:
        if row_fields.get("key") in taken:
            bad.add("key_taken", no, row_fields["key"])
    valid = [(no, row_fields) for no, row_fields in valid if row_fields.get("key") not in taken]
    new = [(no, f) for no, f in valid if f.get("key") not in unchanged]
    report: dict[str, Any] = {
        "file": str(path),
        "encoding": codec,
        "rows": n_rows,
        "blank": blank,
        "valid": len(valid),
        "invalid_rows": len(bad.rows),
        "invalid": {r: bad.by[r] for r in sorted(bad.by)},
        "tickets_new": len(new),
        "tickets_unchanged": len(valid) - len(new),
        "events": 0,
        "written": False,
        "dry_run": dry_run,
        "dates": {f: rd.layouts[f].kind for f in rd.layouts},
        "dates_ambiguous": sorted(f for f, lay in rd.layouts.items() if lay.ambiguous),
        "retimed": {"count": 0, "rows": []},
    }
    if dry_run or (bad.rows and not skip_invalid) or not new:
        return report
    with st.transaction():
        if _stored_keys(st, list(seen_keys)) != (taken, unchanged):
            raise Refused("tickets with these keys were written while the file was checked; nothing was written, run it again")
        device_seq = int(st.meta(SEQ_KEY, "1"))
        need_keys = sum(1 for _, row_fields in new if "key" not in row_fields)
        first_no = st.take_counter("next_ticket_no", need_keys) if need_keys else 0
        prefix = st.meta("key_prefix")
        events: list[Event] = []
        tickets: list[Ticket] = []
        spans: list[tuple[Any, ...]] = []
        for no, row_fields in new:
            key = row_fields.pop("key", None)
            at = row_fields.pop("created_at", None) or iso(env.now)
            later = {f: row_fields.pop(f, None) for f in ("status", "resolved_at", "closed_at")}
            ((typ, payload),) = workflow.decide_create(row_fields, cfg, imported=True)
            if key is None:
                key, first_no = f"{prefix}-{first_no}", first_no + 1
                eid = str(uuid.uuid4())
            else:
                eid = uid("csv", key, "created")
            e = Event(id=eid, type=typ, at=at, actor=env.actor, device=DEVICE, device_seq=device_seq, mutation_id=eid,
                      ticket=key, payload=payload)
            device_seq += 1
            steps, retimed = history(eid, at, later)
            if retimed:
                report["retimed"]["count"] += 1
                if len(report["retimed"]["rows"]) < KEEP_ROWS:
                    report["retimed"]["rows"].append(no)
            mine = [e]
            for sid, styp, sat, sp in steps:
                mine.append(Event(id=sid, type=styp, at=sat, actor=env.actor, device=DEVICE, device_seq=device_seq,
                                  mutation_id=sid, ticket=key, payload=sp))
                device_seq += 1
            t, rows_ = workflow.fold(None, mine, cfg)
            events.extend(mine)
            tickets.append(t)
            spans.extend(rows_)
        st.put_events(events)
        st.put_tickets(tickets)
        st.put_spans(spans)
        st.set_meta(SEQ_KEY, str(device_seq))
    report.update(events=len(events), written=True)
    return report


def refusal(report: dict[str, Any], skip_invalid: bool) -> Refused | None:
    """The error a command raises after printing ``report`` (None: all well)."""
    n = report["invalid_rows"]
    if not n or skip_invalid:
        return None
    if report["dry_run"]:
        return Refused(f"{n} invalid row(s): the import would write nothing (fix them, or --skip-invalid to import the valid rows)")
    return Refused(f"{n} invalid row(s): nothing was written (fix them, or --skip-invalid to import the valid rows)")
