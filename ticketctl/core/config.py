"""The rules a team runs on, as one typed, documented config.

The config file (``config.toml`` in the ticketctl home) holds only what a team
changes; everything else falls back to the defaults below. Every field carries
its documentation in ``metadata["doc"]``: the README's config reference and
``ticketctl config show --doc`` are generated from it.

Loading never half-accepts a file: :func:`config_from_dict` raises a
ValueError naming the key and what is wrong; the home (``ticketctl.home``)
adds the file name and turns it into a ConfigError before anything runs.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import date, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticketctl.core.calendar import WEEKDAYS, BusinessCalendar
from ticketctl.core.country import CountryDays, country_days
from ticketctl.i18n import LANGUAGES, N_, _

PRIORITIES = ("urgent", "high", "medium", "low")
IMPACTS = ("user", "department", "system")


#: what :func:`check_known` calls each closed set in its message
KINDS = {"type": N_("type"), "priority": N_("priority"), "impact": N_("impact"), "reason": N_("block reason"),
         "answer": N_("answer")}


def check_known(kind: str, value: str, known: typing.Iterable[str]) -> str:
    """``value`` when it is one of ``known`` (a closed set the config or the
    rules declare: ticket types, priorities, impacts, blocked reasons); else
    BadInput naming the closest known value, so that a typo (``repiar``) never
    slips past the rules that hang on the name (a type's checklist)."""
    import difflib

    from ticketctl.errors import BadInput

    names = list(known)
    if value in names:
        return value
    what = _(KINDS.get(kind, kind))
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6) or [
        n for n in names if n.casefold() == value.strip().casefold()]
    if close:
        raise BadInput(_("unknown {kind} {value!r} (did you mean {guess!r}? known: {known})").format(
            kind=what, value=value, guess=close[0], known=", ".join(names)))
    raise BadInput(_("unknown {kind} {value!r} (known: {known})").format(kind=what, value=value, known=", ".join(names)))


def doc(text: str, default: Any = MISSING, factory: Any = MISSING) -> Any:
    """A dataclass field with its documentation attached."""
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass
class CalendarConfig:
    """When the SLA clocks run."""

    timezone: str = doc("IANA time zone of the business hours, e.g. `Europe/Berlin`.", "UTC")
    workdays: list[str] = doc(
        "Days the clocks run, as `mon` .. `sun`.", factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    start: str = doc("Start of business hours, `HH:MM` local time.", "08:00")
    end: str = doc("End of business hours, `HH:MM` local time.", "18:00")
    holidays: list[str] = doc(
        "Dates (`YYYY-MM-DD`) on which no clock runs, besides the country's (`calendar.country`).", factory=list
    )
    country: str = doc(
        "Country whose public holidays stop the clocks, as an ISO 3166-1 code (`CN`, `DE`, `US`; empty: none),"
        " from the `holidays` package, 2000-2050 (years past the last official notice are its estimate). Its"
        " make-up workdays count as workdays: with `CN`, a Saturday or Sunday worked in exchange for a longer"
        " holiday (调休) runs the clocks like a weekday. Computed dates are cached in `holidays-cache.json`"
        " beside the config file.",
        "",
    )
    subdivision: str = doc(
        "Region of `calendar.country` whose own holidays count too (ISO 3166-2 part: `BY` for Bavaria, `CA`"
        " for California); empty: the country's holidays only.",
        "",
    )


@dataclass
class SlaTarget:
    """Targets of one priority. Durations are business time: `15m`, `8h`, `3d`
    (a `d` is one business day, 10 hours with the default calendar)."""

    response: str = doc("Time to the first response by the assignee.")
    resolve: str = doc("Time to resolution; customer-caused blocks pause it.")


@dataclass
class ReasonConfig:
    """One entry of the blocked-reason menu."""

    label: str = doc("What the menu shows.", "")
    pauses_sla: bool = doc("Customer-caused: the resolution clock pauses while blocked for it.", False)
    fields: list[str] = doc(
        "Fields a block for this reason must carry (collaborator, deliverable, deadline, expected_result).",
        factory=list,
    )
    limit: str = doc("Blocked longer than this (wall time, `2d`, `36h`) -> `sweep` escalates; empty: no limit.", "")


@dataclass
class TypeConfig:
    """Rules of one ticket type."""

    checklist: list[str] = doc("Items that must be checked before the ticket closes.", factory=list)
    evidence: list[str] = doc(
        "Checklist items that need an evidence file: `attach KEY FILE --for ITEM` checks them (a photo's EXIF time"
        " must lie within `proof.photo_window` of the check); `close --check` alone cannot.",
        factory=list,
    )
    confirm: bool = doc(
        "The customer confirms (three ratings and a comment, `ticketctl confirm`) before the ticket may close.", False
    )


@dataclass
class WeightConfig:
    """Priority weight = urgency x impact x business-hours factor x SLA factor."""

    urgency: dict[str, float] = doc(
        "Factor per priority.", factory=lambda: {"urgent": 8.0, "high": 4.0, "medium": 2.0, "low": 1.0}
    )
    impact: dict[str, float] = doc(
        "Factor per impact scope.", factory=lambda: {"user": 1.0, "department": 2.0, "system": 4.0}
    )
    off_hours_factor: float = doc(
        "Factor outside business hours for priorities not in `always_on`: at night only what cannot wait rises.",
        0.5,
    )
    always_on: list[str] = doc("Priorities whose weight ignores business hours.", factory=lambda: ["urgent"])
    sla_factor: float = doc(
        "How strongly a running-out resolution clock lifts the weight: the factor grows from 1 (full"
        " time left) to 1 + sla_factor (due now) and up to 1 + 2 x sla_factor (overdue by the whole target).",
        3.0,
    )


def _default_sla() -> dict[str, SlaTarget]:
    return {
        "urgent": SlaTarget("15m", "2h"),
        "high": SlaTarget("1h", "8h"),
        "medium": SlaTarget("4h", "3d"),
        "low": SlaTarget("24h", "7d"),
    }


def _default_reasons() -> dict[str, ReasonConfig]:
    return {
        # labels are data (a team may write its own); the defaults are marked for the
        # catalog and translated where a menu or report shows them: _(label)
        "awaiting_customer": ReasonConfig(N_("Awaiting customer"), pauses_sla=True, limit="5d"),
        "awaiting_parts": ReasonConfig(N_("Awaiting parts"), limit="3d"),
        "awaiting_third_party": ReasonConfig(N_("Awaiting third party"), limit="5d"),
        "awaiting_approval": ReasonConfig(N_("Awaiting approval"), limit="2d"),
        "awaiting_collaboration": ReasonConfig(
            N_("Awaiting collaboration with another department"),
            fields=["collaborator", "deliverable", "deadline", "expected_result"],
        ),
    }


def _default_types() -> dict[str, TypeConfig]:
    return {
        "repair": TypeConfig(["function_test", "safety_reset", "parts_recorded"], confirm=True),
        "install": TypeConfig(["function_test", "site_clean", "customer_briefed"]),
        "change": TypeConfig(["backup_done", "rollback_plan", "stakeholders_notified"]),
        # no checklist: what other systems call an incident (`import servicenow`), and the parent `sweep` opens
        # over a batch of incidents; named here so that `new --type` and the server know them
        "incident": TypeConfig(),
        "batch": TypeConfig(),
    }


BLOCK_FIELDS = ("collaborator", "deliverable", "deadline", "expected_result")
POLICIES = ("least_loaded", "round_robin", "skills_first")
NOTIFY_FORMATS = ("json", "slack", "wecom", "dingtalk")


@dataclass
class DeptConfig:
    """Overrides for one department."""

    policy: str = doc("Assignment policy here: least_loaded, round_robin or skills_first.", "")
    supervisor: str = doc("Who escalations of this department go to.", "")


@dataclass
class DispatchConfig:
    """How tickets find technicians."""

    policy: str = doc(
        "least_loaded: skill fit, then lower load, distance, longest idle; skills_first: specialists first"
        " (fewest skills beyond the ticket's); round_robin: longest idle first.",
        "least_loaded",
    )
    vip_customers: list[str] = doc("Customers whose tickets go to senior technicians first.", factory=list)
    supervisor: str = doc("Who escalations go to when the department names none.", "supervisor")
    departments: dict[str, DeptConfig] = doc("Per-department policy and supervisor.", factory=dict)


@dataclass
class ZoneConfig:
    """Where a zone is, for distances to technicians with coordinates."""

    lat: float = doc("Latitude of the zone's centre.", 0.0)
    lon: float = doc("Longitude of the zone's centre.", 0.0)


@dataclass
class SweepConfig:
    """Thresholds of `ticketctl sweep` (durations: `30m`, `4h`, `2d`; wall time unless said)."""

    silent_after: str = doc("Unassigned this long ...", "2h")
    silent_sla_left: str = doc("... with less business time than this left to resolve -> escalate (silent ticket).", "4h")
    at_risk_share: float = doc("An SLA clock with less than this share of its target left is at risk.", 0.2)
    stall_after: str = doc("in_progress with no update this long -> ask the holder why (stall check).", "4h")
    batch_size: int = doc("This many open tickets with the same product and fault in one zone ...", 5)
    batch_window: str = doc("... created within this window -> one parent batch ticket links them.", "24h")
    max_tickets: int = doc(
        "Tickets one run acts on at most, most urgent first; the rest wait for the next run, so a first sweep over a"
        " large neglected backlog escalates over several runs instead of locking the store and flooding everyone.",
        2000,
    )


@dataclass
class NotifyTarget:
    """One webhook."""

    url: str = doc("Where to POST (http or https).", "")
    format: str = doc("Body shape: json (generic), slack, wecom or dingtalk.", "json")
    rules: list[str] = doc("Only escalations of these rules (empty: all).", factory=list)


@dataclass
class NotifyConfig:
    """Webhook notifications, sent from a persistent outbox."""

    targets: dict[str, NotifyTarget] = doc("Webhook targets by name.", factory=dict)
    timeout: float = doc("Seconds to wait for one delivery.", 5.0)
    tries_per_run: int = doc("Deliveries tried per notification in one run, with backoff, before waiting for the next.", 3)
    give_up_after: int = doc("Tries in all before a notification is marked failed.", 20)


#: KPIs of `report kpi` where a lower figure is better (times, transfers); for the others
#: (rates, in percent) a higher figure is better
KPI_LOWER_IS_BETTER = ("first_response", "resolution", "transfers")
KPI_PERCENT = ("first_time_fix", "evidence", "sla_attainment")


@dataclass
class KpiBand:
    """Bands of one KPI: excellent, ok, watch (between `ok` and `warning`) or warning.
    Where lower is better, a figure at or under `excellent` is excellent, at or under `ok`
    is ok and over `warning` is a warning; where higher is better, at or over, and under."""

    excellent: float = doc("At or better than this: excellent.")
    ok: float = doc("At or better than this: ok.")
    warning: float = doc("Worse than this: warning (between `ok` and this: watch).")


@dataclass
class KpiConfig:
    """Bands of `ticketctl report kpi` (defaults: industry medians) and how first-time fix is judged."""

    first_response: KpiBand = doc(
        "First response time in minutes, its median and its mean (lower is better; default 15 / 45 / 90).",
        factory=lambda: KpiBand(15.0, 45.0, 90.0),
    )
    resolution: KpiBand = doc(
        "Resolution time in hours, its median and its mean (lower is better; default 2.5 / 8 / 24).",
        factory=lambda: KpiBand(2.5, 8.0, 24.0),
    )
    first_time_fix: KpiBand = doc(
        "First-time-fix rate in percent of resolved tickets (higher is better; default 86 / 72 / 60).",
        factory=lambda: KpiBand(86.0, 72.0, 60.0),
    )
    transfers: KpiBand = doc(
        "Cross-department transfers per ticket (lower is better; default 1.2 / 2.8 / 4).",
        factory=lambda: KpiBand(1.2, 2.8, 4.0),
    )
    evidence: KpiBand = doc(
        "Evidence completeness in percent of closed tickets (higher is better; default 100 / 94 / 85).",
        factory=lambda: KpiBand(100.0, 94.0, 85.0),
    )
    sla_attainment: KpiBand = doc(
        "Percent of resolved tickets resolved within their resolution SLA (higher is better; default 95 / 90 / 80).",
        factory=lambda: KpiBand(95.0, 90.0, 80.0),
    )
    csat: KpiBand = doc(
        "Customer satisfaction: percent of confirmations whose three ratings average 4 or more of 5"
        " (higher is better; default 90 / 80 / 70).",
        factory=lambda: KpiBand(90.0, 80.0, 70.0),
    )
    repeat_window: str = doc(
        "A later ticket from the same customer for the same product and fault, opened before a ticket was resolved"
        " or within this long after (wall time), means its fix was not first-time.",
        "30d",
    )


@dataclass
class ProofConfig:
    """Closing with proof: evidence times, the customer's confirmation, certificates."""

    photo_window: str = doc(
        "A photo's EXIF capture time must lie within this long of the check of the item it proves (`5m`).", "5m"
    )
    token_ttl: str = doc("A phone confirmation link (`confirm KEY --qr`) expires after this long (wall time).", "24h")
    url: str = doc(
        "Base URL of the team's server: customers confirm at `{url}/c/{token}`, certificates verify at"
        " `{url}/v/{payload}`. Empty: `confirm --qr` needs `--url`; a certificate's QR holds the bare payload.",
        "",
    )
    solved_at_least: int = doc(
        "A confirmation whose first rating (problem solved, 1-5) is below this says the problem is not solved:"
        " the ticket cannot close on it (reopen it instead).",
        3,
    )
    font: str = doc(
        "A TTF/OTF/TTC font file for certificates whose text the PDF core fonts lack (Chinese): it must have"
        " every character printed (in a collection, the Simplified Chinese face is used). Empty: the"
        " `ticketctl[cjk]` font package, else the system's CJK fonts (fonts-noto-cjk, macOS, Windows, fc-match).",
        "",
    )


@dataclass
class ApprovalStep:
    """One step of an approval path. Entries are roles (keys of
    `approvals.approvers`) or people written `@name`."""

    all_of: list[str] = doc("Every one of these approves (in parallel; a person counts once).", factory=list)
    any_of: list[str] = doc("One of these approves.", factory=list)
    attach: list[str] = doc(
        "Attachments the request must carry for this step, by label (`approval request --attach quote.pdf` is labelled"
        " `quote`; `--attach quote=Q-88.pdf` says it).", factory=list)
    limit: str = doc(
        "Business time the step may take: past half of it `sweep` reminds the approvers, past all of it escalates"
        " to their manager (`approvals.escalate_to`).", "2d")


def _tier(cost_from: float, cost_below: float, steps: list[ApprovalStep]) -> ApprovalRule:
    return ApprovalRule(order=0, cost_from=cost_from, cost_below=cost_below, steps=steps)


@dataclass
class ApprovalRule:
    """When a request takes this path (every condition given must hold), and its steps."""

    order: int = doc("Rules are tried by `order`, then name; the first that matches is the path.", 0)
    cost_from: float = doc("Cost at least this ...", 0.0)
    cost_below: float = doc("... and below this (0: no upper bound).", 0.0)
    types: list[str] = doc("Only tickets of these types (empty: any).", factory=list)
    depts: list[str] = doc("Only tickets of these departments (empty: any).", factory=list)
    customer_classes: list[str] = doc("Only customers of these classes (`approvals.classes`; empty: any).", factory=list)
    steps: list[ApprovalStep] = doc("The steps, one after the other.", factory=list)


def _default_approval_rules() -> dict[str, ApprovalRule]:
    managers = ["supervisor", "regional_manager"]
    return {
        "small": _tier(0.0, 500.0, [ApprovalStep(any_of=["supervisor"])]),
        "medium": _tier(500.0, 5000.0, [ApprovalStep(all_of=managers)]),
        "large": _tier(5000.0, 0.0, [ApprovalStep(all_of=managers), ApprovalStep(any_of=["finance_director"], attach=["quote"])]),
    }


@dataclass
class ApprovalsConfig:
    """Approvals (`ticketctl approval`): who approves, the paths requests take, where overdue steps go."""

    approvers: dict[str, str] = doc(
        "Who holds each role, comma separated (`config set approvals.approvers.supervisor sam,lee`).",
        factory=lambda: {"supervisor": "supervisor", "regional_manager": "regional_manager",
                         "finance_director": "finance_director"})
    escalate_to: dict[str, str] = doc(
        "Where a step past its limit goes, by the step's role (a role, or `@name`); a role missing here goes to the"
        " department's supervisor (`dispatch`).",
        factory=lambda: {"supervisor": "regional_manager", "regional_manager": "finance_director"})
    classes: dict[str, list[str]] = doc("Customer classes by name, each a list of customers (a rule's `customer_classes`).",
                                        factory=dict)
    rules: dict[str, ApprovalRule] = doc(
        "The paths by name (the tier `report kpi` groups approval times by). Default: under 500 one supervisor; 500 to"
        " 5,000 the supervisor and the regional manager together; 5,000 and more also the finance director, with the"
        " quote attached.", factory=_default_approval_rules)

    def names(self, role: str) -> list[str]:
        """The people of a role, or the person an ``@name`` entry names."""
        if role.startswith("@"):
            return [role[1:]] if role[1:] else []
        return [n.strip() for n in self.approvers.get(role, "").split(",") if n.strip()]


@dataclass
class AlertRule:
    """Where a monitoring alert goes: the first rule (by `order`, then name) whose
    `match` holds for the alert's labels gives its fields."""

    order: int = doc("Rules are tried by `order`, then name.", 0)
    match: dict[str, str] = doc(
        "Label name -> regular expression the whole value must match (`{ team = \"net|fibre\" }`); every one must hold"
        " (empty: any alert).", factory=dict)
    dept: str = doc("Department of the ticket (empty: `intake.dept`).", "")
    product: str = doc("Product (empty: the `service` label, else `intake.product`).", "")
    fault: str = doc("Fault type (empty: the `alertname` label).", "")
    type: str = doc("Ticket type (empty: `intake.type`).", "")


@dataclass
class IntakeConfig:
    """Work that arrives by itself (`ticketctl server add-source`): monitoring alerts,
    webhooks, the support mailbox and the customers' web form."""

    dept: str = doc("Department of tickets no rule places.", "operations")
    product: str = doc("Product of tickets that name none.", "general")
    type: str = doc("Type of the tickets intake opens (a key of `types`).", "repair")
    severity_label: str = doc("The alert label that gives the priority (through `intake.priorities`).", "severity")
    priorities: dict[str, str] = doc(
        "Alert severity -> priority; a severity not listed is `medium`.",
        factory=lambda: {"critical": "urgent", "page": "urgent", "error": "high", "major": "high", "warning": "medium",
                         "minor": "low", "info": "low"})
    alert_rules: dict[str, AlertRule] = doc("Label rules for monitoring alerts, by name.", factory=dict)
    resolve_on_resolved: bool = doc(
        "When monitoring says an alert is resolved, resolve its ticket too (else only a note says so).", False)
    web_per_hour: int = doc("Tickets one address may open through the web form per hour.", 5)
    max_photo_kb: int = doc("Largest photo the web form takes, in KiB.", 5120)
    max_mail_kb: int = doc("Largest mail `intake imap` hands to the server (text and attachments), in KiB.", 20480)
    webhook_window: str = doc(
        "How far a signed webhook's time (`X-Ticketctl-Timestamp`) may lie from the server's clock, either way (`5m`);"
        " within it, a delivery seen before is refused as a replay.", "5m")


@dataclass
class Config:
    """Everything ticketctl's rules read. Time is never read here: it is a parameter."""

    me: str = doc("Who is acting on this machine (`TICKETCTL_USER` overrides it).", "")
    lang: str = doc(
        "Language of messages, help, the dashboard and certificates: `en` or `zh_CN` (Simplified Chinese);"
        " empty: `TICKETCTL_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else English.",
        "",
    )
    capacity: int = doc("Open tickets a technician may hold unless `tech add/set --capacity` says otherwise.", 3)
    calendar: CalendarConfig = doc("Business calendar of the SLA clocks.", factory=CalendarConfig)
    sla: dict[str, SlaTarget] = doc("SLA targets per priority (urgent, high, medium, low).", factory=_default_sla)
    weights: WeightConfig = doc("How the priority weight is made.", factory=WeightConfig)
    reasons: dict[str, ReasonConfig] = doc("The blocked-reason menu.", factory=_default_reasons)
    types: dict[str, TypeConfig] = doc(
        "Ticket types and their closing checklists. The only types a ticket may have (`new --type`, the server):"
        " a name not declared here is refused, with the closest one suggested.", factory=_default_types)
    dispatch: DispatchConfig = doc("Assignment rules.", factory=DispatchConfig)
    zones: dict[str, ZoneConfig] = doc("Zone centres, for distances.", factory=dict)
    sweep: SweepConfig = doc("Escalation thresholds of `ticketctl sweep`.", factory=SweepConfig)
    notify: NotifyConfig = doc("Webhook notifications.", factory=NotifyConfig)
    kpi: KpiConfig = doc("KPI bands of `report kpi`.", factory=KpiConfig)
    proof: ProofConfig = doc("Evidence, customer confirmation and certificates.", factory=ProofConfig)
    approvals: ApprovalsConfig = doc("Approval paths and approvers.", factory=ApprovalsConfig)
    intake: IntakeConfig = doc("Tickets from monitoring, webhooks, mail and the web form.", factory=IntakeConfig)

    # -- derived, validated on load -------------------------------------------

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        c = self.calendar
        country = country_days(c.country, c.subdivision) if c.country else CountryDays((), ())
        return BusinessCalendar(
            tz=ZoneInfo(c.timezone),
            workdays=tuple(WEEKDAYS.index(d) for d in c.workdays),
            start=time.fromisoformat(c.start),
            end=time.fromisoformat(c.end),
            holidays=tuple(date.fromisoformat(h) for h in c.holidays) + country.holidays,
            extra_workdays=country.workdays,
        )

    @cached_property
    def rules_fingerprint(self) -> str:
        """What the projections are folded under, as one short text: the
        effective business calendar (time zone, workdays, hours, every holiday
        and make-up workday, a country's included), each priority's SLA targets
        in business seconds, which blocked reasons pause the clock, and each
        type's checklist, evidence and confirmation. When it changes the store's
        clocks are stale and are folded again from the events
        (``services.env.Env.store``). Made of effective values, not of the config
        table: a new config key with a default, or a holiday written twice, is no
        change; a package update that moves a holiday is one."""
        import json
        import zlib

        cal = self.business_calendar
        rules = {
            "calendar": [self.calendar.timezone, sorted(cal.workdays), str(cal.start), str(cal.end),
                         [[d.isoformat(), worked] for d, worked in cal.changed_days]],
            "sla": {p: self.sla_seconds(p) for p in sorted(self.sla)},
            "pauses": sorted(r for r, rc in self.reasons.items() if rc.pauses_sla),
            # a type without rules folds like no type at all: declaring one changes no clock
            "types": {t: [tc.checklist, tc.evidence, tc.confirm] for t, tc in sorted(self.types.items())
                      if tc.checklist or tc.evidence or tc.confirm},
        }
        text = json.dumps(rules, sort_keys=True, separators=(",", ":")).encode()
        return f"v1:{zlib.crc32(text):08x}:{len(text)}"

    def sla_seconds(self, priority: str) -> tuple[int, int]:
        """(response, resolve) targets of ``priority`` in business seconds."""
        t = self.sla[priority]
        day = self.business_calendar.day_seconds
        return parse_duration(t.response, day), parse_duration(t.resolve, day)

    def wall(self, text: str) -> int:
        """Seconds of a wall-time duration (``2h``, ``3d`` = 72 h)."""
        return parse_duration(text, 86_400)

    def policy(self, dept: str) -> str:
        d = self.dispatch.departments.get(dept)
        return d.policy if d and d.policy else self.dispatch.policy

    def supervisor(self, dept: str) -> str:
        d = self.dispatch.departments.get(dept)
        return d.supervisor if d and d.supervisor else self.dispatch.supervisor

    def checklist(self, ticket_type: str) -> list[str]:
        t = self.types.get(ticket_type)
        return list(t.checklist) if t else []

    def evidence_items(self, ticket_type: str) -> list[str]:
        """Checklist items of ``ticket_type`` that need an evidence file."""
        t = self.types.get(ticket_type)
        return list(t.evidence) if t else []

    def needs_confirmation(self, ticket_type: str) -> bool:
        t = self.types.get(ticket_type)
        return bool(t and t.confirm)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


def parse_duration(text: str, day_seconds: int = 36_000) -> int:
    """Seconds in ``15m``, ``8h`` or ``3d`` (days of ``day_seconds``: a business
    day by default, 86,400 for wall time)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(_("{text!r} is not a duration like 15m, 8h or 3d").format(text=text))
    n, unit = float(m.group(1)), m.group(2)
    seconds = n * {"m": 60, "h": 3600, "d": day_seconds}[unit]
    if seconds > MAX_DURATION_S:  # a due time this far away would leave the dates the clocks can hold
        raise ValueError(_("{text!r} is longer than {years} years").format(text=text, years=MAX_DURATION_S // (365 * 86_400)))
    return int(seconds)


#: the longest duration a rule may name (an SLA target, a limit, a window): 100 years
MAX_DURATION_S = 100 * 365 * 86_400


# -- loading ----------------------------------------------------------------------


def _kind(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; raise ValueError naming ``key``."""
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(_("{key}: expected a table, got {value!r}").format(key=key, value=value))
        return _build(tp, value, key)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError(_("{key}: expected a list, got {value!r}").format(key=key, value=value))
        return [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _unused, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ValueError(_("{key}: expected a table, got {value!r}").format(key=key, value=value))
        return {k: _convert(item, v, f"{key}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # TOML has nan and inf
            raise ValueError(_("{key}: must be a finite number, not {value!r}").format(key=key, value=value))
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) < value < 2**63:  # what a store's or a server's integer column holds
            raise ValueError(_("{key}: {value} is out of range").format(key=key, value=value))
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise ValueError(_("{key}: expected {kind}, got {value!r}").format(key=key, kind=_kind(tp), value=value))


def _build(cls: Any, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls) if f.init}
    for k in data:
        if k not in names:
            raise ValueError(_("{key}: unknown key (known: {known})").format(
                key=f"{prefix}.{k}" if prefix else k, known=", ".join(sorted(names))))
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{prefix + '.' if prefix else ''}{f.name}")
    return cls(**kwargs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; lists and scalars in ``over`` replace."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def to_dict(obj: Any) -> Any:
    """Plain dicts and lists of a config (for TOML/JSON output and merging)."""
    if is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_dict(v) for v in obj]
    return obj


def _check(cfg: Config) -> None:
    """Semantic checks that types alone cannot express."""
    if cfg.lang and cfg.lang not in LANGUAGES:
        raise ValueError(_("{key}: {value!r} is not one of {known}").format(key="lang", value=cfg.lang, known=", ".join(LANGUAGES)))
    c = cfg.calendar
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("calendar.timezone: unknown time zone {value!r}").format(value=c.timezone)) from None
    for i, d in enumerate(c.workdays):
        if d not in WEEKDAYS:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"calendar.workdays[{i}]", value=d, known=", ".join(WEEKDAYS)))
    if not c.workdays:
        raise ValueError(_("calendar.workdays: needs at least one day"))
    for k in ("start", "end"):
        try:
            time.fromisoformat(getattr(c, k))
        except ValueError:
            raise ValueError(_("{key}: {value!r} is not a time like 08:00").format(key=f"calendar.{k}", value=getattr(c, k))) from None
    if time.fromisoformat(c.end) <= time.fromisoformat(c.start):
        raise ValueError(_("calendar.end: business hours must end after calendar.start"))
    for i, h in enumerate(c.holidays):
        try:
            date.fromisoformat(h)
        except ValueError:
            raise ValueError(_("{key}: {value!r} is not a date like 2026-12-25").format(key=f"calendar.holidays[{i}]", value=h)) from None
    if c.country:
        country_days(c.country, c.subdivision)  # raises naming calendar.country or calendar.subdivision
    elif c.subdivision:
        raise ValueError(_("calendar.subdivision: needs calendar.country"))
    _check_approvals(cfg)
    _check_intake(cfg)
    for table, need in (("sla", PRIORITIES), ("weights.urgency", PRIORITIES), ("weights.impact", IMPACTS)):
        have = cfg.sla if table == "sla" else getattr(cfg.weights, table.split(".")[1])
        for k in have:
            if k not in need:
                raise ValueError(_("{key}: unknown key (known: {known})").format(key=f"{table}.{k}", known=", ".join(need)))
        for k in need:
            if k not in have:
                raise ValueError(_("{key}: missing").format(key=f"{table}.{k}"))
    for p, t in cfg.sla.items():
        for k in ("response", "resolve"):
            try:
                if parse_duration(getattr(t, k)) <= 0:
                    raise ValueError(_("must be longer than zero"))
            except ValueError as e:
                raise ValueError(_("{key}: {error}").format(key=f"sla.{p}.{k}", error=e)) from None
    w = cfg.weights
    for table in ("urgency", "impact"):
        for k, v in getattr(w, table).items():
            if v <= 0:
                raise ValueError(_("{key}: must be above zero").format(key=f"weights.{table}.{k}"))
    if w.off_hours_factor <= 0:
        raise ValueError(_("{key}: must be above zero").format(key="weights.off_hours_factor"))
    if w.sla_factor < 0:
        raise ValueError(_("{key}: must be zero or more").format(key="weights.sla_factor"))
    for i, p in enumerate(cfg.weights.always_on):
        if p not in PRIORITIES:
            raise ValueError(_("{key}: {value!r} is not a priority").format(key=f"weights.always_on[{i}]", value=p))
    if cfg.capacity < 0:
        raise ValueError(_("{key}: must be zero or more").format(key="capacity"))
    if not cfg.reasons:
        raise ValueError(_("reasons: the blocked-reason menu cannot be empty"))
    for r, rc in cfg.reasons.items():
        for i, f in enumerate(rc.fields):
            if f not in BLOCK_FIELDS:
                raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                    key=f"reasons.{r}.fields[{i}]", value=f, known=", ".join(BLOCK_FIELDS)))
        if rc.limit:
            _check_duration(f"reasons.{r}.limit", rc.limit)
    for where, pol in [("dispatch.policy", cfg.dispatch.policy)] + [
        (f"dispatch.departments.{d}.policy", dc.policy) for d, dc in cfg.dispatch.departments.items() if dc.policy
    ]:
        if pol not in POLICIES:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(key=where, value=pol, known=", ".join(POLICIES)))
    sw = cfg.sweep
    for k in ("silent_after", "silent_sla_left", "stall_after", "batch_window"):
        _check_duration(f"sweep.{k}", getattr(sw, k))
    if not 0 < sw.at_risk_share < 1:
        raise ValueError(_("sweep.at_risk_share: must be between 0 and 1"))
    if sw.batch_size < 2:
        raise ValueError(_("sweep.batch_size: must be 2 or more"))
    if sw.max_tickets < 1:
        raise ValueError(_("sweep.max_tickets: must be 1 or more"))
    for z, zc in cfg.zones.items():
        if not (-90 <= zc.lat <= 90 and -180 <= zc.lon <= 180):
            raise ValueError(_("{key}: lat must be within -90..90 and lon within -180..180").format(key=f"zones.{z}"))
    for name, nt in cfg.notify.targets.items():
        if not nt.url.startswith(("http://", "https://")):
            raise ValueError(_("{key}: {value!r} is not an http(s) URL").format(key=f"notify.targets.{name}.url", value=nt.url))
        if nt.format not in NOTIFY_FORMATS:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"notify.targets.{name}.format", value=nt.format, known=", ".join(NOTIFY_FORMATS)))
    if cfg.notify.timeout <= 0 or cfg.notify.tries_per_run < 1 or cfg.notify.give_up_after < 1:
        raise ValueError(_("notify: timeout, tries_per_run and give_up_after must be positive"))
    for name in (f.name for f in fields(KpiConfig) if f.name != "repeat_window"):
        b = getattr(cfg.kpi, name)
        lower = name in KPI_LOWER_IS_BETTER
        if not (b.excellent <= b.ok <= b.warning if lower else b.excellent >= b.ok >= b.warning):
            order = "excellent <= ok <= warning" if lower else "excellent >= ok >= warning"
            raise ValueError(_("{key}: bands must be ordered {order}").format(key=f"kpi.{name}", order=order))
        if min(b.excellent, b.ok, b.warning) < 0 or (name in KPI_PERCENT and max(b.excellent, b.ok, b.warning) > 100):
            if name in KPI_PERCENT:
                raise ValueError(_("{key}: bands must lie within 0..100 (percent)").format(key=f"kpi.{name}"))
            raise ValueError(_("{key}: bands must lie within 0 or more").format(key=f"kpi.{name}"))
    _check_duration("kpi.repeat_window", cfg.kpi.repeat_window)
    for name, tc in cfg.types.items():
        for i, item in enumerate(tc.evidence):
            if item not in tc.checklist:
                raise ValueError(_("{key}: {item!r} is not on the {type} checklist").format(
                    key=f"types.{name}.evidence[{i}]", item=item, type=name))
    for k in ("photo_window", "token_ttl"):
        _check_duration(f"proof.{k}", getattr(cfg.proof, k))
    if cfg.proof.url and not cfg.proof.url.startswith(("http://", "https://")):
        raise ValueError(_("{key}: {value!r} is not an http(s) URL").format(key="proof.url", value=cfg.proof.url))
    if not 1 <= cfg.proof.solved_at_least <= 5:
        raise ValueError(_("proof.solved_at_least: must be 1 to 5"))


def _check_approvals(cfg: Config) -> None:
    a = cfg.approvals
    for name, r in a.rules.items():
        key = f"approvals.rules.{name}"
        if r.cost_from < 0 or r.cost_below < 0 or (r.cost_below and r.cost_below <= r.cost_from):
            raise ValueError(_("{key}: cost_below must be above cost_from (or 0: no upper bound)").format(key=key))
        if not r.steps:
            raise ValueError(_("{key}.steps: needs at least one step").format(key=key))
        for i, st in enumerate(r.steps):
            if bool(st.all_of) == bool(st.any_of):
                raise ValueError(_("{key}: give either all_of or any_of").format(key=f"{key}.steps[{i}]"))
            _check_duration(f"{key}.steps[{i}].limit", st.limit)


def _check_intake(cfg: Config) -> None:
    i = cfg.intake
    for sev, prio in i.priorities.items():
        if prio not in PRIORITIES:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                key=f"intake.priorities.{sev}", value=prio, known=", ".join(PRIORITIES)))
    types = [("intake.type", i.type), *((f"intake.alert_rules.{n}.type", r.type) for n, r in i.alert_rules.items())]
    for key, value in types:
        if value and value not in cfg.types:
            raise ValueError(_("{key}: {value!r} is not one of {known}").format(key=key, value=value, known=", ".join(cfg.types)))
    for name, rule in i.alert_rules.items():
        for label, pattern in rule.match.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(_("{key}: {value!r} is not a regular expression ({why})").format(
                    key=f"intake.alert_rules.{name}.match.{label}", value=pattern, why=e)) from None
    for key in ("web_per_hour", "max_photo_kb", "max_mail_kb"):
        if getattr(i, key) < 1:
            raise ValueError(_("{key}: must be at least 1").format(key=f"intake.{key}"))
    _check_duration("intake.webhook_window", i.webhook_window)


def _check_duration(key: str, text: str) -> None:
    try:
        if parse_duration(text) <= 0:
            raise ValueError(_("must be longer than zero"))
    except ValueError as e:
        raise ValueError(_("{key}: {error}").format(key=key, error=e)) from None


def config_from_dict(data: dict[str, Any]) -> Config:
    """A validated Config from the user's table merged over the defaults.

    Raises ValueError whose message starts with the offending key."""
    merged = _merge(to_dict(Config()), data)
    cfg: Config = _build(Config, merged)
    _check(cfg)
    return cfg


def field_docs(cls: Any = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, doc) for every field, depth first, for the config reference."""
    out: list[tuple[str, str, str]] = []
    defaults = cls() if all(f.default is not MISSING or f.default_factory is not MISSING for f in fields(cls)) else None
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        key = prefix + f.name
        tp = hints[f.name]
        default = getattr(defaults, f.name) if defaults is not None else None
        if is_dataclass(tp):
            out.append((key, "", f.metadata["doc"]))
            out.extend(field_docs(tp, key + "."))
        else:
            shown = "" if default is None else _show_default(default)
            out.append((key, shown, f.metadata["doc"]))
            args = typing.get_args(tp)
            if typing.get_origin(tp) is dict and is_dataclass(args[1]):
                out.extend(field_docs(args[1], key + ".<name>."))
    return out


def _show_default(v: Any) -> str:
    import json

    return json.dumps(to_dict(v), separators=(", ", ": "))
