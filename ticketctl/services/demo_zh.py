"""The Chinese demo's cast: a field-service team in the Yangtze delta.

``services.demo`` keeps the real-data shape (how many tickets each department,
product and fault gets, when they arrive, how long they take, what the open
backlog is doing); this module gives that shape a Chinese team's words, taken
from the vocabulary of Chinese service teams (工单, 派单, 挂起, 备件, 回访):
departments, products and their faults, sites around Shanghai, technicians'
names, customers (companies with a +86 mobile number), the
description a dispatcher types when a customer calls, blocking notes,
resolutions and the follow-up call (回访) before a ticket closes.

Names are the identifiers the command line uses (``assign KEY 张伟``,
``TICKETCTL_USER=张伟``): ticketctl takes any one-word UTF-8 name, and a team
knows its people by their Chinese names, so the demo's technicians are
written that way. Departments, products and sites are Chinese text for the
same reason (``list --dept 售后服务部``); ticket keys keep the store's ASCII
prefix.
"""

from __future__ import annotations

import random
from typing import Any

#: the calendar a Chinese team's SLA clocks run on (set in the demo home's config when it sets none)
CALENDAR = {"country": "CN", "timezone": "Asia/Shanghai"}

#: who creates and assigns the tickets (the English demo's "dispatch")
DISPATCHER = "调度台"

NAMES = (
    "张伟 王芳 李娜 刘洋 陈静 杨磊 赵敏 黄强 周杰 吴婷 徐明 孙丽 马超 朱琳 胡斌 郭涛 何欢 林峰 高翔 罗晨 "
    "郑凯 梁爽 谢涛 宋佳 唐亮 许晴 韩冰 冯雪 邓辉 曹阳 彭飞 曾敏 肖楠 田甜 董浩 潘婷 袁野 蒋勇 蔡琳 余洁 "
    "杜鹏 叶青 程亮 苏畅 魏然 吕航 丁宁 沈毅 姜山 范磊"
).split()

# Each department: its products, each with its faults (most frequent first); the
# shares come from the real profile, matched by rank (see :func:`profile`).
DEPARTMENTS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    ("物业设施部", [
        ("中央空调", ["不制冷", "异响", "显示故障代码04", "漏水"]),
        ("照明系统", ["灯具不亮", "频繁跳闸", "灯光闪烁", "控制面板失灵", "线路老化"]),
        ("给水泵房", ["水压不足", "水泵无法启动", "过热停机"]),
        ("消防报警主机", ["误报警", "无法复位", "探测器离线", "主机断电", "通讯故障"]),
        ("门禁系统", ["刷卡无反应", "闸机卡死", "读卡器损坏", "开门延迟"]),
        ("电梯", ["困人", "平层不准", "门无法关闭", "运行异响", "按钮失灵"]),
    ]),
    ("暖通外勤组", [
        ("冷水机组", ["高压报警", "不制冷", "压缩机过热", "冷却水流量低", "传感器故障"]),
        ("冷却塔", ["风机异响", "漏水", "填料堵塞", "水位异常", "电机烧毁"]),
        ("新风机组", ["风量不足", "滤网堵塞", "无法启动", "控制器报警"]),
        ("空气源热泵", ["不制热", "化霜异常", "显示故障代码15", "无法开机", "噪音大"]),
        ("风机盘管", ["漏水", "不出风", "温控器失灵", "异响", "冷凝水溢出"]),
        ("锅炉", ["点火失败", "压力过低", "水温不升"]),
    ]),
    ("网络运维部", [
        ("核心交换机", ["端口中断", "丢包严重", "环路风暴", "配置丢失", "风扇告警"]),
        ("无线接入点", ["信号弱", "频繁掉线", "无法认证", "指示灯异常", "无法获取地址"]),
        ("防火墙", ["专线无法连接", "策略误拦截", "处理器占用过高"]),
        ("服务器", ["硬盘告警", "宕机", "内存故障", "磁盘阵列降级", "远程管理口不通"]),
        ("光纤线路", ["光衰过大", "中断", "熔接点损坏"]),
        ("不间断电源", ["电池告警", "切换旁路", "过载"]),
    ]),
    ("售后服务部", [
        ("数控机床", ["主轴异响", "报警停机", "精度偏差", "换刀卡滞", "液压泄漏"]),
        ("空压机", ["排气温度高", "无法加载", "漏油", "压力不稳", "频繁启停"]),
        ("注塑机", ["温控失灵", "模具不开", "液压站异响", "射胶不足"]),
        ("工业机器人", ["示教器黑屏", "轴超限报警", "抓取偏移", "伺服报警", "通讯中断"]),
        ("激光切割机", ["切不透", "激光器报警", "随动异常", "冷水机故障", "气压不足"]),
        ("电动叉车", ["无法充电", "提升无力", "刹车异响", "仪表报错"]),
    ]),
    ("强电维修组", [
        ("配电柜", ["断路器跳闸", "接触器烧毁", "缺相", "漏电保护动作"]),
        ("变压器", ["温度过高", "异响", "油位低", "瓦斯报警", "绝缘下降"]),
        ("应急照明", ["蓄电池失效", "不能自动切换", "指示灯不亮"]),
        ("柴油发电机组", ["无法启动", "电压不稳", "冒黑烟", "漏油", "水温高"]),
        ("充电桩", ["无法启动充电", "刷卡失败", "枪头过热", "显示屏黑屏", "离线"]),
        ("电动卷帘门", ["卡住不动", "遥控失灵", "限位失效"]),
    ]),
    ("给排水班组", [
        ("排污泵", ["无法自动启停", "堵塞", "浮球失灵"]),
        ("热水器", ["不出热水", "漏水", "点火失败", "显示故障代码01"]),
        ("管道阀门", ["阀门漏水", "关不严", "锈蚀卡死", "管道爆裂"]),
        ("卫生洁具", ["感应冲水失灵", "下水堵塞"]),
        ("消防水泵", ["压力不足", "无法联动"]),
        ("屋面排水", ["雨水倒灌"]),
    ]),
    ("安防系统部", [
        ("监控摄像机", ["画面无信号", "夜视失效", "画面模糊", "离线", "录像丢失"]),
        ("硬盘录像机", ["硬盘损坏", "无法回放"]),
        ("停车道闸", ["抬杆不落", "车牌识别失败"]),
        ("周界报警", ["误报", "防区离线", "主机无响应"]),
        ("可视对讲", ["无法通话", "开锁失灵"]),
        ("巡更系统", ["数据无法上传"]),
    ]),
    ("车辆服务部", [
        ("制动系统", ["刹车异响", "刹车片磨损", "制动液渗漏", "防抱死故障灯亮", "刹车跑偏"]),
        ("轮胎与定位", ["跑偏需四轮定位", "爆胎", "偏磨", "胎压报警"]),
        ("发动机", ["抖动", "故障灯亮", "冷启动困难", "机油渗漏", "动力不足"]),
        ("汽车空调", ["不制冷", "异味", "出风量小"]),
        ("悬挂系统", ["减震漏油", "底盘异响", "方向盘抖动"]),
        ("车载终端", ["定位漂移", "离线", "摄像头无画面", "无法开机", "数据未上传"]),
    ]),
    ("桌面支持组", [
        ("台式电脑", ["无法开机", "蓝屏", "运行缓慢", "硬盘异响", "无法联网"]),
        ("笔记本电脑", ["屏幕闪烁", "无法充电", "键盘失灵", "进水", "系统崩溃"]),
        ("打印机", ["卡纸", "打印模糊", "脱机", "无法扫描"]),
        ("扫码枪", ["无法识别条码", "蓝牙断连", "不出光"]),
        ("收银机", ["钱箱打不开", "小票机不出纸", "触摸屏失灵", "系统卡死", "无法联网"]),
        ("投影仪", ["无信号", "画面偏色", "灯泡烧坏", "过热关机"]),
    ]),
    ("通信保障部", [
        ("程控交换机", ["外线不通", "分机无拨号音", "板卡故障"]),
        ("对讲系统", ["杂音大", "信号弱", "无法呼叫", "电池鼓包"]),
        ("呼叫中心坐席", ["来电无法接入", "录音丢失", "耳麦无声"]),
        ("会议系统", ["视频卡顿", "麦克风无声", "无法入会", "回声"]),
        ("室内分布系统", ["手机信号弱", "设备离线", "驻波比告警"]),
        ("广播系统", ["无声", "功放过热", "分区失控", "杂音", "定时失效"]),
    ]),
    ("电梯维保部", [
        ("客梯", ["困人", "平层不准", "门机故障", "运行抖动", "报警电话不通"]),
        ("货梯", ["超载误报", "无法关门", "层站按钮失灵", "异响"]),
        ("自动扶梯", ["急停", "扶手带打滑", "梯级异响", "梳齿板损坏"]),
        ("自动人行道", ["停运", "安全回路断开"]),
        ("杂物梯", ["不能呼梯"]),
        ("电梯五方通话", ["无法接通", "杂音大", "主机掉线"]),
    ]),
    ("应用支持组", [
        ("财务系统", ["无法登录", "单据过账报错", "报表数据不一致", "运行缓慢", "接口同步失败"]),
        ("开票系统", ["税控盘无法识别", "发票打印错位", "开票失败", "数据未同步"]),
        ("办公审批系统", ["审批流程卡住", "附件无法上传"]),
        ("企业微信", ["消息推送延迟"]),
        ("门户网站", ["页面打不开"]),
    ]),
]

SITES = (
    "浦东张江 浦东金桥 闵行莘庄 徐汇漕河泾 静安寺 杨浦五角场 宝山大场 嘉定安亭 松江九亭 青浦徐泾 "
    "长宁虹桥 普陀真如 虹口北外滩 黄浦外滩 奉贤南桥 金山石化 昆山花桥 苏州园区 嘉兴南湖 南通开发区"
).split()

CITIES = "上海 苏州 无锡 杭州 宁波 南京 嘉兴 常州 南通 合肥 昆山 绍兴 温州 扬州 湖州 台州".split()
BRANDS = "恒达 华信 鼎盛 瑞丰 金源 宏远 永泰 天成 博远 新亚 锦程 立信 兴业 汇通 嘉禾 凯达 明辉 海纳 盛世 安顺 福瑞 润泽 启航 中诚".split()
TRADES = "精密机械 物业管理 电子科技 食品 物流 医疗器械 汽车配件 新材料 酒店管理 纺织 商贸 环保设备".split()
MOBILE = (133, 135, 136, 137, 138, 139, 150, 151, 152, 158, 159, 177, 180, 181, 186, 187, 188, 189, 199)

PLACES = ("1号车间", "3号车间", "B栋12层机房", "一楼大堂", "地下二层车库", "2号仓库", "行政楼5层", "研发中心", "门店收银区",
          "员工食堂", "屋顶设备层", "配电室", "客户服务大厅", "生产线末端")
EFFECTS = ("已停机，影响生产", "员工无法正常办公", "客户要求今天上门", "已远程指导重启，无效", "本月第二次报修，疑似重复故障",
           "不影响使用，但需尽快处理", "已临时启用备用设备", "客户比较着急，多次催单")
NOTES = ("已到现场，初步判断需更换配件", "已远程诊断，安排工程师明天上门", "已联系客户确认故障现象", "已拍照上传，等待技术主管判断",
         "已电话联系客户，约好上门时间")
PARTS = ("压缩机启动电容", "主控板", "伺服驱动器", "刹车片", "电磁阀", "硬盘", "电源模块", "传感器", "门机皮带", "打印头")
RESOLUTIONS = ("更换{part}后试机正常", "清洗保养并复位，运行正常", "重新设置参数，故障消除", "紧固接线端子，恢复正常",
               "远程指导客户重启后恢复", "更换{part}，客户现场验收通过")
APPROVALS = ("更换{part}，需主管审批费用", "申请外包吊装作业", "夜间加班维修费用", "采购备用{part}")
FOLLOW_UPS = ("已电话回访，客户表示满意", "已回访，客户确认问题解决", "回访客户，建议下次保养时一并检查")


def profile(prof: dict[str, Any]) -> dict[str, Any]:
    """The real profile with a Chinese team's names: each department, product
    and fault takes the share of the English one of the same rank (a missing
    rank: half the last share); sites take the zones' shares; part of the
    blocked-on-customer backlog waits for parts instead (备件)."""
    out = dict(prof)

    def share(items: list[dict[str, Any]], i: int) -> float:
        return float(items[i]["share"]) if i < len(items) else float(items[-1]["share"]) / 2 ** (i - len(items) + 1)

    depts = []
    for i, (dept, products) in enumerate(DEPARTMENTS):
        en_d = prof["departments"][min(i, len(prof["departments"]) - 1)]
        prods = []
        for j, (prod, faults) in enumerate(products):
            en_p = en_d["products"][min(j, len(en_d["products"]) - 1)]
            prods.append({"name": prod, "share": share(en_d["products"], j),
                          "faults": [{"name": f, "share": share(en_p["faults"], k)} for k, f in enumerate(faults)]})
        depts.append({"name": dept, "share": share(prof["departments"], i), "products": prods})
    out["departments"] = depts
    out["zones"] = [{"name": s, "share": share(prof["zones"], i)} for i, s in enumerate(SITES)]
    shares = dict(prof["backlog_states"]["shares"])
    waiting = shares.get("blocked:awaiting_customer", 0.0)
    shares["blocked:awaiting_customer"], shares["blocked:awaiting_parts"] = waiting * 0.6, waiting * 0.4
    out["backlog_states"] = {**prof["backlog_states"], "shares": shares}
    return out


def title(product: str, fault: str) -> str:
    return f"{product}{fault}"


def customer(n: int) -> tuple[str, str]:
    """Customer ``n`` (1..4499): a company and its contact's mobile (+86), the
    same for the same ``n``."""
    total = len(CITIES) * len(BRANDS) * len(TRADES)
    i = (n * 1_000_003) % total  # a permutation (coprime with the total): neighbours differ
    city, brand, trade = CITIES[i % len(CITIES)], BRANDS[i // len(CITIES) % len(BRANDS)], TRADES[i // (len(CITIES) * len(BRANDS))]
    digits = (n * 48_271 + 12_345_678) % 100_000_000
    phone = f"+86 {MOBILE[n % len(MOBILE)]} {digits // 10_000:04d} {digits % 10_000:04d}"
    return f"{city}{brand}{trade}有限公司", phone


def description(rng: random.Random, site: str, product: str, fault: str) -> str:
    return f"客户来电报修：{site}{rng.choice(PLACES)}，{product}{fault}，{rng.choice(EFFECTS)}。"


def note(rng: random.Random) -> str:
    return rng.choice(NOTES)


def resolution(rng: random.Random) -> str:
    return rng.choice(RESOLUTIONS).format(part=rng.choice(PARTS))


def follow_up(rng: random.Random) -> str:
    return rng.choice(FOLLOW_UPS)


def block_payload(reason: str, rng: random.Random, collaborator: str, deadline: str) -> dict[str, Any]:
    """A Chinese team's words for a block (``services.demo`` draws the collaborator and the deadline)."""
    p: dict[str, Any] = {"reason": reason}
    if reason == "awaiting_collaboration":
        p.update(collaborator=collaborator, deliverable="共用部件的故障诊断结论", deadline=deadline,
                 expected_result="明确根因并给出维修方案")
    elif reason == "awaiting_customer":
        p["note"] = rng.choice(("客户电话无人接听", "现场无法进入，需物业开门", "等待客户安排停机窗口", "等待客户确认维修报价"))
    elif reason == "awaiting_parts":
        p["note"] = f"等待备件：{rng.choice(PARTS)}，预计{rng.randint(1, 5)}天到货"
    elif reason == "awaiting_third_party":
        p["note"] = rng.choice(("等待厂家工程师上门，已约周五", "等待运营商处理线路故障", "等待维保外包单位排期"))
    return p


def approval(rng: random.Random) -> str:
    """What a technician asks approval for (``approval request --what``)."""
    return rng.choice(APPROVALS).format(part=rng.choice(PARTS))


def batch_texts(n: int, fault: str, product: str, zone: str, keys: list[str]) -> tuple[str, str]:
    """The title and description of a batch incident's parent (``sweep``'s batch rule), in Chinese."""
    return f"批量事件：{zone}的{product}出现{n}起{fault}", f"{zone}的{product}有{n}个未关闭工单报告{fault}：{'、'.join(keys)}"
