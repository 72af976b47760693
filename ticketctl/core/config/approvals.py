"""Approvals (``[approvals]``): who approves, the paths a request takes and
where an overdue step goes. The rules that read them are ``core.approvals``."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import check_duration, doc
from ticketctl.i18n import _


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


def default_approval_rules() -> dict[str, ApprovalRule]:
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
        " quote attached.", factory=default_approval_rules)

    def names(self, role: str) -> list[str]:
        """The people of a role, or the person an ``@name`` entry names."""
        if role.startswith("@"):
            return [role[1:]] if role[1:] else []
        return [n.strip() for n in self.approvers.get(role, "").split(",") if n.strip()]


def check_approvals(a: ApprovalsConfig) -> None:
    """Raise ValueError naming the first ``approvals.*`` key that is wrong."""
    for name, r in a.rules.items():
        key = f"approvals.rules.{name}"
        if r.cost_from < 0 or r.cost_below < 0 or (r.cost_below and r.cost_below <= r.cost_from):
            raise ValueError(_("{key}: cost_below must be above cost_from (or 0: no upper bound)").format(key=key))
        if not r.steps:
            raise ValueError(_("{key}.steps: needs at least one step").format(key=key))
        for i, st in enumerate(r.steps):
            if bool(st.all_of) == bool(st.any_of):
                raise ValueError(_("{key}: give either all_of or any_of").format(key=f"{key}.steps[{i}]"))
            check_duration(f"{key}.steps[{i}].limit", st.limit)
