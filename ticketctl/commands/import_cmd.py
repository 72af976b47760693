"""``import servicenow|csv``: bring tickets in from other systems."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.cells import ljust
from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.errors import TicketctlError
from ticketctl.i18n import _

app = typer.Typer(help="Import tickets from other systems: a ServiceNow event log, any event log (CSV/XLSX/XES), or any"
                  " CSV/XLSX of one row per ticket.", no_args_is_help=True)

File = Annotated[Path, typer.Argument(help="The file to import.", show_default=False)]
Tz = Annotated[str | None, typer.Option("--tz", help="IANA zone of times without one in the file (default UTC).")]


def _with_progress(what: str, run: Callable[[Callable[[int, int], None] | None], dict[str, Any]],
                   counted: bool = False) -> dict[str, Any]:
    """Run ``run(progress)`` with a progress bar on stderr when it is a terminal
    (bytes, or with ``counted`` items done of all)."""
    if not sys.stderr.isatty():
        return run(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    amount = MofNCompleteColumn() if counted else DownloadColumn()
    columns = (TextColumn("{task.description}"), BarColumn(), amount, TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))


def _index(e: Any) -> int:
    """Catch the knowledge base's search index up with what the import wrote
    (its resolved and closed tickets), so the first search after it is quick."""
    from ticketctl.services import kb

    return int(_with_progress(_("indexing for search"), lambda progress: {"n": kb.catch_up(e, progress=progress)})["n"])


def _may_import(e: Any) -> None:
    """On a synced technician's device an import could never reach the team: refused before anything is written."""
    from ticketctl.errors import Refused
    from ticketctl.sync.replica import ROLE

    if e.home.sync_file.exists() and e.store.meta(ROLE, "") == "technician":
        raise Refused(_("imports on a synced device are shared with the team, which only dispatchers, supervisors and admins"
                        " may do; import on their device (or before `ticketctl sync setup`)"))


def _share(e: Any) -> dict[str, Any] | None:
    """On a synced device, share what the import wrote with the team right away
    (``ticketctl sync``: push, upload the history, pull it back confirmed). An
    unreachable server only delays it: the next sync shares it."""
    if not e.home.sync_file.exists():
        return None
    from ticketctl.sync import client

    try:
        r = _with_progress(_("sharing with the team"), lambda progress: client.sync(e, progress))
    except TicketctlError as err:
        left = client.unshared_history(e)
        print(_("ticketctl: warning: {error}; the import stays on this device until `ticketctl sync` shares it"
                " ({n} events)").format(error=err, n=left), file=sys.stderr)
        return {"shared": 0, "duplicates": 0, "refused": 0, "unshared": left, "error": str(err)}
    h = r["history"]
    return {"shared": h["shared"], "duplicates": h["duplicates"], "refused": len(h["refused"]), "unshared": 0, "error": None}


def _team_line(team: dict[str, Any] | None) -> None:
    if team is None or team["error"]:
        return
    print(_("shared with the team: {shared} events ({duplicates} the server had already, {refused} refused)").format(**team))


def _skipped(skipped: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for reason, d in skipped.items():
        more = ", ..." if d["count"] > len(d["rows"]) else ""
        example = "  " + _("e.g. {example!r}").format(example=d["example"]) if d.get("example") else ""
        rows = _("rows {rows}").format(rows=", ".join(map(str, d["rows"])))
        lines.append(f"  {ljust(reason, 22)} {d['count']:>7}  {rows}{more}{example}")
    return lines


def _print_skipped(s: dict[str, Any]) -> None:
    """``skipped N of M rows:`` and a line per reason, of an event-log import's report ``s``."""
    skipped = sum(d["count"] for d in s["skipped"].values())
    print(_("skipped {skipped} of {rows} rows").format(skipped=skipped, rows=s["rows"]) + (":" if skipped else ""))
    for line in _skipped(s["skipped"]):
        print(line)


MapOpt = Annotated[list[str] | None, typer.Option(
    "--map", help="field=column pairs, comma separated (repeatable). Fields: case, time, status (required, or from"
    " --profile), substatus, person, group, created (the case's opening time, when not its first row's), title, type,"
    " product, fault, priority, impact, zone, customer, channel, description; made_sla and reopens (the source's own"
    " SLA verdict and reopen count, kept from a case's last row: report kpi shows them beside ticketctl's).")]
StatusMap = Annotated[list[str] | None, typer.Option(
    "--status-map", help="source=status pairs, comma separated (repeatable): 'Status/Sub status' or 'Status' to new,"
    " assigned, in_progress, blocked:<reason>, resolved, closed or cancelled.")]
ValueMap = Annotated[list[str] | None, typer.Option(
    "--value-map", help="field:source=value pairs (repeatable); a pair without field: continues the previous field,"
    " e.g. priority:Major=urgent,High=high.")]
DateFormat = Annotated[str | None, typer.Option(
    "--date-format", help="strptime layout of the file's times (e.g. '%d.%m.%Y %H:%M'). Default: decided from the"
    " whole column (ISO-8601; day-first or month-first by the data, said on stderr; AM/PM; time zones).")]
Encoding = Annotated[str | None, typer.Option("--encoding", help="The CSV's text encoding (default: detected).")]


def _dates_line(file: Path, r: dict[str, Any], what: str) -> None:
    """Say on stderr how the dates were read when the file decided it."""
    if r.get("dates") in ("day_first", "month_first"):
        layout = _("day-first (D/M/YYYY)") if r["dates"] == "day_first" else _("month-first (M/D/YYYY)")
        msg = _("{file}: {what} read as {layout}").format(file=file, what=what, layout=layout)
        if r.get("dates_ambiguous"):
            msg += _(": no value decides it (every day and month is 12 or less); name it with --date-format")
        print(msg, file=sys.stderr)


@app.command(epilog="Example: ticketctl import servicenow incident_event_log.csv.gz --tz Europe/Madrid --json")
def servicenow(file: File, tz: Tz = None, json: Json = False) -> None:
    """Replay a ServiceNow incident event log (.csv or .csv.gz) as tickets, events and technicians.

    Each row is a snapshot of an incident at one update; the changes of state, group, assignee and priority become
    events at the row's time. Rows that cannot be used are counted by reason with their row numbers. Running it
    again, or on a later export of the same incidents, adds only what is new."""
    from ticketctl.services import import_servicenow

    e = env()
    _may_import(e)
    t0 = time.perf_counter()
    s = _with_progress(_("importing"), lambda progress: import_servicenow.import_servicenow(e, file, tz, progress))
    s["indexed"] = _index(e)
    s["team"] = _share(e)
    if json:
        emit_json(s)
        return
    print(_("{file}: {rows} rows, {incidents} incidents -> {events} new events; tickets {new} new, {updated} updated,"
            " {unchanged} unchanged; {technicians} technicians added ({seconds} s)").format(
        file=s["file"], rows=s["rows"], incidents=s["incidents"], events=s["events"], new=s["tickets_new"],
        updated=s["tickets_updated"], unchanged=s["tickets_unchanged"], technicians=s["technicians_added"],
        seconds=f"{time.perf_counter() - t0:.1f}"))
    _print_skipped(s)
    if s["retimed"]["count"]:
        print(_("rows stamped before their incident's previous event (written at that event's time):"))
        print(_skipped({"retimed": s["retimed"]})[0])
    _team_line(s["team"])


@app.command("csv", epilog="Example: ticketctl import csv old.xlsx --map title=Subj,type=Kind,dept=Team,product=Item,key=Id\n\n"
             "Example: ticketctl import csv nyc311.csv --map key='Unique Key',title='Complaint Type',type=Descriptor,"
             "dept=Agency,product='Complaint Type',created_at='Created Date',closed_at='Closed Date',status=Status"
             " --status-map 'Open=new,Assigned=in_progress,Started=in_progress,Pending=blocked:awaiting_third_party,"
             "Closed=closed' --tz America/New_York")
def csv_(
    file: File,
    map_: Annotated[list[str], typer.Option(
        "--map", help="field=column pairs, comma separated (repeatable). Fields: title, type, dept, product"
        " (required), fault, priority, impact, zone, customer, phone, channel, description, created_at, key, status,"
        " resolved_at, closed_at.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only validate and report; write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Import the valid rows even when some are invalid.")] = False,
    tz: Tz = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="The CSV's text encoding (utf-8, gb18030, gbk, big5, ...). Default: detected, a byte-order mark,"
        " else UTF-8, else GB18030 (what Excel on a Chinese Windows saves); the one used is on stderr.")] = None,
    status_map: StatusMap = None,
    value_map: ValueMap = None,
    date_format: DateFormat = None,
    json: Json = False,
) -> None:
    """Import a CSV or XLSX (first sheet) from any other system: one row, one ticket.

    Every row is validated before anything is written; with any invalid row nothing is written (exit 1) unless
    --skip-invalid. With a mapped key column a re-import changes nothing; without one, rows get new PFX-N keys.
    A CSV that cannot be read in its encoding writes nothing (exit 2); --json reports the encoding as "encoding".
    A mapped status (with --status-map) and resolved_at/closed_at write the ticket's resolution and closing too;
    times are read in one layout per column, decided from the whole column (said on stderr) or --date-format."""
    from ticketctl.services import import_csv

    e = env()
    if not dry_run:
        _may_import(e)
    r = import_csv.import_table(e, file, map_, dry_run=dry_run, skip_invalid=skip_invalid, tz=tz, encoding=encoding,
                                status_map=status_map, value_map=value_map, date_format=date_format)
    r["indexed"] = 0 if dry_run else _index(e)
    r["team"] = None if dry_run or not r.get("tickets_new") else _share(e)
    if json:
        emit_json(r)
    else:
        if r["encoding"]:
            print(_("read {file} as {encoding}").format(file=file, encoding=import_csv.encoding_label(r["encoding"])),
                  file=sys.stderr)
        for f, kind in r["dates"].items():
            _dates_line(file, {"dates": kind, "dates_ambiguous": f in r["dates_ambiguous"]}, f)
        if r["invalid_rows"] and not skip_invalid and not dry_run:
            outcome = _("nothing written")
        else:
            outcome = (_("would import {new} new tickets, {unchanged} unchanged") if dry_run
                       else _("imported {new} new tickets, {unchanged} unchanged")).format(
                new=r["tickets_new"], unchanged=r["tickets_unchanged"])
        print(_("{file}: {rows} rows, {valid} valid, {invalid} invalid, {blank} blank; {outcome}").format(
            file=r["file"], rows=r["rows"], valid=r["valid"], invalid=r["invalid_rows"], blank=r["blank"], outcome=outcome))
        for line in _skipped(r["invalid"]):
            print(line)
        if r["retimed"]["count"]:
            print(_("rows resolved or closed before they were created (written at their creation):"))
            print(_skipped({"retimed": r["retimed"]})[0])
        _team_line(r["team"])
    refused = import_csv.refusal(r, skip_invalid)
    if refused:
        raise refused


@app.command(epilog="Example: ticketctl import events VINST-new.csv --profile bpi2013 --json\n\n"
             "Example: ticketctl import events log.xlsx --map case=Id,time=When,status=State,person=Who,group=Team"
             " --status-map 'Open=new,Working=in_progress,Done=closed' --save-profile mytool")
def events(
    file: File,
    map_: MapOpt = None,
    status_map: StatusMap = None,
    value_map: ValueMap = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="A saved or shipped mapping (shipped: bpi2013, servicenow, xes); the other options add to it.")] = None,
    save_profile: Annotated[str | None, typer.Option(
        "--save-profile", help="Save this run's mapping under NAME (beside the config file) for --profile NAME.")] = None,
    date_format: DateFormat = None,
    tz: Tz = None,
    encoding: Encoding = None,
    json: Json = False,
) -> None:
    """Import an event log (CSV, XLSX or XES, one row per change of a case) as tickets with their history.

    Each case becomes a ticket created at its first row; each row's status, person and group become the events the
    commands would write (assigned, started, blocked, resolved, closed, transferred ...). A ticket resolves when a row
    enters a done status, at that row's time. Rows that cannot be used are counted by reason with their row numbers;
    running it again adds only what is new."""
    from ticketctl.services import event_map, import_events

    e = env()
    _may_import(e)
    m = event_map.build(e.home, e.config.reasons, profile, map_ or [], status_map or [], value_map or [], tz, date_format)
    if save_profile:
        event_map.check_name(save_profile)
    t0 = time.perf_counter()
    s = _with_progress(_("importing"), lambda progress: import_events.import_events(e, file, m, encoding, progress),
                       counted=True)
    if save_profile:  # once the mapping has read the file
        saved = event_map.save_profile(e.home, save_profile, m)
        print(_("saved the mapping as profile {name} ({path})").format(name=save_profile, path=saved), file=sys.stderr)
    s["indexed"] = _index(e)
    s["team"] = _share(e)
    if json:
        emit_json(s)
        return
    _dates_line(file, s, _("times"))
    print(_("{file}: {rows} rows, {cases} cases -> {events} new events; tickets {new} new, {updated} updated,"
            " {unchanged} unchanged; {technicians} technicians added ({seconds} s)").format(
        file=s["file"], rows=s["rows"], cases=s["cases"], events=s["events"], new=s["tickets_new"],
        updated=s["tickets_updated"], unchanged=s["tickets_unchanged"], technicians=s["technicians_added"],
        seconds=f"{time.perf_counter() - t0:.1f}"))
    _print_skipped(s)
    _team_line(s["team"])
