"""The source system's own figures kept on imported tickets (issue 28).

ServiceNow's event log says per row whether the incident made its SLA
(``made_sla``) and how often it was reopened (``reopen_count``); an incident's
last row holds the final values. ``import servicenow`` and ``import events
--profile servicenow`` keep them on the ticket (``source_made_sla``,
``source_reopens``) and ``report kpi`` shows ``source_sla_attainment`` beside
ticketctl's own ``sla_attainment``, and ``source_reopens``. Checked here on the
2,000-incident slice against a computation with pandas over the CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_import import DATA, Run

SLICE = DATA / "servicenow_first2000incidents.csv.gz"
FROM, TO = "2016-03-01T00:00:00Z", "2016-03-05T00:00:00Z"  # part of the slice's openings (29 Feb to 7 Mar 2016)


@pytest.fixture()
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(tmp_path / "home", capsys)


def final_rows() -> pd.DataFrame:
    """Each incident's last row (the file keeps an incident's rows together, in update order)."""
    df = pd.read_csv(SLICE, dtype=str, keep_default_na=False)
    last = df.groupby("number", sort=False).tail(1).copy()
    last["opened"] = pd.to_datetime(last["opened_at"], format="%d/%m/%Y %H:%M", utc=True)
    return last


def expected(last: pd.DataFrame) -> dict[str, Any]:
    """The window's incidents: of those resolved or closed, the percent whose
    made_sla is true; the mean reopen_count over all of them."""
    inside = last[(last["opened"] >= pd.Timestamp(FROM)) & (last["opened"] < pd.Timestamp(TO))]
    done = inside[inside["incident_state"].isin(["Resolved", "Closed"])]
    return {"tickets": len(inside), "n": len(done), "sla": round(100.0 * (done["made_sla"] == "true").mean(), 1),
            "reopens_n": len(inside), "reopens": round(inside["reopen_count"].astype(int).mean(), 2)}


def check_report(r: dict[str, Any], want: dict[str, Any]) -> None:
    assert r["tickets"] == want["tickets"]
    k = r["kpis"]
    assert k["source_sla_attainment"]["value"] == want["sla"]
    assert k["source_sla_attainment"]["n"] == want["n"] == k["sla_attainment"]["n"]
    assert k["source_sla_attainment"]["unit"] == "%" and k["source_sla_attainment"]["band"] is None
    assert k["source_reopens"]["value"] == want["reopens"]
    assert k["source_reopens"]["n"] == want["reopens_n"]
    # beside ticketctl's own: right after it
    names = list(k)
    assert names[names.index("sla_attainment") + 1] == "source_sla_attainment"


def test_servicenow_made_sla_share_in_report_kpi_equals_pandas(run: Run) -> None:
    last = final_rows()
    want = expected(last)
    assert 0 < want["n"] <= want["tickets"] and 0 < want["sla"] < 100  # the window holds both made and missed
    run.json("import", "servicenow", str(SLICE))
    check_report(run.json("report", "kpi", "--from", FROM, "--to", TO), want)
    # the ticket keeps the verdict and the count of its incident's last row
    got = {k: (m, n) for k, m, n in run.rows("SELECT key, source_made_sla, source_reopens FROM tickets")}
    assert got == {r["number"]: (int(r["made_sla"] == "true"), int(r["reopen_count"])) for _i, r in last.iterrows()}
    # per department: each department's incidents, by the group of their last row
    by = run.json("report", "kpi", "--from", FROM, "--to", TO, "--by", "dept")["by"]["dept"]
    inside = last[(last["opened"] >= pd.Timestamp(FROM)) & (last["opened"] < pd.Timestamp(TO))]
    for dept, rows in inside.groupby("assignment_group"):
        done = rows[rows["incident_state"].isin(["Resolved", "Closed"])]
        k = by["" if dept == "?" else dept]["kpis"]
        if len(done):
            assert k["source_sla_attainment"]["value"] == round(100.0 * (done["made_sla"] == "true").mean(), 1), dept
            assert k["source_sla_attainment"]["n"] == len(done)
        else:
            assert "source_sla_attainment" not in k
    assert run.differences() == []


def test_import_events_with_the_servicenow_profile_keeps_the_same_figures(run: Run) -> None:
    run.json("import", "events", str(SLICE), "--profile", "servicenow")
    check_report(run.json("report", "kpi", "--from", FROM, "--to", TO), expected(final_rows()))


def test_the_mapping_keys_work_in_any_mapping(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("case,when,state,ok,again\n"
                   "A1,2026-03-01 08:00,open,,0\nA1,2026-03-01 09:00,done,yes,2\n"
                   "B2,2026-03-01 08:30,open,no,0\nB2,2026-03-01 10:00,done,no,1\n"
                   "C3,2026-03-01 08:40,open,?,x\nC3,2026-03-01 11:00,done,?,x\n", encoding="utf-8")
    run.json("import", "events", str(log), "--map", "case=case,time=when,status=state,made_sla=ok,reopens=again",
             "--status-map", "open=new,done=resolved")
    got = {k: (m, n) for k, m, n in run.rows("SELECT key, source_made_sla, source_reopens FROM tickets")}
    assert got == {"A1": (1, 2), "B2": (0, 1), "C3": (None, None)}  # a missing or unreadable value is not kept
    k = run.json("report", "kpi", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z")["kpis"]
    assert (k["source_sla_attainment"]["value"], k["source_sla_attainment"]["n"]) == (50.0, 2)
    assert (k["source_reopens"]["value"], k["source_reopens"]["n"]) == (1.5, 2)
    code, out, err = run("report", "kpi", "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z")
    assert code == 0 and "source_sla_attainment" in out and "50" in out


def test_no_source_figures_no_keys(run: Run) -> None:
    from ticketctl.services import tickets

    env = run.env()
    tickets.create(env, {"title": "Printer jammed", "type": "repair", "dept": "it", "product": "printer"})
    env.close()
    r = run.json("report", "kpi")
    assert "sla_attainment" in r["kpis"]
    assert "source_sla_attainment" not in r["kpis"] and "source_reopens" not in r["kpis"]
