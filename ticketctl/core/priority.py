"""The priority weight: one number that orders every queue.

    weight = urgency[priority] x impact[scope] x hours_factor x sla_factor

* ``hours_factor`` is 1 inside business hours and for priorities in
  ``weights.always_on``; otherwise ``weights.off_hours_factor``.
* ``sla_factor = 1 + k * clamp(1 - left / target, 0, 2)`` with
  ``k = weights.sla_factor``: 1 with the whole resolution time left, 1 + k when
  due, 1 + 2k once overdue by a whole target.

The same formula is compiled to SQL by ``ticketctl.store.queries`` so that the
store orders 100k tickets without a Python loop; a test checks that both give
the same number.
"""

from __future__ import annotations

from ticketctl.core.config import Config


def hours_factor(cfg: Config, priority: str, in_hours: bool) -> float:
    if in_hours or priority in cfg.weights.always_on:
        return 1.0
    return cfg.weights.off_hours_factor


def sla_factor(cfg: Config, left_s: int, target_s: int) -> float:
    used = 1.0 - left_s / target_s if target_s > 0 else 2.0
    return 1.0 + cfg.weights.sla_factor * min(max(used, 0.0), 2.0)


def weight(cfg: Config, priority: str, impact: str, left_s: int, target_s: int, in_hours: bool) -> float:
    """The weight of an open ticket with ``left_s`` business seconds of its
    ``target_s`` resolution time left, at a moment inside or outside hours."""
    w = cfg.weights
    return round(
        w.urgency[priority] * w.impact[impact] * hours_factor(cfg, priority, in_hours) * sla_factor(cfg, left_s, target_s),
        3,
    )
