"""What a person reads for a value (``core.labels``): the built-in labels in
both languages, a team's own from its config, and the identifier back from
any language's label."""

from __future__ import annotations

import pytest

from ticketctl.core.config import PRIORITIES, Config
from ticketctl.core.config.loading import config_from_dict
from ticketctl.core.labels import ZH, event_label, label, value_of
from ticketctl.core.model import STATUSES as MODEL_STATUSES


def test_every_status_priority_and_default_reason_type_and_checklist_item_reads_chinese() -> None:
    cfg = Config()
    values = [("status", s) for s in MODEL_STATUSES] + [("priority", p) for p in PRIORITIES]
    values += [("reason", r) for r in cfg.reasons] + [("type", t) for t in cfg.types]
    values += [("checklist", i) for tc in cfg.types.values() for i in tc.checklist]
    for kind, v in values:
        zh = label(kind, v, cfg, "zh_CN")
        assert zh != v and not any("a" <= ch.lower() <= "z" for ch in zh), (kind, v, zh)
        assert label(kind, v, cfg, "en") == v  # English reads what English users type
    assert len({label("status", s, None, "zh_CN") for s in MODEL_STATUSES}) == len(MODEL_STATUSES)


def test_a_team_labels_its_own_values_in_both_languages_and_relabels_built_in_ones() -> None:
    cfg = config_from_dict({"labels": {"checklist.gas_test": {"en": "gas test", "zh_CN": "燃气检测"},
                                       "reason.awaiting_parts": {"zh_CN": "等待配件"}}})
    assert label("checklist", "gas_test", cfg, "zh_CN") == "燃气检测"
    assert label("checklist", "gas_test", cfg, "en") == "gas test"
    assert label("reason", "awaiting_parts", cfg, "zh_CN") == "等待配件"
    assert label("reason", "awaiting_parts", cfg, "en") == "awaiting_parts"
    assert label("checklist", "unknown_item", cfg, "zh_CN") == "unknown_item"  # nothing made up


@pytest.mark.parametrize("bad", ["bogus", "colour.red", "status.", ".x"])
def test_a_label_key_must_name_a_kind_and_a_value(bad: str) -> None:
    with pytest.raises(ValueError, match=r"labels\."):
        config_from_dict({"labels": {bad: {"en": "x"}}})


def test_what_a_person_types_in_either_language_is_the_identifier() -> None:
    cfg = config_from_dict({"labels": {"reason.awaiting_parts": {"en": "Waiting for parts", "zh_CN": "等待配件"}}})
    reasons = list(cfg.reasons)
    assert value_of("reason", "等待配件", reasons, cfg) == "awaiting_parts"
    assert value_of("reason", "waiting for PARTS", reasons, cfg) == "awaiting_parts"
    assert value_of("reason", "awaiting_parts", reasons, cfg) == "awaiting_parts"
    assert value_of("reason", "等待客户", reasons, cfg) == "awaiting_customer"
    assert value_of("priority", "紧急", PRIORITIES) == "urgent"
    assert value_of("status", "处理中", MODEL_STATUSES) == "in_progress"
    assert value_of("reason", "等待外星人", reasons, cfg) == "等待外星人"  # the caller says "not one of"
    # no two values of one kind share a Chinese label: a typed label names one value
    for kind, table in ZH.items():
        assert len(set(table.values())) == len(table) or kind in ("channel",), kind


def test_an_events_kind_reads_as_its_last_part() -> None:
    assert event_label("ticket.started", None, "zh_CN") == "开始处理"
    assert event_label("ticket.started", None, "en") == "started"
