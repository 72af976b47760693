"""What the workflow asks of a ticket: the blocked-reason menu
(``[reasons]``) and each ticket type's closing rules (``[types]``)."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import check_duration, doc
from ticketctl.i18n import N_, _

BLOCK_FIELDS = ("collaborator", "deliverable", "deadline", "expected_result")


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


def default_reasons() -> dict[str, ReasonConfig]:
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


def default_types() -> dict[str, TypeConfig]:
    return {
        "repair": TypeConfig(["function_test", "safety_reset", "parts_recorded"], confirm=True),
        "install": TypeConfig(["function_test", "site_clean", "customer_briefed"]),
        "change": TypeConfig(["backup_done", "rollback_plan", "stakeholders_notified"]),
        # no checklist: what other systems call an incident (`import servicenow`), and the parent `sweep` opens
        # over a batch of incidents; named here so that `new --type` and the server know them
        "incident": TypeConfig(),
        "batch": TypeConfig(),
    }


def check_reasons(reasons: dict[str, ReasonConfig]) -> None:
    """Raise ValueError naming the first ``reasons.*`` key that is wrong."""
    if not reasons:
        raise ValueError(_("reasons: the blocked-reason menu cannot be empty"))
    for r, rc in reasons.items():
        for i, f in enumerate(rc.fields):
            if f not in BLOCK_FIELDS:
                raise ValueError(_("{key}: {value!r} is not one of {known}").format(
                    key=f"reasons.{r}.fields[{i}]", value=f, known=", ".join(BLOCK_FIELDS)))
        if rc.limit:
            check_duration(f"reasons.{r}.limit", rc.limit)


def check_types(types: dict[str, TypeConfig]) -> None:
    """Raise ValueError naming the first ``types.*`` key that is wrong."""
    for name, tc in types.items():
        for i, item in enumerate(tc.evidence):
            if item not in tc.checklist:
                raise ValueError(_("{key}: {item!r} is not on the {type} checklist").format(
                    key=f"types.{name}.evidence[{i}]", item=item, type=name))
