"""A team's own labels (``[labels]``): what a person reads for its types,
reasons, checklist items or any built-in value, in each language
(``core.labels``)."""

from __future__ import annotations

from dataclasses import dataclass

from ticketctl.core.config.base import doc
from ticketctl.i18n import _


@dataclass
class LabelConfig:
    """One value's label, per language; empty: the built-in label (English: the identifier)."""

    en: str = doc("What English readers see.", "")
    zh_CN: str = doc("What Chinese readers see.", "")


def check_labels(labels: dict[str, LabelConfig]) -> None:
    """Raise ValueError naming the first ``labels.*`` key that is not ``KIND.value``."""
    from ticketctl.core.labels import KINDS

    for key in labels:
        kind, dot, value = key.partition(".")
        if not dot or not value or kind not in KINDS:
            raise ValueError(_("{key}: expected KIND.value, KIND one of {known}").format(
                key=f"labels.{key}", known=", ".join(KINDS)))
