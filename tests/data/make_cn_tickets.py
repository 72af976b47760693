"""Regenerate ``nyc311_cn_gb18030.csv`` and ``nyc311_cn_utf8bom.csv`` (see README.md here).

    .venv/bin/python tests/data/make_cn_tickets.py [path/to/nyc311_2013-12-25.csv]

A Chinese service desk's export, made from real 311 service requests: the first
12 rows, in file order, of each of ten maintenance complaint types of
``shared/data/nyc311_samples/nyc311_2013-12-25.csv`` (120 rows), with Chinese
headers and the text fields put into Chinese through the tables below. Saved
the way Excel on a Chinese Windows saves a CSV: the same table as GB18030 (the
"ANSI" code page, no BOM) and as "CSV UTF-8" (with a BOM), CRLF line ends,
times as ``yyyy/m/d h:mm:ss``.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent.parent / "shared" / "data" / "nyc311_samples" / "nyc311_2013-12-25.csv"
PER_TYPE = 12
HEADER = ["工单编号", "标题", "类型", "部门", "产品", "故障类型", "优先级", "区域", "客户", "创建时间", "原始类别"]

#: Agency -> 部门
AGENCIES = {"HPD": "住房保护与发展局", "DOT": "交通局", "DEP": "环境保护局"}
#: Complaint Type -> 产品 (what the request is about); the keys pick the rows
COMPLAINT_TYPES = {
    "HEATING": "供暖", "PLUMBING": "给排水管道", "GENERAL CONSTRUCTION": "房屋土建", "PAINT - PLASTER": "油漆抹灰",
    "ELECTRIC": "电气", "NONCONST": "非土建类", "Street Condition": "路面", "Traffic Signal Condition": "交通信号灯",
    "Water System": "供水系统", "Sewer": "下水道",
}
#: Descriptor -> (故障类型, 优先级). 311 has no priority: this table gives one by
#: the kind of fault (gas, carbon monoxide, a cave-in: 紧急; no heat on 25 December: 高).
DESCRIPTORS = {
    "HEAT": ("暖气不足", "高"), "WATER-LEAKS": ("漏水", "高"), "BASIN/SINK": ("洗手盆/水槽", "中"), "BATHTUB": ("浴缸", "中"),
    "RADIATOR": ("散热器", "中"), "WINDOWS": ("窗户", "中"), "MOLD": ("霉菌", "中"), "GAS": ("燃气", "紧急"), "DOORS": ("门", "中"),
    "CEILING": ("天花板", "低"), "WALLS": ("墙面", "低"), "ELECTRIC-SUPPLY": ("供电故障", "高"), "LIGHTING": ("照明", "中"),
    "BELL-BUZZER/INTERCOM": ("门铃/对讲机", "低"), "RUBBISH": ("垃圾堆积", "低"), "VERMIN": ("虫鼠害", "中"),
    "SMOKE-DETECTOR": ("烟雾报警器", "高"), "CARBON MONOXIDE": ("一氧化碳", "紧急"), "JANITOR-SUPER": ("物业管理员", "低"),
    "Pothole": ("路面坑洞", "中"), "Line/Marking - Faded": ("标线褪色", "低"), "Failed Street Repair": ("道路修补不合格", "中"),
    "Cave-in": ("路面塌陷", "紧急"), "LED Pedestrian Unit": ("LED 行人信号灯", "中"), "Ped Multiple Lamps": ("行人信号灯多灯不亮", "中"),
    "Veh Signal Lamp": ("机动车信号灯", "高"), "Controller": ("信号控制器", "高"), "Pedestrian Signal": ("行人信号灯", "中"),
    "Leak (Use Comments) (WA2)": ("供水管漏水", "高"), "Hydrant Leaking (WC1)": ("消防栓漏水", "中"),
    "Hydrant Defective (WC2)": ("消防栓损坏", "中"), "Hydrant Running (WC3)": ("消防栓流水不止", "中"),
    "Dirty Water (WE)": ("水质浑浊", "高"), "No Water/Low Pressure (WA5)": ("停水/水压低", "高"),
    "Sewer Backup (Use Comments) (SA)": ("下水道倒灌", "高"), "Manhole Sunken/Damaged/Raised (SB1)": ("检查井下沉/损坏/凸起", "中"),
    "Sewer monitoring device alert *FOR DEP INTERNAL USE ONLY* (SBUART)": ("下水道监测设备报警（环保局内部）", "中"),
}
#: Borough -> 区域
BOROUGHS = {"BRONX": "布朗克斯", "BROOKLYN": "布鲁克林", "MANHATTAN": "曼哈顿", "QUEENS": "皇后区", "STATEN ISLAND": "史泰登岛"}


def customer(r: dict[str, str]) -> str:
    """311 callers are anonymous: the customer is who lives at the address (HPD,
    residential buildings) or a caller at that street or corner."""
    place = r["Incident Address"] or f"{r['Intersection Street 1']} 与 {r['Intersection Street 2']} 路口"
    return f"{' '.join(place.split())} {'住户' if r['Agency'] == 'HPD' else '来电市民'}"


def rows(source: Path) -> list[list[str]]:
    with source.open(newline="", encoding="utf-8") as f:
        taken: dict[str, int] = {}
        out = []
        for r in csv.DictReader(f):
            ct = r["Complaint Type"]
            if ct not in COMPLAINT_TYPES or taken.get(ct, 0) >= PER_TYPE:
                continue
            taken[ct] = taken.get(ct, 0) + 1
            fault, priority = DESCRIPTORS[r["Descriptor"]]
            area, product = BOROUGHS[r["Borough"]], COMPLAINT_TYPES[ct]
            t = datetime.strptime(r["Created Date"], "%m/%d/%Y %I:%M:%S %p")
            out.append([f"NYC311-{r['Unique Key']}", f"{area} {product}报修：{fault}", "维修", AGENCIES[r["Agency"]], product, fault,
                        priority, area, customer(r), f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}",
                        f"{ct} / {r['Descriptor']}"])
    return out


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    buf = io.StringIO()
    w = csv.writer(buf)  # CRLF, like Excel
    w.writerow(HEADER)
    w.writerows(rows(source))
    (HERE / "nyc311_cn_gb18030.csv").write_bytes(buf.getvalue().encode("gb18030"))
    (HERE / "nyc311_cn_utf8bom.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))


if __name__ == "__main__":
    main()
