"""The trends screen (key ``T``): three pictures a supervisor looks at rather
than reads, each with its numbers beside it.

* dwell: per department, the mean hours its open tickets have waited in their
  status, as a bar against the 2 h threshold (``│``); a bar over it is red
  (``services.report.dwell``, as ``report dwell`` gives it);
* flow: the last 30 days' tickets opened, closed and stopped for a block
  reason per day, as sparklines with their totals (``services.report.trend``,
  as ``report trend --reason R``); ``r`` cycles the reason through the config's;
* on time: per technician, the share of their last 30 resolved tickets that
  met their resolution SLA, worst first (``services.kpi.on_time``, as
  ``report kpi --by assignee``).

The app reads the figures in its background worker (:func:`read`) and again on
every live poll that sees a change; the screen only draws them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Sparkline, Static

from ticketctl.cells import ljust, truncate
from ticketctl.core.labels import HasLabels
from ticketctl.i18n import N_, _
from ticketctl.services import kpi, report
from ticketctl.services.env import Env
from ticketctl.tui.words import reason_short, shown

#: the days of the flow picture, and the resolved tickets of each technician's on-time rate
DAYS = 30
LAST = kpi.DEFAULT_LAST
TRENDS_HINT = N_("escape back   r next block reason   ? help")
#: the flow picture's rows: (the trend's key, label, colour)
FLOW = (("opened", N_("opened"), "cyan"), ("closed", N_("closed"), "green"), ("blocked", N_("blocked"), "magenta"))
BAR = 30
NAME = 18


def read(env: Env, reason: str) -> dict[str, Any]:
    """What the screen draws, from the service functions the CLI calls:
    ``{"dwell": report dwell, "trend": report trend --days 30 --reason
    REASON, "on_time": report kpi --by assignee --last 30}``, all at ``env.now``."""
    return {"dwell": report.dwell(env), "trend": report.trend(env, DAYS, reason), "on_time": kpi.on_time(env, env.now, LAST)}


def first_reason(reasons: list[str]) -> str:
    """The reason the screen opens on: missing parts, when the config has it."""
    return report.DEFAULT_BLOCK_REASON if report.DEFAULT_BLOCK_REASON in reasons or not reasons else reasons[0]


def _name(text: str) -> str:
    return ljust(truncate(text, NAME), NAME)


def dwell_text(d: dict[str, Any]) -> Text:
    """One line per department: name, bar (red past the threshold, whose place
    ``│`` marks, ``┃`` within a bar), the mean hours and the open tickets."""
    threshold = d["threshold_h"]
    out = Text(no_wrap=True, overflow="ellipsis")
    if not d["depts"]:
        return out.append(_("no open tickets"), "dim")
    top = max([x["avg_wait_h"] for x in d["depts"]] + [threshold * 2])
    mark = min(round(threshold / top * BAR), BAR - 1)
    for x in d["depts"]:
        over = x["avg_wait_h"] > threshold
        n = round(x["avg_wait_h"] / top * BAR)
        bar = Text()
        for i in range(BAR):
            if i == mark:
                bar.append("│" if i >= n else "┃", "bold yellow")
            elif i < n:
                bar.append("█", "bold red" if over else "green")
            else:
                bar.append(" ")
        out.append(_name(x["dept"])).append(" ").append(bar).append(
            " " + _("{hours} h").format(hours=f"{x['avg_wait_h']:>7.2f}"), "bold red" if over else "")
        out.append("  " + _("{n} open").format(n=x["open"]) + "\n", "dim")
    out.rstrip()
    return out


def on_time_text(techs: dict[str, dict[str, Any]]) -> Text:
    """One line per technician, worst first (the service's order): name, bar
    of the percent on time, percent and ``on time/resolved``."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if not techs:
        return out.append(_("no technician has resolved a ticket yet"), "dim")
    style = {"excellent": "bold green", "ok": "green", "watch": "yellow", "warning": "bold red"}
    for name, t in techs.items():
        n = round(t["on_time_pct"] / 100 * BAR)
        colour = style.get(t["band"] or "", "")
        out.append(_name(name)).append(" ").append("█" * n, colour).append("░" * (BAR - n), "dim")
        out.append(f" {t['on_time_pct']:>5.1f}%", colour).append(f"  {t['on_time']}/{t['resolved']}\n", "dim")
    out.rstrip()
    return out


class TrendsScreen(Screen[None]):
    """Dwell per department, the daily flow and blocks, technicians on time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("r", "next_reason", "reason"),
    ]
    DEFAULT_CSS = """
    TrendsScreen .caption { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    TrendsScreen #trends-top { height: auto; }
    TrendsScreen #dwell-side { width: 1fr; height: auto; }
    TrendsScreen #flow-side { width: 1fr; height: auto; }
    TrendsScreen #dwell { height: auto; padding: 0 1; }
    TrendsScreen .flow-row { height: 3; }
    TrendsScreen .flow-name { width: 14; padding: 0 1; }
    TrendsScreen Sparkline { width: 1fr; height: 3; }
    TrendsScreen .flow-figures { width: 30; padding: 0 1; }
    TrendsScreen #on-time-box { height: 1fr; }
    TrendsScreen #on-time { height: auto; padding: 0 1; }
    TrendsScreen .hint { dock: bottom; height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, reasons: list[str], cfg: HasLabels | None = None) -> None:
        super().__init__()
        #: the config's block reasons, in its order; ``r`` steps through them
        self.reasons = reasons
        self.reason = first_reason(reasons)
        self.cfg = cfg
        #: what the screen shows (:func:`read`), None until the first read
        self.data: dict[str, Any] | None = None
        self.on_reason: Any = None  # the app's callback: read again for the new reason

    def compose(self) -> ComposeResult:
        with Horizontal(id="trends-top"):
            with Vertical(id="dwell-side"):
                yield Static(_("loading ..."), id="dwell-caption", classes="caption")
                yield Static("", id="dwell")
            with Vertical(id="flow-side"):
                yield Static("", id="flow-caption", classes="caption")
                for key, _label, _colour in FLOW:
                    with Horizontal(classes="flow-row"):
                        yield Static("", id=f"flow-name-{key}", classes="flow-name")
                        yield Sparkline([], id=f"spark-{key}")
                        yield Static("", id=f"flow-{key}", classes="flow-figures")
        yield Static("", id="on-time-caption", classes="caption")
        with VerticalScroll(id="on-time-box"):
            yield Static("", id="on-time")
        yield Static(_(TRENDS_HINT), classes="hint")

    def on_mount(self) -> None:
        for key, _label, colour in FLOW:
            spark = self.query_one(f"#spark-{key}", Sparkline)
            spark.styles.color = colour

    def action_next_reason(self) -> None:
        """The next block reason of the config's menu; the app reads the flow again."""
        if not self.reasons:
            return
        self.reason = self.reasons[(self.reasons.index(self.reason) + 1) % len(self.reasons)] \
            if self.reason in self.reasons else self.reasons[0]
        self.query_one("#flow-caption", Static).update(Text(self.flow_caption(), style="bold"))
        if self.on_reason is not None:
            self.on_reason(self.reason)

    def flow_caption(self) -> str:
        days = self.data["trend"]["days"] if self.data else DAYS
        tz = self.data["trend"]["timezone"] if self.data else ""
        return _("per day, last {days} days ({timezone}); blocked: {reason} (r: next reason)").format(
            days=days, timezone=tz, reason=shown("reason", self.reason, self.cfg))

    def show(self, data: dict[str, Any]) -> None:
        """Draw ``data`` (:func:`read`); figures read for a reason since left are dropped."""
        if data["trend"]["reason"] != self.reason or not self.is_attached:
            return
        self.data = data
        d = data["dwell"]
        self.query_one("#dwell-caption", Static).update(Text(_(
            "average wait in status per department, against {hours:g} h (│); red: over it").format(hours=d["threshold_h"])))
        self.query_one("#dwell", Static).update(dwell_text(d))
        t = data["trend"]
        self.query_one("#flow-caption", Static).update(Text(self.flow_caption(), style="bold"))
        for key, label, colour in FLOW:
            values = [day[key] for day in t["series"]]
            self.query_one(f"#spark-{key}", Sparkline).data = values
            name = _(label) if key != "blocked" else reason_short(t["reason"], self.cfg)
            self.query_one(f"#flow-name-{key}", Static).update(Text(truncate(name, 12), style=f"bold {colour}"))
            figures = Text(_("total {n}").format(n=t[key]), style="bold")
            figures.append("\n" + _("today {n}").format(n=values[-1] if values else 0), "dim")
            figures.append("\n" + _("most in a day {n}").format(n=max(values, default=0)), "dim")
            self.query_one(f"#flow-{key}", Static).update(figures)
        techs = data["on_time"]
        self.query_one("#on-time-caption", Static).update(Text(_(
            "on time per technician: of their last {last} resolved tickets, within the resolution SLA; worst first").format(
                last=LAST)))
        self.query_one("#on-time", Static).update(on_time_text(techs))
