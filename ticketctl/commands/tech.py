"""``tech add|list|set``: the team roster."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ticketctl.cells import after
from ticketctl.commands.output import console, emit_json, env
from ticketctl.commands.tickets import Json, comma_list
from ticketctl.i18n import _
from ticketctl.services import techs

app = typer.Typer(help="Manage technicians: skills, zone, capacity, shift.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Technician name (one word, as used by TICKETCTL_USER).")]
Skills = Annotated[str | None, typer.Option("--skills", help="Skills, comma separated.")]
Zone = Annotated[str | None, typer.Option("--zone", help="Home zone.")]
Lat = Annotated[float | None, typer.Option("--lat", help="Latitude (with --lon).")]
Lon = Annotated[float | None, typer.Option("--lon", help="Longitude (with --lat).")]
Dept = Annotated[str | None, typer.Option("--dept", help="Department.")]


def _print(t: dict[str, Any], json: bool) -> None:
    if json:
        emit_json(t)
    else:
        away = " " + _("on leave") if t["on_leave"] else ""
        to = after(_("(delegate {name})").format(name=t["delegate"])) if t["delegate"] else ""
        senior = "  " + _("senior") if t["senior"] else ""
        print(_("{name}  load {load}/{capacity}  skills {skills}  zone {zone}  {shift}").format(
            name=t["name"], load=t["load"], capacity=t["capacity"], skills=",".join(t["skills"]) or "-", zone=t["zone"] or "-",
            shift=_("on shift") if t["on_shift"] else _("off shift")) + away + to + senior)


@app.command(epilog="Example: ticketctl tech add ana --skills hvac,electrical --zone east --capacity 3")
def add(
    name: Name,
    skills: Skills = None,
    zone: Zone = None,
    lat: Lat = None,
    lon: Lon = None,
    capacity: Annotated[int | None, typer.Option("--capacity", help="Open tickets they may hold (default: config capacity).")] = None,
    dept: Dept = None,
    senior: Annotated[bool, typer.Option("--senior", help="Takes VIP customers first.")] = False,
    json: Json = False,
) -> None:
    """Add a technician."""
    t = techs.add(env(), name, skills=comma_list(skills) if skills is not None else None, zone=zone, lat=lat, lon=lon,
                  capacity=capacity, dept=dept, senior=senior or None)
    _print(t, json)


@app.command("set", epilog="Example: ticketctl tech set ana --capacity 4 --on-leave --delegate bob")
def set_(
    name: Name,
    skills: Skills = None,
    zone: Zone = None,
    lat: Lat = None,
    lon: Lon = None,
    capacity: Annotated[int | None, typer.Option("--capacity", help="Open tickets they may hold.")] = None,
    dept: Dept = None,
    shift: Annotated[bool | None, typer.Option("--on-shift/--off-shift", help="Whether they take work now.")] = None,
    leave: Annotated[bool | None, typer.Option("--on-leave/--back", help="On leave (work routes to the delegate).")] = None,
    delegate: Annotated[str | None, typer.Option("--delegate", help="Who takes their work while away ('' to clear).")] = None,
    senior: Annotated[bool | None, typer.Option("--senior/--not-senior", help="Takes VIP customers first.")] = None,
    json: Json = False,
) -> None:
    """Change a technician's skills, zone, capacity, shift, leave, delegate or seniority."""
    t = techs.update(env(), name, skills=comma_list(skills) if skills is not None else None, zone=zone, lat=lat, lon=lon,
                     capacity=capacity, dept=dept, on_shift=shift, on_leave=leave, delegate=delegate, senior=senior)
    _print(t, json)


@app.command("list", epilog="Example: ticketctl tech list --json")
def list_(json: Json = False) -> None:
    """List technicians with their load against capacity."""
    rows = techs.listing(env())
    if json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in (_("name"), _("load"), _("skills"), _("zone"), _("dept"), _("shift"), _("delegate")):
        table.add_column(col)
    for t in rows:
        full = t["load"] >= t["capacity"]
        shift = "[dim]" + _("leave") + "[/]" if t["on_leave"] else _("on") if t["on_shift"] else "[dim]" + _("off") + "[/]"
        table.add_row(t["name"] + (" *" if t["senior"] else ""), f"[{'red' if full else 'green'}]{t['load']}/{t['capacity']}[/]",
                      ",".join(t["skills"]), t["zone"], t["dept"], shift, t["delegate"] or "")
    if rows:
        console().print(table)
    else:
        print(_("no technicians yet: ticketctl tech add NAME"), file=sys.stderr)
