"""Knowledge-base benchmark: search, indexing during an import, similar tickets (run by hand, not in CI).

    python bench/kb.py [--quick] [--runs N] [--import-runs N] [--only search|import|similar] [--installed] [--json]

Budgets (issue "Knowledge base from resolved work"), each printed figure by figure:

1. search. A store of 100,000 resolved or closed tickets and 10,000 articles, built in its
   own temporary TICKETCTL_HOME (once per run): the tickets are written as events and
   projections in one transaction through the store's own functions (``workflow.fold``,
   ``Store.put_events/put_tickets/put_spans``, as ``services.demo`` does); each one is
   created, assigned, started, resolved with a note (``ticket.resolved`` {"note": ...})
   and mostly closed; then 12 open tickets (created, some assigned or started) written the
   same way, of the same text, for ``show`` of an open ticket. Their titles, descriptions
   and resolution notes are field-service text (HVAC, plumbing, electrical, IT, lifts,
   kitchens, access control, fleet) in English (55%), Chinese (35%) and Chinese mixed with
   English brands, models and terms (10%), phrases and faults drawn Zipf-like so that a few
   words are common and many are rare (asset tags, readings, serial numbers add the long
   tail). The 10,000 articles go through ``services.kb.add_as`` (``KB-BEN-<n>``) in one transaction. Then
   ``kb.catch_up`` indexes the 110,000 documents (its time is printed, with the store's
   size and the index's share of it).
   * in process: ``kb.search(env, query, 10)``, 2 warm-ups then --runs timed calls per
     query; median per query and over all the calls; budget <= 50 ms.
   * whole command: ``ticketctl kb search QUERY --json`` as a process (``bench/cli.py``'s
     timing: 2 warm-ups, --runs timed runs, median and p90); budget <= 300 ms, the
     technician-command budget. Its result ids are checked against the in-process ones.
   Queries: an English word; the English word in the most documents (found in ``kb_vocab``
   once the store is built, stopwords and words under three letters left out; its document
   count printed: a word in more than ``kbindex.MAX_SCORED`` documents ranks only the most
   recent of them); a two-character Chinese word, Chinese with English, a misspelled English
   word (the typo-correction path), a multi-word English query, and a multi-word query whose
   words no document holds together (``leak 跳闸 printer``: the "any word" fallback; how many
   results had every word is printed), and the longest query accepted (``kbtext.QUERY_MAX_TERMS``:
   16 misspelled words, each corrected then scored: the worst case a query can cost).
   * technician commands on the same store, whole process (same timing and copy; the read
     commands' warm-ups and timed runs alternate, then ``new``'s): ``ticketctl show KEY
     --json`` (which lists the three most similar documents) and ``ticketctl similar KEY
     --json``, each for a seeded random resolved ticket and a seeded random open one, budget
     <= 300 ms; ``ticketctl new TITLE --type repair --dept facilities --product hvac --fault
     no-cooling`` with human output (so it looks up ``kb.strong_match`` and names it on
     stderr; the line is printed, and said when absent), TITLE like the store's commonest
     tickets, budget <= 400 ms (each run opens a ticket). For reference, ``show`` of the same
     resolved ticket on a copy of the store whose index is emptied (``DELETE FROM kb_docs``,
     ``kb_fts`` dropped and made again empty: no similar documents), alternating with the
     others: the difference is what listing similar documents costs ``show``.
2. import. ``ticketctl import servicenow FILE --json`` of the 101k-row ServiceNow dev
   slice (``../shared/data/servicenow_incident_event_log/``; skipped, saying so, when
   ../shared is absent), whole process, into a fresh store each run: (a) as is (the
   import indexes its resolved tickets at its end; its JSON's "indexed" is checked > 0)
   and (b) into a store whose knowledge-base triggers (every ``kb_%`` trigger) were
   dropped first, so nothing is listed nor indexed ("indexed" checked == 0). Both stores
   are created beforehand the same way (``Store(path)``, untimed), so only the import is
   timed. Runs alternate a, b, a, b; --import-runs of each (default 3). Added =
   (median a - median b) / median b; budget <= 20%.
3. similar. On the store of the first (a) import: a seeded random sample of 500
   resolved/closed tickets with a non-empty fault (ServiceNow's subcategory), each
   ``kb.similar(env, key, 5)``. Printed: (i) the share of top results sharing the
   ticket's fault, over the most that could (per ticket min(5, the OTHER resolved/closed
   tickets of that fault, counted with SQL on the tickets table)); (ii) the share of
   tickets whose first result shares the fault (of those with another ticket of their
   fault); (iii) the median similar() time. No budget was stated: figures only.

What is measured: the installed ticketctl, through a non-editable byte-compiled copy when
the installed one is editable (``bench/cli.py``'s machinery, reused by loading that file;
``--installed`` measures the installed script as is). PYTHONDONTWRITEBYTECODE and the
TICKETCTL_* variables are dropped for the timed processes. The stores are built and the
in-process figures taken with this interpreter's ticketctl (the source tree the copy is
made from).

--quick: 20,000 tickets + 2,000 articles, 5 runs, 1 import run of each, 200 similar tickets:
a smoke run whose figures are NOT the budget figures. Progress goes to stderr, the report
(or JSON with --json) to stdout; the exit code is 0 even when a budget is missed, 1 only
if a command fails.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ticketctl.core import kbtext, workflow
from ticketctl.core.model import OPEN_STATUSES, Event, Ticket, iso
from ticketctl.services import kb
from ticketctl.services.env import Env
from ticketctl.store import kbindex
from ticketctl.store.db import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget import sibling  # noqa: E402

cli = sibling("cli")
log = cli.log

SEARCH_BUDGET_MS, COMMAND_BUDGET_MS, IMPORT_BUDGET = 50.0, 300.0, 0.20
FULL = {"tickets": 100_000, "articles": 10_000, "runs": 15, "import_runs": 3, "similar": 500}
QUICK = {"tickets": 20_000, "articles": 2_000, "runs": 5, "import_runs": 1, "similar": 200}
QUERIES = [("compressor", "English word"), ("漏水", "Chinese word"), ("HP 打印机", "Chinese + English"),
           ("compresor", "misspelled"), ("water leak under sink", "multi-word English"), ("leak 跳闸 printer", "any-word fallback"),
           # the worst a query may be (kbtext.QUERY_MAX_TERMS): 16 misspelled words, each corrected, then scored
           (" ".join(["compresor", "leek", "sinc", "printr", "thermostatt", "elevater", "kitchn", "freezr", "boilr", "ventilaton",
                      "cabel", "breakr", "motr", "valv", "pumpp", "filtr"]), "longest accepted: 16 misspelled words")]
COMMON_AT = 1  # where the commonest English word of the store (found once it is built) goes among QUERIES
SHOW_BUDGET_MS, NEW_BUDGET_MS = float(cli.BUDGET_MS["show"]), float(cli.BUDGET_MS["new"])
N_OPEN = 12
NEW_TITLE = "AC not cooling in kitchen"  # like the store's commonest tickets, so that a strong match exists
NEW_ARGS = ["--type", "repair", "--dept", "facilities", "--product", "hvac", "--fault", "no-cooling"]
SERVICENOW = (Path(__file__).resolve().parents[2] / "shared" / "data" / "servicenow_incident_event_log"
              / "incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz")
NOW = datetime(2026, 3, 4, 10, 0, 0)
USER = "benchtech"
CHUNK = 5000

# --- the text: field-service work in English and Chinese -------------------------------------------
# (dept, product, fault, asset tag prefix, brands,
#  English (titles, symptoms, causes, fixes), Chinese (titles, symptoms, causes, fixes)); most common first
CASES: list[tuple[str, str, str, str, tuple[str, ...], tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]] = [
    ("facilities", "hvac", "no-cooling", "RTU", ("Carrier", "Daikin", "Trane", "Gree"), (
        ("AC not cooling in {room}", "Rooftop unit {asset} blowing warm air", "Air conditioning not working in {room}"),
        ("room at {temp} C by midday", "compressor short cycling", "outdoor fan not spinning", "supply air warm at the diffusers"),
        ("low refrigerant charge, leak at the service valve", "failed start capacitor on the compressor",
         "condenser coil clogged with dust", "burnt contactor in the outdoor unit", "thermostat batteries flat"),
        ("replaced start capacitor {uf} uF and checked compressor amps", "brazed the leak, pulled vacuum and recharged {kg} kg R-410A",
         "cleaned the condenser coil with foam cleaner and restored airflow", "replaced the contactor, voltage {volt} V at the terminals",
         "replaced thermostat batteries and recalibrated the sensor")), (
        ("{zroom}空调不制冷", "空调外机不启动", "{zroom}中央空调出风不凉"),
        ("室内温度{temp}度", "压缩机频繁启停", "外机风扇不转", "出风口吹热风"),
        ("冷媒不足，截止阀漏氟", "压缩机启动电容损坏", "冷凝器脏堵", "外机接触器烧坏", "温控器没电"),
        ("更换启动电容{uf}微法，测试压缩机电流正常", "补焊漏点，抽真空后加注冷媒{kg}公斤", "清洗冷凝器，恢复风量",
         "更换接触器，端子电压{volt}伏", "更换温控器电池并校准"))),
    ("plumbing", "pipe", "leak", "WS", ("Grohe", "Kohler", "TOTO", "Moen"), (
        ("Water leak under sink in {room}", "Pipe leaking through the ceiling of {room}", "Toilet running continuously in {room}"),
        ("water pooling on the floor", "ceiling tile stained and dripping", "water meter spinning with all taps closed",
         "damp patch spreading on the wall"),
        ("corroded copper joint under the sink", "worn flapper valve", "cracked PVC fitting behind the panel", "loose compression nut",
         "perished washer in the mixer tap"),
        ("cut out the corroded section and soldered a new coupling", "replaced the flapper and the fill valve",
         "replaced the fitting and pressure tested at {bar} bar for 30 minutes", "tightened the compression nut and replaced the olive",
         "replaced the tap cartridge and washer")), (
        ("{zroom}漏水", "{zroom}天花板漏水", "{zroom}马桶一直流水", "水管爆裂"),
        ("地面积水", "天花板滴水", "墙面渗水发霉", "关掉所有水龙头水表仍在转"),
        ("水管接头锈蚀", "密封圈老化", "角阀损坏", "下水管裂开", "马桶进水阀失灵"),
        ("更换接头并做打压测试{bar}公斤", "更换密封圈，试水无渗漏", "更换角阀", "更换下水管并打胶密封", "更换马桶进水阀"))),
    ("electrical", "panel", "tripped-breaker", "DB", ("Schneider", "ABB", "Siemens", "Chint"), (
        ("Breaker keeps tripping on {room} circuit", "Power outage in {room}", "RCD tripping in distribution board {asset}"),
        ("breaker trips when the kettle and heater run together", "no power to the sockets", "RCD trips at night",
         "burning smell at the panel"),
        ("circuit overloaded by space heaters", "water ingress in an outdoor socket", "faulty RCD, trip test out of range",
         "loose neutral terminal overheating", "damaged cable insulation behind the skirting"),
        ("moved the heaters to a dedicated circuit", "replaced the RCBO {amp} A and tested the trip time",
         "sealed the outdoor socket, dried it and insulation tested", "re-terminated the neutral and torqued all terminals",
         "replaced the damaged cable section")), (
        ("{zroom}跳闸", "配电箱频繁跳闸", "{zroom}停电", "漏电保护器跳闸"),
        ("用电高峰时跳闸", "插座没电", "晚上漏电开关跳闸", "配电箱有焦味"),
        ("线路过载", "室外插座进水", "漏电开关老化", "零线端子松动发热", "电缆绝缘破损"),
        ("更换漏电开关{amp}安并测试动作时间", "重新布线分路", "插座做防水处理，绝缘测试合格", "紧固零线端子", "更换破损电缆"))),
    ("it-hardware", "laptop", "no-boot", "PC", ("Lenovo", "Dell", "HP", "ThinkPad"), (
        ("Laptop won't boot", "PC freezes after login", "Blue screen after the update on {asset}"),
        ("stuck on the logo screen", "freezes every few minutes", "blue screen with stop code {code}", "fan runs but no display"),
        ("failed SSD", "bad RAM module", "corrupted Windows update", "swollen battery", "overheating from a dusty heatsink"),
        ("replaced the SSD and restored the image", "reseated the RAM and ran memtest for two passes",
         "rolled back update KB{n} and paused updates", "replaced the battery", "cleaned the heatsink and replaced thermal paste")), (
        ("电脑死机", "笔记本开不了机", "{asset}蓝屏", "电脑开机黑屏"),
        ("卡在开机画面", "几分钟就死机", "蓝屏错误代码{code}", "风扇转但不显示"),
        ("硬盘损坏", "内存条松动", "系统更新失败", "电池鼓包", "散热器积灰过热"),
        ("更换固态硬盘并重装系统", "重新插拔内存条，测试正常", "回滚系统更新", "更换电池", "清理灰尘，更换硅脂"))),
    ("it-hardware", "printer", "paper-jam", "PRN", ("HP", "Canon", "Brother", "Ricoh"), (
        ("Printer paper jam on tray {n}", "Printer offline in {room}", "Copier prints blank pages"),
        ("paper jams at the fuser", "shows offline on every laptop", "pages come out blank", "grinding noise when feeding"),
        ("worn pickup roller", "printer IP address changed after a power cut", "empty toner cartridge reported as full",
         "torn paper stuck behind the fuser"),
        ("replaced the pickup roller kit", "set a static IP and re-added the print queue", "replaced the toner cartridge",
         "removed the torn paper and cleaned the fuser")), (
        ("打印机卡纸", "{zroom}打印机脱机", "复印机打印空白"),
        ("纸卡在定影器", "所有电脑显示脱机", "打出来是白纸", "进纸有异响"),
        ("搓纸轮磨损", "停电后打印机IP地址变了", "硒鼓没粉", "碎纸卡在定影器后面"),
        ("更换搓纸轮", "重新设置固定IP地址并添加打印机", "更换硒鼓", "取出碎纸并清洁定影器"))),
    ("it-network", "wifi", "connectivity-loss", "AP", ("Cisco", "Aruba", "Ubiquiti", "Huawei"), (
        ("Wifi keeps dropping in {room}", "No network on floor {floor}", "Slow internet in {room}"),
        ("connection drops every few minutes", "no IP address from DHCP", "speed test under 2 Mbps", "access point light blinking amber"),
        ("access point firmware bug", "PoE switch port failed", "DHCP pool exhausted", "damaged patch cable"),
        ("upgraded the AP firmware", "moved the AP to another switch port", "enlarged the DHCP scope", "replaced the patch cable")), (
        ("{zroom}网络断开", "{zroom}无线网络信号差", "{floor}层上不了网"),
        ("几分钟断一次", "获取不到IP地址", "网速很慢", "无线AP指示灯闪黄灯"),
        ("无线AP固件故障", "交换机端口故障", "DHCP地址池用完", "网线损坏"),
        ("升级固件", "更换交换机端口", "扩大DHCP地址池", "更换网线"))),
    ("elevators", "elevator", "stuck", "LIFT", ("Otis", "Kone", "Schindler", "Mitsubishi"), (
        ("Elevator stuck between floors", "Lift door not closing on floor {floor}", "Lift {asset} noisy when moving"),
        ("passenger trapped for 20 minutes", "door reopens again and again", "car stops short of the landing", "squealing in the shaft"),
        ("door light curtain misaligned", "worn door rollers", "faulty landing door lock contact", "dry guide shoes"),
        ("realigned the door light curtain", "replaced the door rollers", "replaced the door lock contact",
         "lubricated the guide rails and shoes")), (
        ("电梯困人", "{floor}层电梯门关不上", "电梯{asset}运行异响"),
        ("乘客被困二十分钟", "电梯门反复开关", "平层不准", "井道有尖叫声"),
        ("光幕偏移", "门滑轮磨损", "厅门门锁触点故障", "导靴缺油"),
        ("调整光幕", "更换门滑轮", "更换门锁触点", "导轨加油润滑"))),
    ("kitchen", "fridge", "not-cold", "WIC", ("True", "Haier", "Midea", "Foster"), (
        ("Walk-in freezer temperature high", "Fridge not cold in {room}", "Ice build-up in freezer {asset}"),
        ("freezer at {temp} C", "food thawing", "thick ice on the evaporator", "door does not seal"),
        ("iced evaporator from a failed defrost timer", "torn door gasket", "condenser fan motor seized", "overcharged refrigerant"),
        ("replaced the defrost timer and ran a manual defrost", "replaced the door gasket", "replaced the condenser fan motor",
         "recovered refrigerant to the nameplate charge")), (
        ("冰箱不制冷", "冷库温度高", "冰柜{asset}结霜严重"),
        ("冷冻温度{temp}度", "食物解冻", "蒸发器结厚冰", "门关不严"),
        ("除霜定时器坏", "门封条破损", "冷凝风机卡死", "冷媒加多了"),
        ("更换除霜定时器并手动化霜", "更换门封条", "更换冷凝风机", "回收冷媒至铭牌充注量"))),
    ("kitchen", "oven", "no-heat", "OVEN", ("Rational", "Electrolux", "Unox", "Hobart"), (
        ("Oven not heating", "Combi oven error {code}", "Dishwasher not draining"),
        ("takes an hour to reach 180 C", "error {code} on the display", "water left in the tank"),
        ("heating element burnt out", "failed thermostat", "blocked drain pump"),
        ("replaced the heating element", "replaced the thermostat and calibrated", "cleared the drain pump")), (
        ("烤箱不加热", "蒸烤箱报错{code}", "洗碗机不排水"),
        ("一小时到不了180度", "显示屏报错{code}", "水箱里有积水"),
        ("发热管烧坏", "温控器损坏", "排水泵堵塞"),
        ("更换发热管", "更换温控器并校准", "清理排水泵"))),
    ("security", "door-lock", "access-denied", "DR", ("HID", "Salto", "Assa Abloy", "ZKTeco"), (
        ("Badge reader not accepting cards at {room}", "Door lock stuck at {room}", "Access control offline"),
        ("reader beeps red for every card", "door will not unlock", "controller shows offline"),
        ("reader offline after a power cut", "dead battery in the lock", "card database out of sync"),
        ("rebooted the controller and re-synced the card database", "replaced the lock batteries", "re-enrolled the cards")), (
        ("{zroom}门禁刷卡无反应", "{zroom}门锁打不开", "门禁系统离线"),
        ("刷卡亮红灯", "门打不开", "控制器显示离线"),
        ("停电后读卡器离线", "门锁电池没电", "卡数据不同步"),
        ("重启控制器并同步卡数据", "更换门锁电池", "重新发卡"))),
    ("fleet", "van", "won't-start", "VAN", ("Ford", "Toyota", "Iveco", "Mercedes"), (
        ("Van {asset} won't start", "Check engine light on van {asset}"),
        ("clicks but does not crank", "warning light after refuelling", "battery light on while driving"),
        ("flat battery", "faulty alternator", "loose fuel cap"),
        ("replaced the battery and tested charging at 14.2 V", "replaced the alternator", "tightened the fuel cap and cleared the code")), (
        ("车辆{asset}无法启动", "{asset}发动机故障灯亮"),
        ("打火只响不转", "加油后故障灯亮", "行驶中电瓶灯亮"),
        ("电瓶亏电", "发电机故障", "油箱盖没拧紧"),
        ("更换电瓶，充电电压14.2伏", "更换发电机", "拧紧油箱盖并清除故障码"))),
]
ROOMS = ("kitchen", "lobby", "server room", "meeting room {n}", "corridor {letter}", "warehouse bay {n}", "car park level {n}",
         "office {floor}{nn}", "room {floor}{nn}", "reception", "staff toilets", "canteen")
ZH_ROOMS = ("会议室", "洗手间", "机房", "办公室", "厨房", "大堂", "走廊", "仓库", "茶水间", "前台", "食堂", "宿舍")
REPORTERS = ("front desk", "the site manager", "a tenant", "night shift", "security", "the head chef", "the store manager",
             "facilities", "the teacher on duty", "the caretaker")
ZH_REPORTERS = ("前台", "物业", "租户", "保安", "厨师长", "店长", "值班人员", "行政", "宿管")
EXTRAS = ("Tested OK.", "Customer confirmed it works.", "Checked the other units on site.",
          "Advised the customer to book preventive maintenance.", "Part ordered for a follow-up visit.", "Left the area clean.",
          "Photos attached.", "Logged the readings in the site book.", "Warranty claim raised with {brand}.",
          "Recommend replacing the unit within six months.", "Serial {serial}.", "Second visit this month.", "Isolated and tagged out.")
ZH_EXTRAS = ("测试正常。", "客户确认已恢复。", "已通知物业。", "建议定期保养。", "配件已下单，下次上门更换。", "现场已清理。",
             "已拍照留档。", "保修期内，已联系{brand}厂家。", "序列号{serial}。", "本月第二次报修。")


# the long tail real tickets have: sites, models, parts, and what else the technician noticed
_SITE_A = ("Ash", "Bel", "Cor", "Dal", "Elm", "Fair", "Glen", "Haw", "Ivy", "Kings", "Lin", "Mar", "Nor", "Oak", "Pen", "Quin", "Ros",
           "Sil", "Thorn", "Wil", "Brad", "Carl", "Dun", "Ever", "Fox", "Gold", "Hart", "Lang", "Mill", "Red", "Stan", "West")
_SITE_B = ("brook", "field", "gate", "hill", "ford", "mead", "ton", "wood", "view", "well", "bury", "crest", "dale", "haven", "side",
           "park", "stone", "worth")
_SITE_KIND = ("House", "Tower", "Campus", "Plaza", "Centre", "Depot", "School", "Hotel", "Clinic", "Mall", "Court", "Works")
_ZH_A = "华东新金阳光明天海龙安康盛福泰和兴富嘉瑞锦江山城中南北西宝丰恒信达益美佳丽鑫顺荣"
_ZH_KIND = ("大厦", "花园", "广场", "中心", "小区", "酒店", "医院", "学校", "商场", "工业园", "公寓", "写字楼")
SITES = [f"{a}{b} {k}" for a in _SITE_A for b in _SITE_B for k in _SITE_KIND[:3]]
ZH_SITES = [f"{a}{b}{k}" for a in _ZH_A for b in _ZH_A if a != b for k in _ZH_KIND[:2]]
_MODEL_RNG = random.Random(7)
MODELS = [f"{''.join(_MODEL_RNG.choices('ABCDEFGHJKLMNPRSTVWXZ', k=_MODEL_RNG.choice((2, 3))))}{_MODEL_RNG.randint(10, 9999)}"
          for _ in range(4000)]
for _pool in (SITES, ZH_SITES):
    random.Random(3).shuffle(_pool)
COMPONENTS = ("filter", "belt", "bearing", "gasket", "hinge", "valve", "sensor", "cable", "fuse", "relay", "damper", "drain pan",
              "isolator", "trunking", "conduit", "ceiling grille", "fan guard", "pressure switch", "float switch", "expansion valve",
              "mounting bracket", "cable gland", "door closer", "downpipe", "gutter", "junction box", "control board", "display panel",
              "condensate pump", "strainer", "check valve", "terminal block", "earth bond", "hose clamp", "drive pulley", "spring")
CONDITIONS = ("worn", "loose", "corroded", "cracked", "dirty", "noisy", "missing", "scorched", "bent", "seized", "leaking", "damp",
              "rusty", "undersized", "unlabelled", "brittle", "frayed", "clogged", "misaligned", "overdue for service")
ZH_COMPONENTS = ("过滤网", "皮带", "轴承", "密封条", "合页", "阀门", "传感器", "电缆", "保险丝", "继电器", "风阀", "接水盘", "线槽",
                 "风口", "压力开关", "浮球开关", "膨胀阀", "支架", "闭门器", "落水管", "接线盒", "控制板", "显示屏", "排水泵", "过滤器")
ZH_CONDITIONS = ("磨损", "松动", "锈蚀", "开裂", "太脏", "有异响", "缺失", "烧焦", "变形", "卡死", "渗漏", "受潮", "老化", "堵塞")


@functools.cache
def zipf_cum(n: int, s: float = 1.0) -> list[float]:
    out, total = [], 0.0
    for i in range(n):
        total += 1 / (i + 1) ** s
        out.append(total)
    return out


def pick(rng: random.Random, items: tuple[str, ...] | list[Any]) -> Any:
    """One of ``items``, the first ones much more often (Zipf, s = 1)."""
    return rng.choices(items, cum_weights=zipf_cum(len(items)))[0]


def upper1(text: str) -> str:
    return text[:1].upper() + text[1:]


class Text:
    """Titles, descriptions, resolution notes and articles, in English, Chinese or both."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.case_cum = zipf_cum(len(CASES), 0.7)

    def case(self) -> tuple[Any, ...]:
        return self.rng.choices(CASES, cum_weights=self.case_cum)[0]

    def fill(self, text: str, c: tuple[Any, ...]) -> str:
        r = self.rng
        vals = {"floor": r.randint(1, 12), "nn": r.randint(1, 40), "n": r.randint(1, 9), "letter": r.choice("ABCDEF"),
                "asset": f"{c[3]}-{r.randint(1, 60)}", "temp": r.randint(26, 38) if c[2] != "not-cold" else r.randint(-8, 9),
                "uf": r.choice((35, 40, 45, 50)), "kg": round(r.uniform(0.4, 3.5), 1), "volt": r.choice((220, 230, 380, 400)),
                "amp": r.choice((16, 20, 32, 40)), "bar": r.choice((6, 8, 10)), "code": r.choice(("E4", "F03", "E34", "0x7B", "E15")),
                "brand": pick(r, c[4]), "serial": f"SN{r.randint(100000, 999999)}"}
        if "{room}" in text:
            vals["room"] = pick(r, ROOMS).format(**vals)
        if "{zroom}" in text:
            vals["zroom"] = f"{r.randint(1, 9)}号楼{vals['floor']}层{pick(r, ZH_ROOMS)}"
        return text.format(**vals)

    def ticket(self) -> dict[str, str]:
        r, c = self.rng, self.case()
        lang = r.choices(("en", "zh", "mixed"), (55, 35, 10))[0]
        titles, symptoms, causes, fixes = c[5] if lang == "en" else c[6]
        f = self.fill
        syms = list(dict.fromkeys(pick(r, symptoms) for _ in range(r.randint(1, 3))))
        k = causes.index(pick(r, causes))  # a cause, and mostly its own fix
        cause, fix = causes[k], fixes[k] if k < len(fixes) and r.random() < 0.8 else pick(r, fixes)
        if lang == "en":
            desc = f"Reported by {pick(r, REPORTERS)}: " + " ".join(upper1(f(s, c)) + "." for s in syms)
            note = f"{upper1(f(cause, c))}; {f(fix, c)}. " + " ".join(f(pick(r, EXTRAS), c) for _ in range(r.randint(0, 2)))
        else:
            desc = f"{pick(r, ZH_REPORTERS)}反映：" + "，".join(f(s, c) for s in syms) + "。"
            note = f"{f(cause, c)}，{f(fix, c)}。" + "".join(f(pick(r, ZH_EXTRAS), c) for _ in range(r.randint(0, 2)))
        if lang == "en":
            if r.random() < 0.7:
                desc += f" Site: {pick(r, SITES)}, unit {r.randint(1, 400)}."
            if r.random() < 0.5:
                desc += f" {pick(r, c[4])} model {pick(r, MODELS)}."
            if r.random() < 0.3:
                note += f" Also noticed a {pick(r, CONDITIONS)} {pick(r, COMPONENTS)} near the {pick(r, COMPONENTS)}."
            if r.random() < 0.3:
                note += f" Used part P/N {r.randint(1000, 99999)}-{r.randint(1, 99):02d}."
        else:
            if r.random() < 0.7:
                desc += f"地址：{pick(r, ZH_SITES)}{r.randint(1, 30)}栋。"
            if r.random() < 0.5:
                desc += f"型号{pick(r, MODELS)}。"
            if r.random() < 0.3:
                note += f"另外发现{pick(r, ZH_COMPONENTS)}{pick(r, ZH_CONDITIONS)}。"
            if r.random() < 0.3:
                note += f"配件编号{r.randint(1000, 99999)}-{r.randint(1, 99):02d}。"
        title = f(pick(r, titles), c)
        if lang == "mixed":  # Chinese with the brand, model and an English term or two, as technicians write it
            brand = pick(r, c[4])
            title = f"{brand} {title}"
            desc += f" {brand} {c[3]}{r.randint(100, 990)}，{f(pick(r, c[5][1]), c)}"
            note += f" ({f(pick(r, c[5][3]), c)})"
        return {"title": title, "description": desc, "resolution": note.strip(), "dept": c[0], "product": c[1], "fault": c[2]}

    def article(self) -> dict[str, Any]:
        r, c = self.rng, self.case()
        zh = r.random() < 0.4
        titles, symptoms, causes, fixes = c[6] if zh else c[5]
        f = self.fill
        title = f(pick(r, titles), c)
        steps = list(dict.fromkeys(f(pick(r, fixes), c) for _ in range(r.randint(2, 4))))
        return {"title": f"{title}处理方法" if zh else f"How to fix: {title}", "problem": f(pick(r, symptoms), c),
                "cause": f(pick(r, causes), c), "steps": steps, "solution": ("；" if zh else "; ").join(steps),
                "tags": [c[1], c[2]], "product": c[1], "fault": c[2], "dept": c[0]}


# --- part 1: the store, and search ------------------------------------------------------------------

def make_env(home: Path) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_USER": USER})


def build_store(home: Path, n_tickets: int, n_articles: int, seed: int = 1, n_open: int = N_OPEN) -> dict[str, Any]:
    """The search store (see the module doc); returns what it holds and how long each step took."""
    env = make_env(home)
    st, cfg = env.store, env.config
    rng, text = random.Random(seed), Text(random.Random(seed + 1))
    device, seq = st.meta("device_id"), int(st.meta("next_device_seq"))
    prefix, start_no = st.meta("key_prefix"), int(st.meta("next_ticket_no"))
    events: list[Event] = []
    spans: list[tuple[Any, ...]] = []
    tickets: list[Ticket] = []

    def ev(key: str | None, typ: str, at: datetime, actor: str, payload: dict[str, Any]) -> Event:
        nonlocal seq
        e = Event(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), type=typ, at=iso(at), actor=actor, device=device,
                  device_seq=seq, mutation_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), ticket=key, payload=payload)
        seq += 1
        events.append(e)
        return e

    t0 = time.perf_counter()
    team_at = NOW - timedelta(days=400)
    techs = [workflow.apply_tech(None, ev(None, "tech.added", team_at, "dispatch",
                                          {"name": f"tech{i:03d}", "skills": [CASES[i % len(CASES)][1]], "zone": "north",
                                           "dept": CASES[i % len(CASES)][0], "capacity": 1000}), cfg) for i in range(100)]
    with st.transaction():
        st.put_techs(techs)
        for n in range(n_tickets):
            d = text.ticket()
            ttype = rng.choices(("repair", "incident", "install"), (60, 25, 15))[0]
            at = NOW - timedelta(days=365 * rng.random() + 3)
            tech = f"tech{rng.randrange(100):03d}"
            done = at + timedelta(hours=rng.uniform(1, 72))
            fields = {"title": d["title"], "description": d["description"], "type": ttype, "dept": d["dept"], "product": d["product"],
                      "fault": d["fault"], "priority": rng.choice(("urgent", "high", "medium", "medium", "low")), "impact": "user",
                      "channel": rng.choice(("phone", "email", "portal")), "zone": rng.choice(("north", "south", "east", "west")),
                      "skills": [d["product"]], "customer": f"customer-{rng.randrange(1, 5000):04d}"}
            key = f"{prefix}-{start_no + n}"
            steps = [ev(key, "ticket.created", at, "dispatch", fields),
                     ev(key, "ticket.assigned", at + timedelta(minutes=20), "dispatch", {"assignee": tech}),
                     ev(key, "ticket.started", at + timedelta(hours=1), tech, {}),
                     ev(key, "ticket.resolved", done, tech, {"note": d["resolution"]})]
            if rng.random() < 0.6:
                close_at = done + timedelta(hours=rng.uniform(1, 48))
                steps += [ev(key, "ticket.checked", close_at, tech, {"item": i}) for i in cfg.checklist(ttype)]
                steps.append(ev(key, "ticket.closed", close_at, tech, {}))
            t, rows = workflow.fold(None, steps, cfg)
            tickets.append(t)
            spans.extend(rows)
            if len(tickets) >= CHUNK or n == n_tickets - 1:
                st.put_tickets(tickets)
                st.put_events(events)
                st.put_spans(spans)
                tickets = []
                events.clear()
                spans.clear()
                log(f"  tickets: {n + 1:,} of {n_tickets:,}")
        open_text = Text(random.Random(seed + 2))  # its own stream: the resolved tickets and the articles stay as they were
        for n in range(n_open):
            d = open_text.ticket()
            at = NOW - timedelta(hours=rng.uniform(1, 48))
            key = f"{prefix}-{start_no + n_tickets + n}"
            fields = {"title": d["title"], "description": d["description"], "type": "repair", "dept": d["dept"], "product": d["product"],
                      "fault": d["fault"], "priority": "medium", "impact": "user", "channel": "phone", "zone": "north",
                      "skills": [d["product"]], "customer": f"customer-{rng.randrange(1, 5000):04d}"}
            tech = f"tech{rng.randrange(100):03d}"
            steps = [ev(key, "ticket.created", at, "dispatch", fields)]
            if n % 3:
                steps.append(ev(key, "ticket.assigned", at + timedelta(minutes=20), "dispatch", {"assignee": tech}))
            if n % 3 == 2:
                steps.append(ev(key, "ticket.started", at + timedelta(hours=1), tech, {}))
            t, rows = workflow.fold(None, steps, cfg)
            tickets.append(t)
            spans.extend(rows)
        st.put_tickets(tickets)
        st.put_events(events)
        st.put_spans(spans)
        st.set_meta("next_device_seq", str(seq))
        st.set_meta("next_ticket_no", str(start_no + n_tickets + n_open))
    tickets_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with st.transaction():
        for n in range(1, n_articles + 1):
            kb.add_as(env, f"KB-BEN-{n}", text.article(), None)
    articles_s = time.perf_counter() - t0
    log(f"  {n_tickets:,} tickets in {tickets_s:.1f} s, {n_articles:,} articles (kb.add_as) in {articles_s:.1f} s; indexing ...")
    pending = int(st.db.execute("SELECT count(*) FROM kb_dirty").fetchone()[0])
    t0 = time.perf_counter()
    looked_at = kb.catch_up(env)
    index_s = time.perf_counter() - t0
    docs = int(st.db.execute("SELECT count(*) FROM kb_docs").fetchone()[0])
    terms = int(st.db.execute("SELECT count(*) FROM kb_vocab").fetchone()[0])
    st.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store_mb = st.path.stat().st_size / 1e6
    try:
        index_mb = st.db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'kb\\_%' ESCAPE '\\'").fetchone()[0] / 1e6
    except sqlite3.OperationalError:  # SQLite built without dbstat
        index_mb = None
    by_status = dict(st.db.execute("SELECT status, count(*) FROM tickets GROUP BY status").fetchall())
    env.close()
    log(f"  indexed {looked_at:,} documents in {index_s:.1f} s: {docs:,} in the index, {terms:,} distinct terms; store {store_mb:.0f} MB")
    return {"tickets": n_tickets, "articles": n_articles, "open": n_open, "by_status": by_status,
            "tickets_s": tickets_s, "articles_s": articles_s,
            "pending_before_index": pending, "indexed": looked_at, "index_s": index_s, "index_docs": docs, "index_terms": terms,
            "store_mb": store_mb, "index_mb": index_mb}


def commonest_word(env: Env) -> dict[str, Any]:
    """The English word in the most documents (``kb_vocab``; stopwords and words under three letters left out),
    and what its query expects to match (``kbindex.postings`` of the prefix it becomes)."""
    st = env.store
    for term, docs in st.db.execute("SELECT term, doc FROM kb_vocab ORDER BY doc DESC"):
        if term.isascii() and term.isalpha() and len(term) >= 3 and term not in kbtext.STOPWORDS:
            q = kbtext.parse_query(term, *kbindex.vocabulary(st))
            expected = sum(kbindex.postings(st, t) for u in q.units for t in u.tokens)
            return {"word": term, "docs": int(docs), "expr": q.all_of, "expected": expected,
                    "recent_only": kbindex.recent_floor(st, expected) is not None, "max_scored": kbindex.MAX_SCORED}
    sys.exit("bench: no English word in the index")


def bench_search(tc: str, base_env: dict[str, str], root: Path, sizes: dict[str, int], runs: int) -> dict[str, Any]:
    home = root / "kb-store"
    log(f"[search] building {sizes['tickets']:,} resolved tickets + {sizes['articles']:,} articles ...")
    built = build_store(home, sizes["tickets"], sizes["articles"])
    env = make_env(home)
    common = commonest_word(env)
    log(f"[search] commonest English word: {common['word']!r} in {common['docs']:,} documents")
    queries = list(QUERIES)
    queries.insert(COMMON_AT, (common["word"], "commonest word"))
    rows, pooled = [], []
    for q, what in queries:
        for _ in range(cli.WARMUP):
            first = kb.search(env, q, 10)
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            kb.search(env, q, 10)
            ms.append((time.perf_counter() - t0) * 1000)
        pooled += ms
        rows.append({"query": q, "kind": what, "results": len(first["results"]), "all_words": sum(r["all_words"] for r in first["results"]),
                     "words": len(first["words"]), "corrected": first["corrected"], "ids": [r["id"] for r in first["results"]],
                     "in_process": cli.summary(ms)})
        log(f"[search] {q!r}: in process median {statistics.median(ms):.1f} ms, {len(first['results'])} results")
    env.close()
    # whole processes, as bench/cli.py times them, the queries alternating (A B C D E A B ...) so noise hits them alike
    cmd_env = dict(base_env, TICKETCTL_HOME=str(home))
    cmds = [[tc, "kb", "search", *q.split(), "--json"] for q, _what in queries]
    for _ in range(cli.WARMUP):
        for r, cmd in zip(rows, cmds, strict=True):
            got = json.loads(cli.run(cmd, cmd_env)[1])
            r["same_results"] = [x["id"] for x in got["results"]] == r["ids"]
    cmd_ms: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for k, cmd in enumerate(cmds):
            cmd_ms[k].append(cli.run(cmd, cmd_env)[0] * 1000)
    for r, ms in zip(rows, cmd_ms, strict=True):
        r["command"] = cli.summary(ms)
        log(f"[search] ticketctl kb search {r['query']!r} --json: median {r['command']['median_ms']:.1f} ms"
            + ("" if r["same_results"] else " (OTHER results than in process)"))
    commands = bench_commands(tc, base_env, root, home, runs)
    return {"store": built, "common": common, "queries": rows, "runs": runs, "overall_in_process": cli.summary(pooled),
            "overall_command": cli.summary([x for ms in cmd_ms for x in ms]), "commands": commands}


# --- part 1, continued: the technician commands the knowledge base now touches ----------------------

def run_both(cmd: list[str], env: dict[str, str]) -> tuple[str, str]:
    """One untimed run; its (stdout, stderr). Exit 1 if it fails."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        log(f"bench: command failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
        sys.exit(1)
    return p.stdout, p.stderr


def pick_keys(home: Path, seed: int = 1) -> dict[str, tuple[str, str]]:
    """A seeded random resolved/closed ticket with a resolution note, and an open one: (key, title) each."""
    env = make_env(home)
    db = env.store.db
    done = db.execute("SELECT key, title FROM tickets WHERE status IN ('resolved', 'closed') AND resolution != '' ORDER BY key").fetchall()
    opened = db.execute(f"SELECT key, title FROM tickets WHERE status IN ({', '.join('?' * len(OPEN_STATUSES))}) ORDER BY key",
                        OPEN_STATUSES).fetchall()
    env.close()
    if not done or not opened:
        sys.exit(f"bench: the store has {len(done)} resolved tickets with a note and {len(opened)} open ones; it needs both")
    rng = random.Random(seed)
    return {"resolved": tuple(rng.choice(done)), "open": tuple(rng.choice(opened))}


def empty_index_copy(home: Path, dest: Path) -> float:
    """A copy of the store whose knowledge-base index holds nothing (kb_fts made again, kb_docs emptied); seconds taken."""
    t0 = time.perf_counter()
    shutil.copytree(home, dest)
    db = sqlite3.connect(dest / "ticketctl.db")
    try:
        db.executescript(f"DELETE FROM kb_docs; DELETE FROM kb_dirty; DROP TABLE kb_vocab; DROP TABLE kb_fts; "
                         f"{kbindex.FTS_DDL}; {kbindex.VOCAB_DDL};")
        left = db.execute("SELECT (SELECT count(*) FROM kb_docs) + (SELECT count(*) FROM kb_fts)").fetchone()[0]
    finally:
        db.close()
    if left:
        sys.exit(f"bench: the emptied index still holds {left} rows")
    return time.perf_counter() - t0


def bench_commands(tc: str, base_env: dict[str, str], root: Path, home: Path, runs: int) -> dict[str, Any]:
    """show and similar of a resolved and an open ticket, show on an emptied index, then new (see the module doc)."""
    keys = pick_keys(home)
    empty = root / "kb-store-empty"
    copy_s = empty_index_copy(home, empty)
    log(f"[commands] resolved {keys['resolved'][0]}, open {keys['open'][0]}; store copied with an empty index in {copy_s:.1f} s")
    env, env_empty = dict(base_env, TICKETCTL_HOME=str(home)), dict(base_env, TICKETCTL_HOME=str(empty))
    jobs: list[dict[str, Any]] = []
    for cmd in ("show", "similar"):
        for which in ("resolved", "open"):
            jobs.append({"cmd": cmd, "ticket": which, "key": keys[which][0], "argv": [tc, cmd, keys[which][0], "--json"], "env": env,
                         "budget_ms": SHOW_BUDGET_MS})
    jobs.append({"cmd": "show", "ticket": "resolved", "key": keys["resolved"][0], "reference": True,
                 "argv": [tc, "show", keys["resolved"][0], "--json"], "env": env_empty, "budget_ms": None})
    for _ in range(cli.WARMUP):
        for j in jobs:
            got = json.loads(run_both(j["argv"], j["env"])[0])
            found = got["similar"] if j["cmd"] == "show" else got
            j["similar"], j["first"] = len(found), found[0]["id"] if found else None
    ms: list[list[float]] = [[] for _ in jobs]
    for _ in range(runs):
        for k, j in enumerate(jobs):
            ms[k].append(cli.run(j["argv"], j["env"])[0] * 1000)
    # new writes (a ticket a run): after the reads, so that they read the store as it was built
    new = {"cmd": "new", "ticket": "human output", "argv": [tc, "new", NEW_TITLE, *NEW_ARGS], "env": env, "budget_ms": NEW_BUDGET_MS}
    for _ in range(cli.WARMUP):
        out, err = run_both(new["argv"], env)
        new["key"], new["hint"] = out.strip(), (err.strip().splitlines() or [""])[-1]
    ms.append([cli.run(new["argv"], env)[0] * 1000 for _ in range(runs)])
    jobs.append(new)
    shutil.rmtree(empty, ignore_errors=True)
    rows = []
    for j, m in zip(jobs, ms, strict=True):
        row = {k: v for k, v in j.items() if k not in ("argv", "env")}
        row.update(command=shlex.join(["ticketctl", *j["argv"][1:]]), **cli.summary(m))
        rows.append(row)
        log(f"[commands] {row['command']}: median {row['median_ms']:.1f} ms")
    return {"keys": keys, "rows": rows, "runs": runs, "copy_s": copy_s, "new_tickets": runs + cli.WARMUP}


# --- part 2: indexing during an import --------------------------------------------------------------

def fresh_store(home: Path, drop_triggers: bool) -> list[str]:
    """Create the store (as any first command would); drop its kb_% triggers if asked. Returns those dropped."""
    Store(home / "ticketctl.db").close()
    dropped = []
    with sqlite3.connect(home / "ticketctl.db") as db:
        if drop_triggers:
            dropped = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kb\\_%' ESCAPE '\\'")]
            for n in dropped:
                db.execute(f'DROP TRIGGER "{n}"')
    return dropped


def import_once(tc: str, base_env: dict[str, str], home: Path, drop: bool) -> tuple[float, dict[str, Any]]:
    dropped = fresh_store(home, drop)
    if drop and not dropped:
        sys.exit("bench: the store has no kb_% triggers to drop")
    secs, out = cli.run([tc, "import", "servicenow", str(SERVICENOW), "--json"], dict(base_env, TICKETCTL_HOME=str(home)))
    res = json.loads(out)
    if (res["indexed"] == 0) != drop:
        sys.exit(f"bench: import {'without' if drop else 'with'} kb triggers indexed {res['indexed']} documents")
    return secs, res


def bench_import(tc: str, base_env: dict[str, str], root: Path, runs: int) -> tuple[dict[str, Any], Path]:
    """Alternating (a) as is and (b) triggers dropped; returns the figures and the home of the first (a) store."""
    secs: dict[str, list[float]] = {"a": [], "b": []}
    res: dict[str, dict[str, Any]] = {}
    keep = root / "import-a-0"
    for r in range(runs):
        for variant in ("a", "b"):
            home = root / f"import-{variant}-{r}"
            s, res[variant] = import_once(tc, base_env, home, variant == "b")
            secs[variant].append(s)
            log(f"[import] run {r + 1} ({variant}) {s:.2f} s, indexed {res[variant]['indexed']:,}")
            if home != keep:
                shutil.rmtree(home, ignore_errors=True)
    a, b = statistics.median(secs["a"]), statistics.median(secs["b"])
    return {"file": str(SERVICENOW), "rows": res["a"]["rows"], "incidents": res["a"]["incidents"], "events": res["a"]["events"],
            "indexed": res["a"]["indexed"], "runs": runs, "a_s": secs["a"], "b_s": secs["b"], "a_median_s": a, "b_median_s": b,
            "added_s": a - b, "added": (a - b) / b, "budget": IMPORT_BUDGET, "met": (a - b) / b <= IMPORT_BUDGET}, keep


# --- part 3: similar tickets ------------------------------------------------------------------------

def bench_similar(home: Path, n: int, seed: int = 1) -> dict[str, Any]:
    env = make_env(home)
    db = env.store.db
    done = "status IN ('resolved', 'closed') AND fault != ''"
    counts = dict(db.execute(f"SELECT fault, count(*) FROM tickets WHERE {done} GROUP BY fault").fetchall())
    pool = db.execute(f"SELECT key, fault FROM tickets WHERE {done} ORDER BY key").fetchall()
    sample = random.Random(seed).sample(pool, min(n, len(pool)))
    for key, _fault in sample[:cli.WARMUP]:
        kb.similar(env, key, 5)
    ms, same, possible, first_same, with_others = [], 0, 0, 0, 0
    for key, fault in sample:
        t0 = time.perf_counter()
        got = kb.similar(env, key, 5)
        ms.append((time.perf_counter() - t0) * 1000)
        cap = min(5, counts[fault] - 1)
        possible += cap
        same += min(cap, sum(r["fault"] == fault for r in got))
        if cap:
            with_others += 1
            first_same += bool(got) and got[0]["fault"] == fault
    env.close()
    return {"sampled": len(sample), "of": len(pool), "faults": len(counts), "seed": seed, "top5_same": same, "top5_possible": possible,
            "top5_share": same / possible if possible else None, "first_same": first_same, "with_others": with_others,
            "first_share": first_same / with_others if with_others else None, "similar_ms": cli.summary(ms)}


# --- the report -------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(out: dict[str, Any]) -> None:
    misses = out["misses"]
    print(f"\nMeasured: {out['measured']['describe']}")
    if out["quick"]:
        print("QUICK RUN (--quick): smaller store, fewer runs; these figures are NOT the budget figures.")
    s = out.get("search")
    if s:
        b = s["store"]
        idx = f", of which the kb index {b['index_mb']:.0f} MB" if b["index_mb"] is not None else ""
        print(f"\n1. kb search over {b['tickets']:,} resolved/closed tickets + {b['articles']:,} articles"
              f", and {b.get('open', 0)} open tickets"
              f" ({', '.join(f'{k} {v:,}' for k, v in sorted(b['by_status'].items()))}; store {b['store_mb']:.0f} MB{idx})")
        print(f"   built: tickets {b['tickets_s']:.1f} s, articles through kb.add_as {b['articles_s']:.1f} s; "
              f"kb.catch_up indexed {b['indexed']:,} documents in {b['index_s']:.1f} s ({b['index_terms']:,} distinct terms)")
        print(f"   in process: kb.search(env, query, 10), {s['runs']} runs after {cli.WARMUP} warm-ups; "
              f"command: ticketctl kb search QUERY --json, {s['runs']} runs after {cli.WARMUP} warm-ups")
        head = (f"   {'query':<22} {'what':<19} {'hits':>4}  {'in-process ms':>13} {'p90':>6} {'budget':>6}  {'verdict':<7}"
                f"  {'command ms':>10} {'p90':>6} {'budget':>6}  verdict")
        print(head + "\n   " + "-" * (len(head) - 3))
        for r in s["queries"]:
            ip, cm = r["in_process"], r["command"]
            note = f"  (corrected: {', '.join(f'{k} -> {v}' for k, v in r['corrected'].items())})" if r["corrected"] else ""
            note += "" if r["same_results"] else "  (the command's results differ from the in-process ones)"
            if r["kind"] == "commonest word":
                c = s["common"]
                note += (f"  (in {c['docs']:,} documents (kb_vocab); query {c['expr']} expects {c['expected']:,}"
                         + (f" > {c['max_scored']:,}: ranks the most recent)" if c["recent_only"] else ")"))
            elif r["words"] > 1 and r["all_words"] < r["results"]:
                note += f"  ({r['all_words']} of {r['results']} with every word; the rest any word)"
            print(f"   {r['query']:<{22 - sum(ord(c) > 0x2e80 for c in r['query'])}} {r['kind']:<19} {r['results']:>4}  "
                  f"{ip['median_ms']:>13.1f} {ip['p90_ms']:>6.1f} {SEARCH_BUDGET_MS:>6.0f}  "
                  f"{verdict(ip['median_ms'] <= SEARCH_BUDGET_MS):<7}"
                  f"  {cm['median_ms']:>10.1f} {cm['p90_ms']:>6.1f} {COMMAND_BUDGET_MS:>6.0f}  "
                  f"{verdict(cm['median_ms'] <= COMMAND_BUDGET_MS)}{note}")
        o, oc = s["overall_in_process"], s["overall_command"]
        print(f"   {'overall (every run)':<42} {'':>4}  {o['median_ms']:>13.1f} {o['p90_ms']:>6.1f} {SEARCH_BUDGET_MS:>6.0f}  "
              f"{verdict(o['median_ms'] <= SEARCH_BUDGET_MS):<7}  {oc['median_ms']:>10.1f} {oc['p90_ms']:>6.1f} "
              f"{COMMAND_BUDGET_MS:>6.0f}  {verdict(oc['median_ms'] <= COMMAND_BUDGET_MS)}")
        if s.get("commands"):
            report_commands(s["commands"])
    if "import" in out:
        i = out["import"]
        print(f"\n2. indexing during `ticketctl import servicenow {Path(SERVICENOW).name} --json`")
        if i is None:
            print(f"   SKIPPED: {SERVICENOW} is absent (../shared not mounted)")
        else:
            print(f"   {i['rows']:,} rows, {i['incidents']:,} incidents, {i['events']:,} events; whole process into a fresh store, "
                  f"{i['runs']} run(s) of each, alternating")
            labels = {"a": f"(a) as is (indexes its {i['indexed']:,} resolved tickets at its end)",
                      "b": "(b) kb triggers dropped first (nothing indexed)"}
            width = max(len(x) for x in labels.values())
            print(f"   {'variant':<{width}}  {'median s':>8}  runs (s)")
            for v, label in labels.items():
                print(f"   {label:<{width}}  {i[v + '_median_s']:>8.2f}  " + ", ".join(f"{x:.2f}" for x in i[v + "_s"]))
            print(f"   added by the knowledge base: {i['added_s']:.2f} s = {i['added']:.1%} of (b)   budget <= {IMPORT_BUDGET:.0%}   "
                  f"{verdict(i['met'])}")
    if "similar" in out:
        m = out["similar"]
        print("\n3. similar tickets on the store of import (a)")
        if m is None:
            print(f"   SKIPPED: {SERVICENOW} is absent (../shared not mounted)")
        else:
            print(f"   kb.similar(env, key, 5) for {m['sampled']} of {m['of']:,} resolved/closed tickets with a fault "
                  f"(random sample, seed {m['seed']}; {m['faults']} faults); no budget stated")
            print(f"   top-5 results sharing the ticket's fault   {m['top5_share']:.1%}  ({m['top5_same']:,} of {m['top5_possible']:,} "
                  "possible: per ticket min(5, other resolved/closed tickets of its fault))")
            print(f"   first result shares the fault              {m['first_share']:.1%}  ({m['first_same']} of {m['with_others']} "
                  "tickets that have another of their fault)")
            print(f"   similar() time                             median {m['similar_ms']['median_ms']:.1f} ms, "
                  f"p90 {m['similar_ms']['p90_ms']:.1f} ms, max {m['similar_ms']['max_ms']:.1f} ms")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    if misses:
        print(f"MISSED {len(misses)} budget(s):")
        for x in misses:
            print(f"  MISSED  {x}")
    else:
        skipped = [k for k in ("search", "import", "similar") if k in out and out[k] is None]
        print(("All budgets measured were met" + f" ({' and '.join(skipped)} skipped)." if skipped else "All budgets met.")
              + (" (quick run: not the budget figures)" if out["quick"] else ""))


def report_commands(c: dict[str, Any]) -> None:
    print(f"\n   technician commands on this store: whole process, {c['runs']} runs after {cli.WARMUP} warm-ups"
          " (the reads alternating, then new)")
    head = f"   {'command':<8} {'ticket':<33} {'median ms':>9} {'p90':>6} {'budget':>6}  {'verdict':<7}  command line"
    print(head + "\n   " + "-" * (len(head) - 3 + 40))
    base = next(r for r in c["rows"] if r["cmd"] == "show" and r["ticket"] == "resolved" and not r.get("reference"))
    for r in c["rows"]:
        if r["budget_ms"] is None:
            budget, ok = "", "-"
            note = f"  ({r['similar']} similar; listing them adds {base['median_ms'] - r['median_ms']:.1f} ms to show's median)"
        else:
            budget, ok = f"{r['budget_ms']:.0f}", verdict(r["median_ms"] <= r["budget_ms"])
            if r["cmd"] == "new":
                note = f"\n   {'':<8} stderr: {r['hint']}" if r["hint"] else "  (NO similar document named on stderr)"
            else:
                note = f"  ({r['similar']} similar" + (f", first {r['first']})" if r["first"] else ")")
        ticket = r["ticket"] if r["cmd"] == "new" else f"{r['ticket']} {r['key']}" + (", index empty" if r.get("reference") else "")
        print(f"   {r['cmd']:<8} {ticket:<33} {r['median_ms']:>9.1f} {r['p90_ms']:>6.1f} {budget:>6}  {ok:<7}  {r['command']}{note}")
    for which, (key, title) in c["keys"].items():
        print(f"   {which} ticket {key}: {title}")
    print(f"   new opened {c['new_tickets']} tickets (warm-ups included); making the empty-index copy took {c['copy_s']:.1f} s (untimed)")


def misses_of(out: dict[str, Any]) -> list[str]:
    got = []
    s = out.get("search")
    if s:
        for r in s["queries"]:
            if r["in_process"]["median_ms"] > SEARCH_BUDGET_MS:
                got.append(f"kb.search {r['query']!r}: median {r['in_process']['median_ms']:.1f} ms > {SEARCH_BUDGET_MS:.0f} ms")
            if r["command"]["median_ms"] > COMMAND_BUDGET_MS:
                got.append(f"ticketctl kb search {r['query']!r}: median {r['command']['median_ms']:.1f} ms > {COMMAND_BUDGET_MS:.0f} ms")
        if s["overall_in_process"]["median_ms"] > SEARCH_BUDGET_MS:
            got.append(f"kb.search overall: median {s['overall_in_process']['median_ms']:.1f} ms > {SEARCH_BUDGET_MS:.0f} ms")
        if s["overall_command"]["median_ms"] > COMMAND_BUDGET_MS:
            got.append(f"ticketctl kb search overall: median {s['overall_command']['median_ms']:.1f} ms > {COMMAND_BUDGET_MS:.0f} ms")
        for r in s.get("commands", {}).get("rows", []):
            if r["budget_ms"] is not None and r["median_ms"] > r["budget_ms"]:
                got.append(f"{r['command']}: median {r['median_ms']:.1f} ms > {r['budget_ms']:.0f} ms")
    i = out.get("import")
    if i and not i["met"]:
        got.append(f"import: indexing adds {i['added']:.1%} > {IMPORT_BUDGET:.0%}")
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="20k tickets + 2k articles, 5 runs, 1 import run, 200 similar (not the budget figures)")
    ap.add_argument("--runs", type=int, help="timed runs per search query, in process and as a command (default 15, --quick 5)")
    ap.add_argument("--import-runs", type=int, help="imports of each variant (default 3, --quick 1)")
    ap.add_argument("--only", choices=("search", "import", "similar"), help="one part only (similar runs one import to build its store)")
    ap.add_argument("--installed", action="store_true", help="measure the installed ticketctl as is, even if editable")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    runs = args.runs or sizes["runs"]
    import_runs = args.import_runs or sizes["import_runs"]
    if runs < 1 or import_runs < 1:
        ap.error("need --runs >= 1 and --import-runs >= 1")
    todo = [args.only] if args.only else ["search", "import", "similar"]

    installed = cli.find_ticketctl()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETCTL_") and k != "PYTHONDONTWRITEBYTECODE"}
    base_env["TICKETCTL_USER"] = USER
    root = Path(tempfile.mkdtemp(prefix="ticketctl-kbbench-"))
    cwd = os.getcwd()
    out: dict[str, Any] = {"quick": args.quick, "sizes": sizes, "runs": runs, "import_runs": import_runs,
                           "budgets": {"search_ms": SEARCH_BUDGET_MS, "command_ms": COMMAND_BUDGET_MS, "import_added": IMPORT_BUDGET}}
    try:
        os.chdir(root)  # so that no process finds a source tree's ticketctl/ in the current directory
        base_env["TICKETCTL_HOME"] = str(root / "startup")
        tc, python, out["measured"] = cli.choose_install(installed, args.installed, root, base_env)
        log(f"measured: {out['measured']['describe']}")
        out["ticketctl"], out["python"] = tc, python
        if "search" in todo:
            out["search"] = bench_search(tc, base_env, root, sizes, runs)
            shutil.rmtree(root / "kb-store", ignore_errors=True)
        if "import" in todo or "similar" in todo:
            if not SERVICENOW.exists():
                skipped = [k for k in ("import", "similar") if k in todo]
                log(f"bench: {SERVICENOW} is absent (../shared not mounted): skipping {' and '.join(skipped)}")
                out.update({k: None for k in skipped})
            else:
                if "import" in todo:
                    log(f"[import] {import_runs} run(s) of each: (a) as is, (b) kb triggers dropped ...")
                    out["import"], home = bench_import(tc, base_env, root, import_runs)
                else:
                    home = root / "import-a-0"
                    secs, _res = import_once(tc, base_env, home, False)
                    log(f"[similar] store built by one import in {secs:.1f} s")
                if "similar" in todo:
                    log(f"[similar] {sizes['similar']} tickets ...")
                    out["similar"] = bench_similar(home, sizes["similar"])
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)
    out["misses"] = misses_of(out)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        report(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
