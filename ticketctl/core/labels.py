"""What a person reads for a value of the data model or the config: a
status, a priority, a blocked reason, a checklist item, an event's kind, a role.

Values are identifiers (``in_progress``, ``awaiting_parts``): they stay
identifiers in events, in ``--json`` and on the command line. Where a person
reads one, it is shown through :func:`label` in the reader's language; where a
person types one, :func:`value_of` takes the identifier or any language's label
(``--reason awaiting_parts`` and ``--reason 等待备件`` are the same).

The built-in labels are below, in both languages (English reads the
identifier itself, which is what English users type). A team names its own
types, reasons and checklist items, and may relabel any built-in value, in its
config (``[labels."checklist.gas_test"]`` with ``en`` and ``zh_CN``)::

    [labels."reason.awaiting_parts"]
    en = "waiting for parts"
    zh_CN = "等待配件"

One place decides every label: the commands, the dashboard, the certificate
and the server's pages all call this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, cast

from ticketctl.core.message import Message
from ticketctl.i18n import current, set_labeller

#: what a label is of: ``KIND.value`` is the key of ``[labels]`` in the config
KINDS = ("status", "priority", "impact", "type", "reason", "checklist", "channel", "event", "role", "sla",
         "confirm", "device", "field", "action", "policy", "article", "rule")

ZH: dict[str, dict[str, str]] = {
    "status": {"new": "新建", "assigned": "已指派", "in_progress": "处理中", "blocked": "已挂起",
               "resolved": "已解决", "closed": "已关闭", "cancelled": "已取消"},
    "priority": {"urgent": "紧急", "high": "高", "medium": "中", "low": "低"},
    "impact": {"user": "个人", "department": "部门", "system": "全系统"},
    "type": {"repair": "维修", "install": "安装", "change": "变更", "incident": "故障", "batch": "批量故障"},
    "reason": {"awaiting_customer": "等待客户", "awaiting_parts": "等待备件", "awaiting_third_party": "等待第三方",
               "awaiting_approval": "等待审批", "awaiting_collaboration": "等待跨部门协作",
               # the short names the dashboard's blocked column and the boards use
               "customer": "客户", "parts": "备件", "third_party": "第三方", "approval": "审批",
               "collaboration": "协作"},
    "checklist": {"function_test": "功能测试", "safety_reset": "安全复位", "parts_recorded": "备件已登记",
                  "site_clean": "现场已清理", "customer_briefed": "已向客户说明", "backup_done": "已备份",
                  "rollback_plan": "回退方案", "stakeholders_notified": "已通知相关方"},
    "channel": {"phone": "电话", "email": "邮件", "mail": "邮件", "web": "网页", "form": "网页表单",
                "alert": "监控告警", "webhook": "接口推送", "walk_in": "上门", "cli": "命令行", "import": "导入",
                "chat": "在线客服", "wechat": "微信"},
    "event": {"created": "创建", "assigned": "指派", "unassigned": "取消指派", "started": "开始处理",
              "blocked": "挂起", "unblocked": "解除挂起", "noted": "备注", "checked": "勾选检查项",
              "resolved": "解决", "closed": "关闭", "reopened": "重新打开", "cancelled": "取消",
              "transferred": "转派", "reprioritized": "调整优先级", "escalated": "升级", "edited": "修改",
              "linked": "关联", "countersigned": "服务器会签", "qa_checked": "质检", "stall_check": "停滞询问",
              "stall_answered": "停滞答复", "confirmed": "客户确认", "attached": "附加证据",
              "approval_requested": "申请审批", "approved": "审批通过", "rejected": "审批驳回",
              "approval_decided": "审批决定", "confirm_requested": "请求客户确认", "certified": "签发证书",
              # parts and stock (core.stock)
              "reserved": "预留备件", "released": "释放备件", "consumed": "领用备件", "returned": "退回备件",
              "waiting": "等待备件", "wait_ended": "备件到位", "received": "入库", "sent": "调拨发出",
              "arrived": "调拨到货", "counted": "盘点", "part_added": "新增备件", "place_added": "新增库位",
              # the knowledge base's history
              "added": "新增", "published": "发布", "unpublished": "取消发布", "retired": "停用"},
    "role": {"technician": "技术员", "dispatcher": "调度员", "supervisor": "主管", "admin": "管理员",
             "intake": "接入源", "customer": "客户", "server": "服务器"},
    "sla": {"ok": "正常", "at_risk": "有风险", "breached": "已超时", "paused": "已暂停", "done": "已完成",
            "met": "达标", "missed": "未达标"},
    "confirm": {"in_person": "当面", "qr": "扫码"},
    "device": {"this device": "本设备", "server": "服务器"},
    # what ``sweep`` escalates for (``core.sweep.RULES``)
    "rule": {"silent": "无人响应", "response_breached": "响应超时", "response_at_risk": "响应将超时",
             "resolve_breached": "解决超时", "resolve_at_risk": "解决将超时", "stall": "停滞询问",
             "blocked_too_long": "挂起过久", "collab_deadline": "协作到期", "approval_reminder": "审批提醒",
             "approval_overdue": "审批逾期", "batch": "批量故障"},
    "policy": {"least_loaded": "负载最低优先", "round_robin": "轮流派单", "skills_first": "技能优先"},
    "article": {"draft": "草稿", "active": "有效", "published": "已发布", "retired": "已停用"},
    # what a refusal says the user tried (``cannot start KQT-1: it is closed``)
    "action": {"assign": "指派", "start": "开始处理", "block": "挂起", "unblock": "解除挂起", "resolve": "解决",
               "close": "关闭", "reopen": "重新打开", "cancel": "取消", "why": "答复停滞询问"},
    # a block's fields and other payload fields where a timeline or a page names them
    "field": {"note": "备注", "collaborator": "协作方", "deliverable": "交付物", "deadline": "截止时间",
              "expected_result": "预期结果", "dept": "部门", "product": "产品", "fault": "故障类型", "channel": "渠道",
              "zone": "区域", "cert_id": "证书编号", "key_id": "密钥编号", "signature": "签名",
              "content_hash": "内容摘要", "payload": "签署内容", "evidence": "证据", "item": "检查项"},
}


class HasLabels(Protocol):
    """What of the config this module reads (``core.config.Config``)."""

    @property
    def labels(self) -> Mapping[str, object]: ...


def _team(cfg: HasLabels | None, kind: str, value: str, lang: str) -> str:
    if cfg is None:
        return ""
    entry = cfg.labels.get(f"{kind}.{value}")
    return str(getattr(entry, lang, "") or "") if entry is not None else ""


def label(kind: str, value: str | None, cfg: HasLabels | None = None, lang: str | None = None) -> str:
    """``value`` (of ``kind``) as a person reading ``lang`` (default: the
    current language) reads it: the team's label, else the built-in one, else
    the value itself ('' for None)."""
    if not value:
        return ""
    lang = lang or current()
    own = _team(cfg, kind, value, lang)
    if own:
        return own
    if lang == "zh_CN":
        return ZH.get(kind, {}).get(value, value)
    return value


def event_label(type_: str, cfg: HasLabels | None = None, lang: str | None = None) -> str:
    """An event's kind (``ticket.started``, ``kb.published``) as a timeline shows it."""
    return label("event", type_.rpartition(".")[2], cfg, lang)


def value_of(kind: str, text: str, known: tuple[str, ...] | list[str], cfg: HasLabels | None = None) -> str:
    """The identifier a person meant by ``text``: the identifier itself, or a
    label of one of ``known`` in any language (English case-insensitively).
    ``text`` unchanged when nothing matches, for the caller's own "not one of"
    message."""
    t = text.strip()
    if t in known:
        return t
    folded = t.casefold()
    for v in known:
        for lang in ("zh_CN", "en"):
            lab = label(kind, v, cfg, lang)
            if lab and (lab == t or lab.casefold() == folded):
                return v
    return text


def _for_messages(kind: str, value: str, lang: str, team: object) -> str:
    return label(kind, value, cast("HasLabels | None", team), lang)


# messages label their placeholders' identifiers too (ticketctl.i18n.LABELLED), with these labels
set_labeller(_for_messages)


class Label(Message):
    """A value inside a :class:`~ticketctl.core.message.Message`: the identifier
    in English (events, ``--json``), its :func:`label` where the message is
    rendered for a person (``signed by {signer}`` with ``Label("device", "this device")``)."""

    __slots__ = ()

    def __new__(cls, kind: str, value: str) -> Label:
        self = super().__new__(cls, "{value}", {"kind": kind, "value": value}, english=value)
        assert isinstance(self, Label)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Label, (self.args["kind"], self.args["value"]))

    def translated(self, labelled: bool = False) -> str:
        return label(self.args["kind"], self.args["value"])
