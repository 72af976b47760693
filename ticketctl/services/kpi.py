"""Service KPIs over the tickets created in a window ``[from, to)``, each flagged
against its bands in the config (``[kpi]``).

What each figure is made of (``n`` in the output counts those tickets):

* ``first_response_median`` / ``_mean``: minutes of wall time from ``created_at``
  to ``first_response_at`` (the assignee's first own action), over tickets that
  have one.
* ``resolution_median`` / ``_mean``: hours of wall time from ``created_at`` to
  ``resolved_at``, over tickets resolved now (resolved or closed; a reopened
  ticket counts again once it is resolved again).
* ``first_time_fix``: percent of those resolved tickets never reopened and not
  followed by a repeat: a later ticket (opened after it, or in the same second
  with a later key) from the same customer for the same product and fault,
  opened before this one was resolved or within ``kpi.repeat_window`` (30 days)
  after. Tickets without a customer cannot be matched and count as no repeat.
  Repeats are looked for past the window's end.
* ``transfers``: ``ticket.transferred`` events of the window's tickets per
  ticket (cancelled tickets included).
* ``evidence``: the percent of closed tickets whose type's checklist, as the
  config says now, is fully checked (closing requires the evidence files the
  items that need one). It applies only to tickets closed here, not by an
  import (another system's closing checked nothing here; such tickets are
  known by their ``ticket.closed`` event's device, ``import:*``):
  ``not_applicable`` counts the closed tickets it leaves out, and with none
  it applies to the value is null, shown "n/a", not 100%.
* ``sla_attainment``: percent of resolved tickets resolved within their
  resolution SLA, read from the ticket's stored clock: resolving pauses the clock
  and keeps the business seconds it had left in ``resolve_left_s``, so a ticket
  met its SLA when that is zero or more (resolved at or before it was due, in
  business time, customer-caused blocks not counted). Not recomputed from the
  events: the clock is the one ``list`` and ``sweep`` show.
* ``source_sla_attainment`` (listed right after ``sla_attainment``, no bands): for
  imported tickets that keep their source system's own SLA verdict
  (``source_made_sla``: ``import servicenow``, ``import events`` with
  ``made_sla`` mapped), the percent of the resolved ones whose verdict is
  made; ``n`` counts the resolved tickets with a verdict. ``source_reopens``:
  the mean of the source's reopen counts (``source_reopens``) over the
  window's tickets that have one. Each is absent when no ticket has it.
* ``csat``: percent of the customers' confirmations (in person or by phone) whose
  three ratings (problem solved, professional, on time) average 4 or more of 5;
  ``n`` counts the confirmed tickets.

``approvals`` (beside ``kpis``, no bands): per tier (the request's ``rule``, a
name of ``approvals.rules``), every approval request of the window's tickets,
whenever it was made or decided (the same population as resolution: the window's
tickets, resolved by now): how many, how many still pending, decided (approved,
rejected), and the median and mean hours from the request (``at``) to its
decision (``decided_at``: the last approval, or the rejection) over the decided
ones, in business hours of the business calendar as the config says now (nights,
weekends and holidays do not count: the hours an approver could have acted) and
in wall hours. Every tier of the config is listed, cheapest first, with zeros
when it had no request; a tier since removed from the config follows with its
requests. Not split per department.

A department's figures count each ticket in the department that holds it now.

Cost: one read of the window's tickets gives the counts and both lists of
durations (medians and means); the window is read through the ``created_at``
index, or by scanning the table when it holds over a quarter of the store.
First-time fix sorts the window's tickets by customer, product and fault once
(window function ``lead``): the most costly step. Transfers join
``ticket.transferred`` events to the window's tickets. Measured, whole process:
a 100,000-ticket demo store (all of it in the window) ~0.65 s; 1,000,000
tickets over 90 days (``bench/reports.py``, a third in the window) ~0.55 s; a
7-day window of a 1,000,000-ticket demo month ~1.6 s. A window of 1,000,000
tickets with customers takes ~6.5 s, ~3 s of it in the ``lead``, which stays
over a second even with a covering index on (customer, product, fault,
created_at): SQLite's window functions cost about a microsecond a row.
Approvals read the window a second time, the same way, keeping only the rows
whose ``approvals`` is not ``'[]'`` (most tickets never ask) and taking each
request's four fields with ``json_each``; the business hours are worked out in
Python, two calendar lookups a decided request. Measured on the 100,000-ticket
demo store with 5,000 decided requests, all in the window: ~95 ms (the scan
~27 ms, the JSON ~35 ms, the calendar ~28 ms) of a ~0.58 s report.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from ticketctl.core.config import Config
from ticketctl.core.config.kpi import KPI_LOWER_IS_BETTER, KpiBand
from ticketctl.core.model import iso, parse_time
from ticketctl.errors import BadInput
from ticketctl.i18n import N_, _
from ticketctl.services.env import Env

DEFAULT_DAYS = 30
#: the bands, best first (human reports show them translated, ``_(band)``; JSON keeps them)
BANDS = (N_("excellent"), N_("ok"), N_("watch"), N_("warning"))

#: name -> (config band, unit, decimals, basis). The names, units and bases are
#: JSON keys and values (English); human reports show them translated: ``_(name)``,
#: ``_(unit)``, ``_(basis)`` (they are marked for the catalog here).
KPIS: dict[str, tuple[str | None, str, int, str]] = {
    N_("first_response_median"): ("first_response", N_("min"), 1,
                                  N_("created to first response by the assignee, tickets with one")),
    N_("first_response_mean"): ("first_response", N_("min"), 1,
                                N_("created to first response by the assignee, tickets with one")),
    N_("resolution_median"): ("resolution", N_("h"), 2, N_("created to resolved, tickets resolved or closed")),
    N_("resolution_mean"): ("resolution", N_("h"), 2, N_("created to resolved, tickets resolved or closed")),
    N_("first_time_fix"): ("first_time_fix", "%", 1,
                           N_("resolved tickets never reopened and with no repeat from the customer for the product and fault")),
    N_("transfers"): ("transfers", N_("per ticket"), 2, N_("cross-department transfers of the window's tickets")),
    N_("evidence"): ("evidence", "%", 1, N_("closed tickets with their type's checklist fully checked")),
    N_("sla_attainment"): ("sla_attainment", "%", 1, N_("resolved tickets with resolution SLA time left when resolved")),
    N_("csat"): ("csat", "%", 1, N_("customer confirmations whose three ratings average 4 or more of 5")),
    # the source system's own figures of imported tickets (no bands): only where tickets have them
    N_("source_sla_attainment"): (None, "%", 1, N_("resolved tickets whose source system says it made its SLA, of those with its verdict")),
    N_("source_reopens"): (None, N_("per ticket"), 2, N_("reopens the source system counted, tickets with its count")),
}


def band(value: float | None, bands: KpiBand, lower_is_better: bool) -> str | None:
    """excellent, ok, watch or warning for ``value`` (None when there is no value).

    Lower is better: ``<= excellent``, ``<= ok``, ``> warning``, else watch;
    higher is better: ``>= excellent``, ``>= ok``, ``< warning``, else watch."""
    if value is None:
        return None
    if lower_is_better:
        if value <= bands.excellent:
            return "excellent"
        if value <= bands.ok:
            return "ok"
        return "warning" if value > bands.warning else "watch"
    if value >= bands.excellent:
        return "excellent"
    if value >= bands.ok:
        return "ok"
    return "warning" if value < bands.warning else "watch"


def window(env: Env, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``[from, to)``: by default the last 30 days up to now."""
    end = end or env.now
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise BadInput(_("--from {start} must be before --to {end}").format(start=iso(start), end=iso(end)))
    return start, end


COUNTS = ("tickets", "sla_n", "sla_met", "closed", "evidence_n", "evidence_ok", "confirmed", "satisfied", "ftf_nocustomer", "last_resolved",
          "source_sla_n", "source_sla_met", "source_reopens_n", "source_reopens")


def _access(env: Env, w: dict[str, str]) -> tuple[int, str]:
    """(tickets in the window, how to read them: ``store.kpi.Kpi.window``)."""
    return env.store.kpi.window(w)


def _ints(text: str | None) -> list[int]:
    return list(map(int, text.split(","))) if text else []


def _counts(env: Env, w: dict[str, str], group: str, access: str) -> dict[str, dict[str, Any]]:
    """Per group (``group`` is ``dept``, ``channel`` or ``''``) of the window's tickets: the
    additive counts, and the lists of first-response and resolution seconds
    (for the medians and means), all in one read of the window."""
    checklists = {name: tc.checklist for name, tc in env.config.types.items()}
    out: dict[str, dict[str, Any]] = {}
    for row in env.store.kpi.counts(w, group, access, checklists):
        if row[1]:  # an empty window still gives one row of nulls without GROUP BY
            out[row[0]] = {**dict(zip(COUNTS, row[1:-2], strict=True)), "transfers": 0, "ftf_ok": 0,
                           "fr": _ints(row[-2]), "res": _ints(row[-1])}
    return out


def _transfers(env: Env, w: dict[str, str], group: str, n_window: int) -> dict[str, int]:
    """Per group, the ``ticket.transferred`` events of the window's tickets (``store.kpi.Kpi.transfers``)."""
    return env.store.kpi.transfers(w, group, n_window)


def _first_time_fixes(env: Env, w: dict[str, str], group: str, horizon: str, access: str) -> dict[str, int]:
    """Per group, resolved tickets of the window with a customer that were fixed the first time
    (``store.kpi.Kpi.first_time_fixes``): the costly part of the report."""
    cfg = env.config
    return env.store.kpi.first_time_fixes(w, group, access, horizon, cfg.wall(cfg.kpi.repeat_window))


def _figure(cfg: Config, name: str, value: float | None, n: int) -> dict[str, Any]:
    key, unit, decimals, basis = KPIS[name]
    shown = None if value is None else round(value, decimals)
    bands = getattr(cfg.kpi, key) if key else None
    return {"value": shown, "unit": unit, "band": band(shown, bands, key in KPI_LOWER_IS_BETTER) if bands else None,
            "n": n, "basis": basis}


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _kpis(cfg: Config, g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures of one group from its counts and duration lists."""
    fr, res = g["fr"], g["res"]
    return {
        "first_response_median": _figure(cfg, "first_response_median", statistics.median(fr) / 60 if fr else None, len(fr)),
        "first_response_mean": _figure(cfg, "first_response_mean", sum(fr) / len(fr) / 60 if fr else None, len(fr)),
        "resolution_median": _figure(cfg, "resolution_median", statistics.median(res) / 3600 if res else None, len(res)),
        "resolution_mean": _figure(cfg, "resolution_mean", sum(res) / len(res) / 3600 if res else None, len(res)),
        "first_time_fix": _figure(cfg, "first_time_fix", _share(g["ftf_ok"], len(res)), len(res)),
        "transfers": _figure(cfg, "transfers", g["transfers"] / g["tickets"] if g["tickets"] else None, g["tickets"]),
        "evidence": {**_figure(cfg, "evidence", _share(g["evidence_ok"], g["evidence_n"]), g["evidence_n"]),
                     "not_applicable": g["closed"] - g["evidence_n"]},
        "sla_attainment": _figure(cfg, "sla_attainment", _share(g["sla_met"], g["sla_n"]), g["sla_n"]),
        **_source_figures(cfg, g),  # beside ticketctl's own
        "csat": _figure(cfg, "csat", _share(g["satisfied"], g["confirmed"]), g["confirmed"]),
    }


def _source_figures(cfg: Config, g: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The source system's own figures, each only when some ticket has it: its SLA
    verdict's share made (beside ``sla_attainment``) and its mean reopen count."""
    out: dict[str, dict[str, Any]] = {}
    if g["source_sla_n"]:
        out["source_sla_attainment"] = _figure(cfg, "source_sla_attainment",
                                               _share(g["source_sla_met"], g["source_sla_n"]), g["source_sla_n"])
    if g["source_reopens_n"]:
        out["source_reopens"] = _figure(cfg, "source_reopens", g["source_reopens"] / g["source_reopens_n"],
                                        g["source_reopens_n"])
    return out


def _total(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    t: dict[str, Any] = {k: 0 for k in (*COUNTS, "transfers", "ftf_ok") if k != "last_resolved"}
    t["fr"], t["res"] = [], []
    for g in groups.values():
        for k in t:
            t[k] += g[k] if k in ("fr", "res") else g[k] or 0  # a sum over no rows is NULL
    return t


#: the figures of one tier in ``approvals``, in this order (JSON keys, English; the human table labels its columns itself)
APPROVAL_FIGURES = ("requests", "pending", "decided", "approved", "rejected", "business_hours_median", "business_hours_mean",
                    "wall_hours_median", "wall_hours_mean")


def _hours(seconds: list[float], median: bool) -> float | None:
    if not seconds:
        return None
    return round((statistics.median(seconds) if median else statistics.fmean(seconds)) / 3600, 2)


def _approvals(env: Env, w: dict[str, str], access: str) -> dict[str, dict[str, Any]]:
    """Per tier, the approval requests of the window's tickets (see the module's
    docstring): the counts, and the hours from request to decision rounded to 0.01 h."""
    cfg = env.config
    cal = cfg.business_calendar
    rules = cfg.approvals.rules
    tiers = sorted(rules, key=lambda n: (rules[n].cost_from, rules[n].order, n))
    seen: dict[str, dict[str, Any]] = {}
    for rule, status, at, decided in env.store.kpi.approval_requests(w, access):
        g = seen.setdefault(rule, {"pending": 0, "approved": 0, "rejected": 0, "business": [], "wall": []})
        g[status] += 1
        if decided is not None:
            a, b = parse_time(at), parse_time(decided)
            g["business"].append(cal.ordinal(b) - cal.ordinal(a))
            g["wall"].append((b - a).total_seconds())
    out: dict[str, dict[str, Any]] = {}
    for tier in [*tiers, *sorted(set(seen) - set(tiers))]:
        g = seen.get(tier, {"pending": 0, "approved": 0, "rejected": 0, "business": [], "wall": []})
        out[tier] = {"requests": g["pending"] + g["approved"] + g["rejected"], "pending": g["pending"],
                     "decided": len(g["business"]), "approved": g["approved"], "rejected": g["rejected"],
                     "business_hours_median": _hours(g["business"], True), "business_hours_mean": _hours(g["business"], False),
                     "wall_hours_median": _hours(g["wall"], True), "wall_hours_mean": _hours(g["wall"], False)}
    return out


#: how many of a technician's latest resolved tickets their on-time rate is over (``report kpi --by assignee --last``)
DEFAULT_LAST = 30


def on_time(env: Env, end: datetime | None = None, last: int = DEFAULT_LAST) -> dict[str, dict[str, Any]]:
    """Per technician, of their last ``last`` resolved tickets (by
    ``resolved_at``, before ``end``, default now; whenever they were created):
    how many were resolved within their resolution SLA, by the rule of
    ``sla_attainment`` (``resolve_left_s >= 0``, over tickets with a clock),
    and the percent, banded as ``sla_attainment`` is. Tickets as the
    projection holds them now: a reopened ticket counts once resolved again.

    Returns ``{name: {"resolved", "on_time", "on_time_pct", "band"}}``, worst
    first (lowest percent, then most resolved, then by name). Raises BadInput
    for ``last`` < 1."""
    if last < 1:
        raise BadInput(_("--last must be 1 or more"))
    cfg = env.config
    rows = [(round(100.0 * met / n, 1), -n, name, met) for name, n, met in env.store.kpi.on_time(iso(end or env.now), last)]
    rows.sort()
    return {name: {"resolved": -neg, "on_time": met, "on_time_pct": pct,
                   "band": band(pct, cfg.kpi.sla_attainment, "sla_attainment" in KPI_LOWER_IS_BETTER)}
            for pct, neg, name, met in rows}


def kpis(env: Env, start: datetime | None = None, end: datetime | None = None, by: str | None = None,
         last: int = DEFAULT_LAST) -> dict[str, Any]:
    """The KPI report of the tickets created in ``[start, end)`` (default: the
    last 30 days to now); with ``by="dept"`` (or ``"channel"``), the same per
    department (per channel: how the tickets came in); with ``by="assignee"``,
    per technician the on-time rate of their last ``last`` resolved tickets up
    to ``end`` (:func:`on_time`; not limited to the window's tickets).

    Returns ``{"from", "to", "tickets", "kpis": {name: {"value", "unit", "band",
    "n", "basis"}}, "by": {}, "approvals": {tier: {figure: value}}}`` (the
    figures :data:`APPROVAL_FIGURES`); grouped, ``"by": {"dept": {name:
    {"tickets", "kpis"}}}``; per technician, ``"by": {"assignee": {name:
    {"resolved", "on_time", "on_time_pct", "band"}}}`` worst first, and
    ``"last"``. Raises BadInput for an empty window or an unknown grouping."""
    if by not in (None, "dept", "channel", "assignee"):
        raise BadInput(_("--by {by!r}: use dept, channel or assignee").format(by=by))
    start, end = window(env, start, end)
    cfg = env.config
    group = by if by in ("dept", "channel") else ""
    w = {"from": iso(start), "to": iso(end)}
    n_window, access = _access(env, w)
    groups = _counts(env, w, group, access) if n_window else {}
    latest = max((g["last_resolved"] for g in groups.values() if g["last_resolved"]), default=None)
    for g in groups.values():
        g["ftf_ok"] = g["ftf_nocustomer"] or 0
    if latest is not None:
        horizon = iso(parse_time(latest) + timedelta(seconds=cfg.wall(cfg.kpi.repeat_window)))
        for k, n in _first_time_fixes(env, w, group, horizon, access).items():
            groups[k]["ftf_ok"] += n
    if n_window:
        for k, n in _transfers(env, w, group, n_window).items():
            groups[k]["transfers"] = n
    total = _total(groups)
    out: dict[str, Any] = {"from": w["from"], "to": w["to"], "tickets": n_window, "kpis": _kpis(cfg, total), "by": {}}
    if by == "assignee":
        out["by"] = {by: on_time(env, end, last)}
        out["last"] = last
    elif by:
        out["by"] = {by: {d: {"tickets": g["tickets"], "kpis": _kpis(cfg, g)} for d, g in sorted(groups.items())}}
    out["approvals"] = _approvals(env, w, access)  # an empty window: an index lookup finding nothing
    return out
