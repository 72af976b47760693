"""``import servicenow|csv``: bring tickets in from other systems."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json

app = typer.Typer(help="Import tickets from other systems: a ServiceNow event log, or any CSV/XLSX.", no_args_is_help=True)

File = Annotated[Path, typer.Argument(help="The file to import.", show_default=False)]
Tz = Annotated[str | None, typer.Option("--tz", help="IANA zone of times without one in the file (default UTC).")]


def _with_progress(what: str, run: Callable[[Callable[[int, int], None] | None], dict[str, Any]]) -> dict[str, Any]:
    """Run ``run(progress)`` with a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return run(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))


def _skipped(skipped: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for reason, d in skipped.items():
        more = ", ..." if d["count"] > len(d["rows"]) else ""
        example = f"  e.g. {d['example']!r}" if d.get("example") else ""
        lines.append(f"  {reason:<22} {d['count']:>7}  rows {', '.join(map(str, d['rows']))}{more}{example}")
    return lines


@app.command(epilog="Example: ticketctl import servicenow incident_event_log.csv.gz --tz Europe/Madrid --json")
def servicenow(file: File, tz: Tz = None, json: Json = False) -> None:
    """Replay a ServiceNow incident event log (.csv or .csv.gz) as tickets, events and technicians.

    Each row is a snapshot of an incident at one update; the changes of state, group, assignee and priority become
    events at the row's time. Rows that cannot be used are counted by reason with their row numbers. Running it
    again, or on a later export of the same incidents, adds only what is new."""
    from ticketctl.services import importer

    e = env()
    t0 = time.perf_counter()
    s = _with_progress("importing", lambda progress: importer.import_servicenow(e, file, tz, progress))
    if json:
        emit_json(s)
        return
    skipped = sum(d["count"] for d in s["skipped"].values())
    print(f"{s['file']}: {s['rows']} rows, {s['incidents']} incidents -> {s['events']} new events; tickets"
          f" {s['tickets_new']} new, {s['tickets_updated']} updated, {s['tickets_unchanged']} unchanged;"
          f" {s['technicians_added']} technicians added ({time.perf_counter() - t0:.1f} s)")
    print(f"skipped {skipped} of {s['rows']} rows" + (":" if skipped else ""))
    for line in _skipped(s["skipped"]):
        print(line)
    if s["retimed"]["count"]:
        print("rows stamped before their incident's previous event (written at that event's time):")
        print(_skipped({"retimed": s["retimed"]})[0])


@app.command("csv", epilog="Example: ticketctl import csv old.xlsx --map title=Subj,type=Kind,dept=Team,product=Item,key=Id")
def csv_(
    file: File,
    map_: Annotated[list[str], typer.Option(
        "--map", help="field=column pairs, comma separated (repeatable). Fields: title, type, dept, product"
        " (required), fault, priority, impact, zone, customer, phone, channel, description, created_at, key.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only validate and report; write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Import the valid rows even when some are invalid.")] = False,
    tz: Tz = None,
    json: Json = False,
) -> None:
    """Import a CSV or XLSX (first sheet) from any other system: one row, one ticket.

    Every row is validated before anything is written; with any invalid row nothing is written (exit 1) unless
    --skip-invalid. With a mapped key column a re-import changes nothing; without one, rows get new PFX-N keys."""
    from ticketctl.services import import_csv

    e = env()
    r = import_csv.import_table(e, file, map_, dry_run=dry_run, skip_invalid=skip_invalid, tz=tz)
    if json:
        emit_json(r)
    else:
        if r["invalid_rows"] and not skip_invalid and not dry_run:
            outcome = "nothing written"
        else:
            verb = "would import" if dry_run else "imported"
            outcome = f"{verb} {r['tickets_new']} new tickets, {r['tickets_unchanged']} unchanged"
        print(f"{r['file']}: {r['rows']} rows, {r['valid']} valid, {r['invalid_rows']} invalid, {r['blank']} blank;"
              f" {outcome}")
        for line in _skipped(r["invalid"]):
            print(line)
    refused = import_csv.refusal(r, skip_invalid)
    if refused:
        raise refused
