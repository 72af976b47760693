"""Build the aggregated statistical profile used by ``ticketctl demo``.

Provenance
----------
Input is the real, anonymised ServiceNow incident event log (UCI Machine
Learning Repository, "Incident management process enriched event log",
C. A. L. Amaral, M. Fantinato and S. M. Peres, CC BY 4.0), as the dev slice
``incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz`` (101,045 event
rows, 17,136 incidents opened 2016-02-29 .. 2016-04-30). Each row is a snapshot
of one incident at one update; ``?`` means missing; timestamps are
``D/M/YYYY HH:MM`` without timezone.

Only aggregated counts and shares are written -- no raw rows. The anonymised
codes (``Group 70``, ``Category 26``, ``Subcategory 174``, ``Location 143``)
are kept for traceability, and each gets a readable field-service label from
the fixed curated lists below, assigned deterministically by rank. The labels
are invented; the numbers are measured.

Conventions
-----------
* Per-incident categorical attributes (assignment_group, category,
  subcategory, location, priority, impact, contact_type) are the incident's
  *last known* value: the value on its last event row that is not ``?``.
  (1,736 incidents end with ``assignment_group = ?`` after having had a
  group, so the plain last row would lose them.) Incidents with no known
  value are left out of that attribute's shares.
* "Top N, renormalised": the N most frequent codes (ties broken by code), with
  their shares rescaled so that the N shares sum to 1.
* Quantiles use ``statistics.quantiles(..., n=100, method="inclusive")``.
* Weekday for arrivals: Monday = 0, index = weekday * 24 + hour of opened_at.

Run (from the repository root, Python >= 3.11, standard library only)::

    python tools/build_demo_profile.py \\
        ../shared/data/servicenow_incident_event_log/incident_event_log_dev_2016-02-29_to_2016-04-30.csv.gz \\
        -o ticketctl/data/demo_profile.json

Output is deterministic: sorted keys, floats rounded to 4 decimals.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import statistics
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta

MISSING = "?"
ROUND = 4
PERCENTILES = (10, 25, 50, 75, 90, 99)

N_DEPARTMENTS = 12
N_PRODUCTS = 6
N_FAULTS = 5
N_ZONES = 20

BACKLOG_START = datetime(2016, 3, 7)
BACKLOG_END = datetime(2016, 4, 25)
BACKLOG_INSTANTS = 20

# ---------------------------------------------------------------------------
# Curated readable labels (assigned by rank; the codes stay in the output).
# ---------------------------------------------------------------------------
DEPARTMENT_NAMES = [
    "facilities", "field-hvac", "it-network", "service-desk", "electrical",
    "plumbing", "security-systems", "fleet", "it-hardware", "telecom",
    "elevators", "it-apps",
]

PRODUCT_NAMES = [
    "hvac", "lighting", "router", "laptop", "printer", "pump", "badge-reader",
    "switchboard", "desktop", "wifi-access-point", "boiler", "chiller",
    "cctv-camera", "fire-alarm", "door-lock", "elevator-car", "generator",
    "ups", "water-heater", "ventilation-fan", "monitor", "desk-phone",
    "mobile-phone", "server", "network-switch", "thermostat", "vehicle",
    "forklift", "projector", "scanner", "copier", "intercom", "gate-barrier",
    "sprinkler", "escalator", "solar-inverter", "ev-charger", "vending-machine",
    "kitchen-appliance", "parking-meter", "email", "erp-client", "vpn",
    "badge-printer", "refrigeration", "compressor", "conveyor", "sensor",
]

FAULT_NAMES = [
    "no-power", "leak", "noise", "no-signal", "overheating", "error-code",
    "slow", "won't-start", "intermittent", "login-failure", "physical-damage",
    "vibration", "smell", "tripped-breaker", "blocked", "display-fault",
    "battery-dead", "connectivity-loss", "config-error", "alarm-triggered",
    "wont-stop", "low-pressure", "high-pressure", "flicker", "jammed",
    "worn-part", "calibration-drift", "corrosion", "firmware-bug",
    "access-denied", "data-missing", "sync-failure", "paper-jam",
    "low-output", "overload", "frozen", "cracked", "misaligned", "loose-cable",
    "water-ingress", "fan-failure", "filter-clogged", "sensor-fault",
    "door-stuck", "button-stuck", "no-heat", "no-cooling", "short-circuit",
    "burnt-out", "reboot-loop", "license-expired", "certificate-expired",
    "disk-full", "memory-error", "update-failed", "crash", "timeout",
    "wrong-reading", "leaking-valve", "drip", "rattle", "squeal", "grinding",
    "dim", "no-display", "no-sound", "echo", "static", "dropped-calls",
    "no-dial-tone", "bad-reception", "card-not-read", "lock-failure",
    "false-alarm", "camera-offline", "recording-gap", "battery-swelling",
    "tyre-damage", "engine-warning", "brake-fault", "fuel-leak",
    "door-sensor", "level-mismatch", "cable-worn", "motor-failure",
    "controller-fault", "drainage-blocked", "condensation", "mould",
    "pest", "graffiti", "broken-glass", "trip-hazard", "odour",
    "temperature-drift", "humidity-high", "surge-damage", "earth-fault",
    "permission-error", "print-quality", "toner-empty", "overflow",
    "underflow", "stall", "misfeed", "keyboard-fault", "touchpad-fault",
    "screen-cracked", "port-damaged", "charger-fault", "hinge-broken",
]

ZONE_REGIONS = ["north", "south", "east", "west", "central"]

PRIORITY_MAP = {"1": "urgent", "2": "high", "3": "medium", "4": "low"}
IMPACT_MAP = {"1": "system", "2": "department", "3": "user"}

CLOSED_STATES = {"Resolved", "Closed"}
STATE_MAP = {
    "Active": "in_progress",
    "Awaiting User Info": "blocked:awaiting_customer",
    "Awaiting Evidence": "blocked:awaiting_customer",
    "Awaiting Vendor": "blocked:awaiting_third_party",
    "Awaiting Problem": "blocked:awaiting_collaboration",
}
# every mapped key is written (0.0 if unseen). Note: in the dev file
# "Awaiting Vendor" first occurs on 2016-04-29, after the backlog window.
BACKLOG_KEYS = ("new", "assigned", *sorted(set(STATE_MAP.values())))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def parse_ts(value: str) -> datetime | None:
    """Parse ``D/M/YYYY HH:MM``; return None for ``?`` or junk."""
    if not value or value == MISSING:
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y %H:%M")
    except ValueError:
        return None


def r(x: float) -> float:
    return round(float(x), ROUND)


def shares(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {k: r(v / total) for k, v in sorted(counter.items())} if total else {}


def top_n(counter: Counter, n: int) -> list[tuple[str, float]]:
    """Top n non-missing codes by count (ties by code), shares renormalised."""
    items = sorted(
        ((k, v) for k, v in counter.items() if k != MISSING),
        key=lambda kv: (-kv[1], code_sort_key(kv[0])),
    )[:n]
    total = sum(v for _, v in items)
    return [(k, v / total) for k, v in items] if total else []


def code_sort_key(code: str) -> tuple[str, int]:
    """'Group 7' < 'Group 70' numerically, for stable tie-breaking."""
    prefix, _, num = code.rpartition(" ")
    return (prefix, int(num)) if num.isdigit() else (code, -1)


def quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {f"p{p}": r(values[0]) if values else None for p in PERCENTILES}
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {f"p{p}": r(qs[p - 1]) for p in PERCENTILES}


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


def code_num(value: str) -> str:
    """'3 - Moderate' -> '3'."""
    return value.split("-", 1)[0].strip()


class Namer:
    """Assign readable names from a curated list, first come first served."""

    def __init__(self, names: list[str], fallback: str):
        self.names = names
        self.fallback = fallback
        self.assigned: dict[str, str] = {}

    def __call__(self, code: str) -> str:
        if code not in self.assigned:
            i = len(self.assigned)
            self.assigned[code] = (
                self.names[i] if i < len(self.names) else f"{self.fallback}-{i + 1:02d}"
            )
        return self.assigned[code]


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
CAT_FIELDS = (
    "assignment_group", "category", "subcategory", "location",
    "priority", "impact", "contact_type",
)


def load(path: str):
    """Group event rows by incident (rows of one incident are consecutive)."""
    opener = gzip.open if path.endswith(".gz") else open
    incidents: dict[str, dict] = {}
    n_events = 0
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            n_events += 1
            inc = incidents.get(row["number"])
            if inc is None:
                inc = incidents[row["number"]] = {
                    "opened": parse_ts(row["opened_at"]),
                    "events": [],  # (updated_at, seq, state, assigned)
                    "last": {},
                    "group_resolvers": defaultdict(set),
                }
            updated = parse_ts(row["sys_updated_at"])
            seq = len(inc["events"])
            inc["events"].append(
                (updated, seq, row["incident_state"], row["assigned_to"] != MISSING)
            )
            for f in CAT_FIELDS:
                if row[f] != MISSING:
                    inc["last"][f] = row[f]
            if row["assignment_group"] != MISSING and row["assigned_to"] != MISSING:
                inc["group_resolvers"][row["assignment_group"]].add(row["assigned_to"])
            # final values, copied onto every row; take the last row's
            inc["resolved"] = parse_ts(row["resolved_at"])
            inc["reassign"] = row["reassignment_count"]
            inc["reopen"] = row["reopen_count"]
    return incidents, n_events


# ---------------------------------------------------------------------------
# profile
# ---------------------------------------------------------------------------
def build(path: str) -> dict:
    incidents, n_events = load(path)
    n_inc = len(incidents)
    last = {num: inc["last"] for num, inc in incidents.items()}

    # --- departments / products / faults -------------------------------
    group_count = Counter(row.get("assignment_group", MISSING) for row in last.values())
    technicians: dict[str, set] = defaultdict(set)
    for inc in incidents.values():
        for g, res in inc["group_resolvers"].items():
            technicians[g] |= res

    dept_top = top_n(group_count, N_DEPARTMENTS)
    product_namer = Namer(PRODUCT_NAMES, "product")
    fault_namer = Namer(FAULT_NAMES, "fault")

    # name products / faults by global incident rank so the same code gets the
    # same label everywhere, independent of department order.
    global_cat = Counter(row.get("category", MISSING) for row in last.values())
    global_sub = Counter(row.get("subcategory", MISSING) for row in last.values())
    dept_codes = {g for g, _ in dept_top}
    used_cats: set[str] = set()
    used_subs: set[str] = set()
    per_dept = {}
    for g, _ in dept_top:
        in_dept = [row for row in last.values() if row.get("assignment_group") == g]
        cats = top_n(Counter(row.get("category", MISSING) for row in in_dept), N_PRODUCTS)
        prods = []
        for c, cshare in cats:
            subs = top_n(
                Counter(row.get("subcategory", MISSING) for row in in_dept if row.get("category") == c),
                N_FAULTS,
            )
            used_subs.update(s for s, _ in subs)
            prods.append((c, cshare, subs))
        used_cats.update(c for c, _, _ in prods)
        per_dept[g] = prods
    assert dept_codes == set(per_dept)
    for c in sorted(used_cats, key=lambda k: (-global_cat[k], code_sort_key(k))):
        product_namer(c)
    for s in sorted(used_subs, key=lambda k: (-global_sub[k], code_sort_key(k))):
        fault_namer(s)

    departments = []
    for i, (g, gshare) in enumerate(dept_top):
        departments.append({
            "code": g,
            "name": DEPARTMENT_NAMES[i] if i < len(DEPARTMENT_NAMES) else f"dept-{i + 1:02d}",
            "share": r(gshare),
            "technicians": len(technicians[g]),
            "products": [
                {
                    "code": c,
                    "name": product_namer(c),
                    "share": r(cshare),
                    "faults": [
                        {"code": s, "name": fault_namer(s), "share": r(sshare)}
                        for s, sshare in subs
                    ],
                }
                for c, cshare, subs in per_dept[g]
            ],
        })

    # --- priority / impact / channel ------------------------------------
    priority = Counter(
        PRIORITY_MAP[code_num(row["priority"])] for row in last.values() if "priority" in row
    )
    impact = Counter(
        IMPACT_MAP[code_num(row["impact"])] for row in last.values() if "impact" in row
    )
    channel = Counter(row["contact_type"].lower() for row in last.values() if "contact_type" in row)

    # --- zones ----------------------------------------------------------
    loc_top = top_n(Counter(row.get("location", MISSING) for row in last.values()), N_ZONES)
    zones = []
    for i, (loc, lshare) in enumerate(loc_top):
        region = ZONE_REGIONS[i % len(ZONE_REGIONS)]
        zones.append({"code": loc, "name": f"{region}-{i // len(ZONE_REGIONS) + 1:02d}",
                      "share": r(lshare)})

    # --- arrivals -------------------------------------------------------
    arrivals = [0] * 168
    n_arr = 0
    for inc in incidents.values():
        if inc["opened"] is not None:
            arrivals[inc["opened"].weekday() * 24 + inc["opened"].hour] += 1
            n_arr += 1
    arrivals_share = [r(a / n_arr) for a in arrivals]

    # --- durations ------------------------------------------------------
    to_resolve, to_assign = [], []
    for inc in incidents.values():
        op = inc["opened"]
        if op is None:
            continue
        if inc["resolved"] is not None and inc["resolved"] >= op:
            to_resolve.append(hours(inc["resolved"] - op))
        for updated, _, _, assigned in inc["events"]:
            if assigned:
                if updated is not None and updated >= op:
                    to_assign.append(hours(updated - op))
                break

    # --- backlog snapshots ----------------------------------------------
    step = (BACKLOG_END - BACKLOG_START) / (BACKLOG_INSTANTS - 1)
    instants = [BACKLOG_START + step * k for k in range(BACKLOG_INSTANTS)]
    backlog_states: Counter = Counter()
    open_counts = []
    ages = []
    for t in instants:
        n_open = 0
        for inc in incidents.values():
            op = inc["opened"]
            if op is None or op > t:
                continue
            latest = None
            for ev in inc["events"]:
                if ev[0] is not None and ev[0] <= t and (latest is None or (ev[0], ev[1]) > (latest[0], latest[1])):
                    latest = ev
            if latest is None:
                # opened but not yet registered: a brand-new unassigned ticket
                state, assigned = "New", False
            else:
                _, _, state, assigned = latest
            if state in CLOSED_STATES:
                continue
            if state == "New":
                mapped = "assigned" if assigned else "new"
            else:
                mapped = STATE_MAP.get(state)
                if mapped is None:  # unknown junk value (e.g. -100): skip
                    continue
            backlog_states[mapped] += 1
            n_open += 1
            ages.append(hours(t - op))
        open_counts.append(n_open)

    # --- counts ---------------------------------------------------------
    reassigned = sum(1 for inc in incidents.values() if inc["reassign"].isdigit() and int(inc["reassign"]) > 0)
    reopened = sum(1 for inc in incidents.values() if inc["reopen"].isdigit() and int(inc["reopen"]) > 0)

    return {
        "source": {
            "dataset": "ServiceNow incident management process enriched event log "
                       "(Amaral, Fantinato, Peres; UCI Machine Learning Repository, CC BY 4.0)",
            "file": os.path.basename(path),
            "incidents": n_inc,
            "events": n_events,
            "note": "names are readable labels assigned to the anonymised codes; "
                    "the counts and shares are measured",
        },
        "departments": departments,
        "priority": shares(priority),
        "impact": shares(impact),
        "channel": shares(channel),
        "zones": zones,
        "arrivals_by_hour_of_week": arrivals_share,
        "hours_to_resolve": quantiles(to_resolve),
        "hours_to_first_assignment": quantiles(to_assign),
        "backlog_states": {
            "shares": {k: r(backlog_states[k] / sum(backlog_states.values()))
                       for k in BACKLOG_KEYS},
            "mean_open_backlog": r(statistics.fmean(open_counts)),
            "age_hours_quantiles": quantiles(ages),
            "instants": BACKLOG_INSTANTS,
            "window": [BACKLOG_START.date().isoformat(), BACKLOG_END.date().isoformat()],
        },
        "reassigned_share": r(reassigned / n_inc),
        "reopened_share": r(reopened / n_inc),
        "events_per_incident_mean": r(n_events / n_inc),
    }


def dumps(obj, indent: int = 0) -> str:
    """Deterministic, compact-but-diffable JSON: sorted keys; a dict or list
    with no nested containers goes on one line, otherwise one item per line."""
    def leaf(o):
        return not isinstance(o, (dict, list))

    if isinstance(obj, dict):
        items = sorted(obj.items())
        if all(leaf(v) for _, v in items):
            return json.dumps(dict(items), sort_keys=True, ensure_ascii=False)
        pad = " " * (indent + 1)
        body = ",\n".join(
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 1)}" for k, v in items
        )
        return "{\n" + body + "\n" + " " * indent + "}"
    if isinstance(obj, list):
        if all(leaf(v) for v in obj):
            return json.dumps(obj, ensure_ascii=False)
        pad = " " * (indent + 1)
        body = ",\n".join(f"{pad}{dumps(v, indent + 1)}" for v in obj)
        return "[\n" + body + "\n" + " " * indent + "]"
    return json.dumps(obj, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="incident_event_log_*.csv[.gz]")
    ap.add_argument("-o", "--output", default="-", help="output JSON path (default: stdout)")
    args = ap.parse_args(argv)
    profile = build(args.input)
    text = dumps(profile) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
