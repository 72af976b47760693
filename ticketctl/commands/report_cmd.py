"""``report ...``: what a supervisor reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ticketctl.commands import report_more_cmd
from ticketctl.commands.output import console, emit_json, env, moment
from ticketctl.commands.tickets import Json
from ticketctl.errors import BadInput
from ticketctl.home import atomic_write, output_file
from ticketctl.i18n import _, ngettext
from ticketctl.services import report

app = typer.Typer(help="Reports for supervisors.", no_args_is_help=True)


@app.command(epilog="Example: TICKETCTL_NOW=2026-03-02T07:30:00Z ticketctl report brief --md > brief.md")
def brief(
    over: Annotated[float, typer.Option("--over", min=0, max=87600, help="Hours in one status that count as stuck.")] = 4.0,
    md: Annotated[bool, typer.Option("--md", help="Print Markdown (for a chat channel or an e-mail).")] = False,
    json: Json = False,
) -> None:
    """The backlog brief: top 3 stuck kinds of work, where tickets wait longest, who holds them, the 5 waiting longest."""
    b = report.brief(env(), over)
    if json:
        emit_json(b)
    else:
        print(report.brief_markdown(b), end="")


@app.command(epilog="Example: ticketctl report heatmap --by dept,fault --at 2026-03-02T09:00:00Z --xlsx heat.xlsx")
def heatmap(
    by: Annotated[str, typer.Option("--by", help="dept,product | dept,fault | product,fault | dept | product | fault"
                                    " | channel | dept,channel | channel,product | channel,fault (channel: now)")] = "dept,product",
    at: Annotated[str | None, typer.Option("--at", help="A past moment (ISO-8601): each ticket counted as it was then.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the cells as CSV to this file, UTF-8 with a BOM so that"
                                             " Excel shows Chinese text; '-' prints plain UTF-8 (no BOM) to stdout, for"
                                             " scripts. The folder must exist.")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write a coloured grid and the 5 stuck longest to this XLSX"
                                              " (its folder must exist).")] = None,
    json: Json = False,
) -> None:
    """Where the backlog piles up: open tickets per department, product or fault, now or at a past moment."""
    from ticketctl.services import heatmap as hmap

    csv_to_stdout = csv is not None and str(csv) == "-"
    if csv_to_stdout and json:
        raise BadInput(_("--csv - and --json both print to stdout: choose one"))
    for option, path in (("--csv", csv), ("--xlsx", xlsx)):
        if path is not None:
            output_file(option, path)  # before any work: a typo in a folder is refused, not created
    e = env()
    when = moment("--at", at)
    hm = hmap.heatmap(e, hmap.parse_by(by), when)
    if csv is not None:
        _write_csv(csv, hm)
    if xlsx is not None:
        hmap.write_xlsx(str(xlsx), hm, hmap.stuck(e, when))
    files = [str(p) for p in (None if csv_to_stdout else csv, xlsx) if p is not None]
    if json:
        emit_json(hm)
    elif csv is None and xlsx is None:
        from ticketctl.render.heatmap import heatmap_grid

        c = console()
        for part in heatmap_grid(hm):
            c.print(part)
    elif files:
        print(ngettext("wrote {files} ({n} open ticket)", "wrote {files} ({n} open tickets)", hm["total"]).format(
            files=", ".join(files), n=hm["total"]), file=sys.stderr)


def _write_csv(path: Path, hm: dict[str, Any]) -> None:
    """The cells as CSV: a file (``path``) gets a UTF-8 BOM, because Excel on
    Windows reads a CSV without one in the ANSI code page and garbles Chinese;
    ``-`` prints plain UTF-8 to stdout (whatever its locale), for scripts."""
    import csv as csvmod
    import io

    buf = io.StringIO()
    w = csvmod.writer(buf)
    w.writerow([*hm["by"], "count", "over_4h", "oldest_age_h"])
    for c in hm["cells"]:
        w.writerow([*(c[d] for d in hm["by"]), c["count"], c["over_4h"], c["oldest_age_h"]])
    if str(path) == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(buf.getvalue().encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    atomic_write(path, buf.getvalue().encode("utf-8-sig"))


report_more_cmd.register(app)  # kpi, aging, blocked, trend, daily
