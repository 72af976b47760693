"""Every surface a person reads, rendered over one store whose own data is
Chinese, in one language: the help of every command, the human output of the
commands (those that build the store and every read command), the dashboard's
screens (Textual Pilot), the customer's pages (a real server process; the pages
read from its database) and the certificate's page text.

:func:`render_all` returns ``{surface: [(what, text), ...]}`` and the data
strings (exempt in any language); ``tests/test_no_english.py`` reads them with
``tests/english_finder.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync_helpers import Server

from ticketctl import i18n
from ticketctl.cli import main
from ticketctl.core import certificate
from ticketctl.services import cert_pdf
from ticketctl.services.env import Env

NOW = "2026-03-02T09:00:00Z"  # a Monday
FRIDAY = "2026-02-27T09:00:00Z"
TECH, TECH2, DEVICE = "王小明", "李娜", "调度台"
#: the store's own data: exempt in both languages
DATA = {
    "techs": [TECH, TECH2, DEVICE], "skills": ["空调", "电气", "网络"], "zones": ["北区", "南区"],
    "depts": ["后勤保障部", "信息中心", "售后服务部"], "products": ["格力空调", "华为路由器", "门禁闸机", "消防水泵"],
    "faults": ["不制冷", "断网", "无法开门", "漏水", "异响"],
    "customers": ["张伟", "刘芳", "陈静", "杨洋", "赵磊", "黄丽", "周杰", "吴敏"],
    "phones": ["13800138000"],
    "parts": ["GREE-RELAY-01", "压缩机继电器", "总仓", "北区门店", "王小明的车", "个"],
    "titles": ["机房空调不制冷", "三楼会议室断网", "东门闸机无法开门", "地下室水泵漏水", "五楼空调异响",
               "财务室打印机卡纸", "仓库门禁断电", "二楼空调不制冷", "前台网络时断时续"],
    "notes": ["已联系厂家，等待回复", "等待压缩机继电器到货", "客户出差，下周一再上门", "需要财务审批备件采购",
              "需信息中心配合调整交换机", "更换了压缩机继电器，制冷恢复", "制冷恢复正常，师傅很专业", "更换进水阀垫圈，试压正常",
              "垫圈老化", "进水阀垫圈老化导致漏水", "更换垫圈后试压", "漏水,水泵", "交换机端口配置", "调整端口配置并测试",
              "设备厂家技术支持", "新的端口配置", "地下室水泵不再漏水", "已上门检查",
              # typed into the customer's pages (tests/web_capture.py)
              "打印机卡纸", "财务室的打印机一直卡纸", "通用设备", "不是电话", "修好了，谢谢师傅", "修好了，谢谢师傅，服务很周到", "电梯"],
}


@dataclass
class Surfaces:
    """What one language's run showed: ``{surface: [(what, text)]}``."""
    lang: str
    shown: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)

    def add(self, surface: str, what: str, text: str) -> None:
        self.shown.setdefault(surface, []).append((what, text))


class Desk:
    """``ticketctl`` in this process (``cli.main``), one fresh Env per call, output captured."""

    def __init__(self, home: Path, lang: str, surfaces: Surfaces):
        self.home, self.lang, self.surfaces = home, lang, surfaces
        self.environ = {"TICKETCTL_HOME": str(home), "TICKETCTL_LANG": lang, "TICKETCTL_USER": TECH,
                        "COLUMNS": "120"}

    def env(self, now: str = NOW, user: str = TECH) -> Env:
        """An invocation at ``now`` ("": the real clock, which the server's pages keep too)."""
        return Env.from_environ({**self.environ, "TICKETCTL_USER": user, **({"TICKETCTL_NOW": now} if now else {})})

    def __call__(self, *argv: str, now: str = NOW, user: str = TECH, surface: str | None = "cli:build",
                 ok: bool = True) -> str:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv), env=self.env(now, user))
        text = out.getvalue() + err.getvalue()
        assert not ok or code == 0, (argv, code, text)
        assert "Traceback" not in text and "internal error" not in text, (argv, text)
        if surface:
            self.surfaces.add(surface, "ticketctl " + " ".join(argv), text)
        return out.getvalue().strip()


def build(desk: Desk, server: Server, tmp: Path) -> dict[str, str]:
    """The Chinese team's store (synced with ``server``): returns the keys by role."""
    d = desk
    d("sync", "setup", server.url, "--token", server.token(DEVICE, "admin"))
    d("tech", "add", TECH, "--skills", "空调,电气", "--zone", "北区", "--capacity", "8", "--dept", "售后服务部")
    d("tech", "add", TECH2, "--skills", "网络", "--zone", "南区", "--capacity", "4", "--dept", "信息中心")
    t = DATA["titles"]

    def new(title: str, dept: str, product: str, fault: str, customer: str, priority: str = "medium",
            now: str = FRIDAY, **more: str) -> str:
        extra = [a for k, v in more.items() for a in (f"--{k}", v)]
        return d("new", title, "--type", "repair", "--dept", dept, "--product", product, "--fault", fault,
                 "--customer", customer, "--priority", priority, "--zone", "北区", *extra, now=now)

    keys: dict[str, str] = {}
    keys["urgent"] = new(t[0], "后勤保障部", "格力空调", "不制冷", "张伟", "urgent", impact="system", skills="空调",
                         phone="13800138000")
    d("assign", keys["urgent"], TECH, now=FRIDAY)
    d("start", keys["urgent"], now=FRIDAY)
    d("note", keys["urgent"], "已上门检查", now=FRIDAY)
    for name, title, reason, note in (("customer", t[1], "awaiting_customer", "客户出差，下周一再上门"),
                                      ("parts", t[2], "awaiting_parts", "等待压缩机继电器到货"),
                                      ("third", t[3], "awaiting_third_party", "已联系厂家，等待回复"),
                                      ("approval", t[4], "awaiting_approval", "需要财务审批备件采购"),
                                      ("collab", t[5], "awaiting_collaboration", "需信息中心配合调整交换机")):
        keys[name] = new(title, "信息中心", "华为路由器", "断网", "刘芳", "high")
        d("assign", keys[name], TECH, now=FRIDAY)
        d("start", keys[name], now=FRIDAY)
        more = (["--collaborator", "信息中心", "--deliverable", "新的端口配置", "--deadline", "2026-03-05T17:00",
                 "--expect", "交换机端口配置"] if reason == "awaiting_collaboration" else [])
        d("block", keys[name], "--reason", reason, "--note", note, *more, now="2026-02-27T10:00:00Z")
    keys["new"] = new(t[8], "信息中心", "华为路由器", "断网", "陈静", "low", now=NOW)
    for name, title in (("resolved", t[6]), ("closed", t[7])):
        keys[name] = new(title, "后勤保障部", "消防水泵", "漏水", "杨洋", "medium", skills="空调")
        d("assign", keys[name], TECH, now=FRIDAY)
        d("start", keys[name], now=FRIDAY)
        d("resolve", keys[name], "--note", "更换进水阀垫圈，试压正常", now="2026-02-27T11:00:00Z")
        d("confirm", keys[name], "--rating", "5", "--rating", "4", "--rating", "5", "--comment", "制冷恢复正常，师傅很专业",
          "--by", "杨洋", now="2026-02-27T11:30:00Z")
    d("close", keys["closed"], "--check", "function_test", "--check", "safety_reset", "--check", "parts_recorded",
      now="2026-02-27T12:00:00Z")
    keys["qr"] = new("地下室水泵漏水", "后勤保障部", "消防水泵", "漏水", "赵磊", now=FRIDAY)
    d("assign", keys["qr"], TECH, now=FRIDAY)
    d("start", keys["qr"], now=FRIDAY)
    d("resolve", keys["qr"], now=FRIDAY)
    shown = d("confirm", keys["qr"], "--qr", "--url", server.url, now="")  # the link's clock is the server's
    link = re.search(r"\S+/c/\S+", shown)
    assert link, shown
    keys["qr_url"] = link.group(0)
    article = ("kb", "add", keys["closed"], "--title", "地下室水泵不再漏水", "--cause", "进水阀垫圈老化导致漏水",
               "--step", "更换垫圈后试压", "--tags", "漏水,水泵", "--problem", "地下室水泵漏水",
               "--solution", "更换进水阀垫圈，试压正常")
    d(*article)
    keys["kb"] = json.loads(d("kb", "list", "--json", surface=None))[0]["id"]
    d("kb", "publish", keys["kb"])
    pdf = tmp / f"cert-{desk.lang}.pdf"
    d("cert", "issue", keys["closed"], "-o", str(pdf), "--url", server.url)
    keys["pdf"] = str(pdf)
    embedded = cert_pdf.read_embedded(pdf.read_bytes())
    assert embedded is not None
    keys["cert_id"] = certificate.decode_payload(certificate.extract_payload(embedded[0])).cert_id
    d("sync", ok=False)
    parts(Desk(tmp / f"home-{desk.lang}-parts", desk.lang, desk.surfaces))
    return keys


def parts(p: Desk) -> None:
    """Parts and stock on a store of their own that does not sync (the team's
    server keeps no stock yet: it would refuse every change)."""
    p("tech", "add", TECH, "--zone", "北区")
    p("part", "add", "GREE-RELAY-01", "--name", "压缩机继电器", "--unit", "个")
    p("stock", "place", "add", "总仓", "--kind", "warehouse", "--zone", "南区")
    p("stock", "place", "add", "北区门店", "--kind", "store", "--zone", "北区")
    p("stock", "place", "add", "王小明的车", "--kind", "van", "--owner", TECH, "--zone", "北区")
    key = p("new", "空调不制冷", "--type", "repair", "--dept", "后勤保障部", "--product", "格力空调", "--zone", "北区")
    p("assign", key, TECH)
    p("part", "need", key, "GREE-RELAY-01", "1")
    p("stock", "receive", "GREE-RELAY-01", "3", "--at", "总仓")
    tr = p("stock", "transfer", "GREE-RELAY-01", "1", "--from", "总仓", "--to", "王小明的车")
    p.surfaces.data.append(tr)
    p("stock", "arrived", tr)
    p("part", "use", key, "GREE-RELAY-01", "1")
    p("stock", "count", "GREE-RELAY-01", "1", "--at", "总仓", "--reason", "月度盘点")
    p("show", key, surface="cli:show")
    for argv in (("stock", "list"), ("part", "list"), ("stock", "place", "list")):
        p(*argv, surface="cli:" + " ".join(argv[:2]))


READS: tuple[tuple[str, ...], ...] = (
    ("list",), ("list", "--all"), ("list", "--status", "blocked"), ("mine",), ("tech", "list"),
    ("kb", "list"), ("kb", "search", "漏水"), ("approval", "list"), ("config", "show"), ("locate",),
    ("store", "check"), ("dispatch", "auto", "--dry-run"), ("report", "brief"), ("report", "heatmap"),
    ("report", "kpi"), ("report", "kpi", "--by", "dept"), ("report", "kpi", "--by", "assignee"), ("report", "aging"),
    ("report", "blocked"), ("report", "dwell"),
    ("report", "trend", "--days", "7"), ("report", "brief", "--md"), ("notify", "list"), ("sync", "status"),
    ("sweep", "--dry-run"),
)


def reads(desk: Desk, keys: dict[str, str], tmp: Path) -> None:
    """The human output of every read command (and a few refusals), one surface per command."""
    def surface(argv: tuple[str, ...]) -> str:
        return "cli:" + " ".join(a for a in argv[:2] if not a.startswith("-") and a.isascii())

    for argv in READS:
        desk(*argv, surface=surface(argv), ok=False)
    for name in ("urgent", "customer", "collab", "closed", "resolved", "qr"):
        desk("show", keys[name], surface="cli:show")
    desk("similar", keys["urgent"], surface="cli:similar", ok=False)
    desk("assign", keys["new"], "--explain", surface="cli:assign --explain", ok=False)
    desk("kb", "show", keys["kb"], surface="cli:kb show")
    desk("report", "daily", "--xlsx", str(tmp / f"daily-{desk.lang}.xlsx"), surface="cli:report daily", ok=False)
    desk("report", "qa", "--rate", "1", "--seed", "1", surface="cli:report qa", ok=False)
    desk("cert", "verify", keys["pdf"], surface="cli:cert verify", ok=False)
    # refusals a person meets in a day's work
    desk("start", keys["closed"], surface="cli:refusals", ok=False)
    desk("close", keys["resolved"], surface="cli:refusals", ok=False)
    desk("block", keys["urgent"], "--reason", "no_such_reason", surface="cli:refusals", ok=False)
    desk("show", "ZZZ-999", surface="cli:refusals", ok=False)


def helps(desk: Desk) -> None:
    """``--help`` of every command, one surface per top-level command (its subcommands in it)."""
    import typer

    from ticketctl.cli import build_app

    desk("--help", surface="help:ticketctl", ok=False)
    tree = typer.main.get_group(build_app())

    def walk(cmd: Any, path: list[str], top: str) -> None:
        desk(*path, "--help", surface=f"help:{top}", ok=False)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name], top)

    for name, cmd in tree.commands.items():
        walk(cmd, [name], name)


def typed_words() -> tuple[frozenset[str], frozenset[str]]:
    """(the words a user types per the command tree: command names, choices, metavars, and the
    identifiers of :mod:`ticketctl.core.labels`; the config's sections, which start its keys)."""
    import click
    import typer

    from ticketctl.cli import build_app
    from ticketctl.core import intake, labels
    from ticketctl.core.config.reference import field_docs
    from ticketctl.core.model import Ticket

    words: set[str] = set()
    tree = typer.main.get_group(build_app())
    ctx = click.Context(tree)
    for cmd in i18n.walk_commands(tree):
        words.add(str(getattr(cmd, "name", "")))
        for p in getattr(cmd, "params", ()):
            if isinstance(p.type, click.Choice):
                words.update(str(c) for c in p.type.choices)
            words.update(w for w in re.findall(r"[A-Za-z_]+", p.make_metavar(ctx) if _takes_ctx(p) else p.make_metavar())
                         if w.isupper())
    for table in labels.ZH.values():
        words.update(k for k in table if " " not in k)
    words.update(("true", "false"))  # TOML values (config set)
    words.update(f.name for f in dataclasses.fields(Ticket))  # --map title=..., dept:X, --by dept,product
    words.update(intake.KINDS)  # server add-source --kind
    words.update(k for k, _d, _doc in field_docs() if "." not in k)  # config set me
    keys = {k.split(".")[0] for k, _d, _doc in field_docs() if "." in k}  # the config's sections
    return frozenset(words), frozenset(keys)


def _takes_ctx(p: Any) -> bool:
    import inspect

    return "ctx" in inspect.signature(p.make_metavar).parameters


def render_all(tmp: Path, lang: str) -> Surfaces:
    from tui_capture import screens
    from web_capture import certificate_text, pages

    s = Surfaces(lang, data=[w for ws in DATA.values() for w in ws])
    server = Server(tmp / f"server-{lang}").start()
    try:
        desk = Desk(tmp / f"home-{lang}", lang, s)
        keys = build(desk, server, tmp)
        s.data += [keys["kb"], keys["qr_url"], keys["cert_id"]]  # made by ticketctl, but names, not words
        reads(desk, keys, tmp)
        helps(desk)
        for name, text in screens(desk, keys):
            s.add(f"tui:{name}", name, text)
        for name, text in pages(server, desk, keys, lang):
            s.add(f"web:{name}", name, text)
        s.add("cert:page", keys["pdf"], certificate_text(Path(keys["pdf"])))
    finally:
        server.kill()
        i18n.use("en")
    return s
