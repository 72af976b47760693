"""``report ...``: what a supervisor reads."""

from __future__ import annotations

from typing import Annotated

import typer

from ticketctl.commands.output import emit_json, env
from ticketctl.commands.tickets import Json
from ticketctl.services import report

app = typer.Typer(help="Reports for supervisors.", no_args_is_help=True)


@app.command(epilog="Example: TICKETCTL_NOW=2026-03-02T07:30:00Z ticketctl report brief --md > brief.md")
def brief(
    over: Annotated[float, typer.Option("--over", min=0, help="Hours in one status that count as stuck.")] = 4.0,
    md: Annotated[bool, typer.Option("--md", help="Print Markdown (for a chat channel or an e-mail).")] = False,
    json: Json = False,
) -> None:
    """The backlog brief: top 3 stuck kinds of work, where tickets wait longest, who holds them, the 5 waiting longest."""
    b = report.brief(env(), over)
    if json:
        emit_json(b)
    else:
        print(report.brief_markdown(b), end="")
