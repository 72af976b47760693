"""The whole config (:class:`Config`): one field per section, and what the
rules derive from several sections at once (the business calendar, SLA
seconds, the rules fingerprint the store's projections are folded under)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from zoneinfo import ZoneInfo

from ticketctl.core.calendar import WEEKDAYS, BusinessCalendar
from ticketctl.core.config.approvals import ApprovalsConfig
from ticketctl.core.config.base import doc, parse_duration
from ticketctl.core.config.dispatch import DispatchConfig, ZoneConfig
from ticketctl.core.config.intake import IntakeConfig
from ticketctl.core.config.kpi import KpiConfig
from ticketctl.core.config.labels import LabelConfig
from ticketctl.core.config.parts import PartsConfig
from ticketctl.core.config.proof import ProofConfig
from ticketctl.core.config.sla import CalendarConfig, SlaTarget, WeightConfig, default_sla_targets
from ticketctl.core.config.sweep import NotifyConfig, SweepConfig
from ticketctl.core.config.workflow import ReasonConfig, TypeConfig, default_reasons, default_types
from ticketctl.core.country import CountryDays, country_days


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
    sla: dict[str, SlaTarget] = doc("SLA targets per priority (urgent, high, medium, low).", factory=default_sla_targets)
    weights: WeightConfig = doc("How the priority weight is made.", factory=WeightConfig)
    reasons: dict[str, ReasonConfig] = doc("The blocked-reason menu.", factory=default_reasons)
    types: dict[str, TypeConfig] = doc(
        "Ticket types and their closing checklists. The only types a ticket may have (`new --type`, the server):"
        " a name not declared here is refused, with the closest one suggested.", factory=default_types)
    dispatch: DispatchConfig = doc("Assignment rules.", factory=DispatchConfig)
    zones: dict[str, ZoneConfig] = doc("Zone centres, for distances.", factory=dict)
    sweep: SweepConfig = doc("Escalation thresholds of `ticketctl sweep`.", factory=SweepConfig)
    notify: NotifyConfig = doc("Webhook notifications.", factory=NotifyConfig)
    kpi: KpiConfig = doc("KPI bands of `report kpi`.", factory=KpiConfig)
    proof: ProofConfig = doc("Evidence, customer confirmation and certificates.", factory=ProofConfig)
    approvals: ApprovalsConfig = doc("Approval paths and approvers.", factory=ApprovalsConfig)
    intake: IntakeConfig = doc("Tickets from monitoring, webhooks, mail and the web form.", factory=IntakeConfig)
    parts: PartsConfig = doc("Parts and stock: waiting tickets served when stock arrives.", factory=PartsConfig)
    labels: dict[str, LabelConfig] = doc(
        "A team's own labels, keyed `KIND.value` (`type.gas_check`, `reason.awaiting_parts`, `checklist.site_clean`;"
        " KIND: status, priority, impact, type, reason, checklist, channel, event, role, sla, confirm, device):"
        " what people read in `en` and `zh_CN`. Commands still take the identifier, or any label.", factory=dict)

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
