"""Validation on real data: import the first 2,000 incidents of the ServiceNow log and
check the heat map at several past moments, and the resolution-time KPI, against an
independent computation with pandas over the raw file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ticketctl.cli import main
from ticketctl.core.model import iso
from ticketctl.services import heatmap, rebuild
from ticketctl.services.env import Env

SAMPLE = Path(__file__).resolve().parent / "data" / "servicenow_first2000incidents.csv.gz"
NOW = "2017-03-01T00:00:00Z"  # after the last event of the log
DONE = {"Resolved", "Closed"}


def make_env(home: Path) -> Env:
    return Env.from_environ({"TICKETCTL_HOME": str(home), "TICKETCTL_NOW": NOW, "TICKETCTL_USER": "importer"})


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    home = tmp_path_factory.mktemp("servicenow")
    assert main(["import", "servicenow", str(SAMPLE), "--json"], env=make_env(home)) == 0
    return home


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """The raw rows with effective times: naive times are UTC, and a row stamped before
    the incident's previous row (or its opening) takes that earlier moment."""
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    df["opened"] = pd.to_datetime(df["opened_at"], format="%d/%m/%Y %H:%M", utc=True)
    df["updated"] = pd.to_datetime(df["sys_updated_at"], format="%d/%m/%Y %H:%M", utc=True)
    df["row"] = range(len(df))
    df["at"] = df[["opened", "updated"]].max(axis=1)
    df["at"] = df.groupby("number")["at"].cummax()
    df["group"] = df["assignment_group"].replace("?", "")
    # category is the product; a "?" never erases a known one
    df["product"] = df["category"].replace("?", pd.NA).groupby(df["number"]).ffill().fillna("")
    df["person"] = df["assigned_to"].replace("?", "")
    return df


def backlog_by(log: pd.DataFrame, at: pd.Timestamp, column: str = "group") -> dict[str, int]:
    """Open incidents per ``column`` at ``at``: the last row at or before it,
    or, between opening and the first row, the first row's value as opened."""
    seen = log[log["at"] <= at].groupby("number").tail(1).set_index("number")
    first = log.groupby("number").head(1).set_index("number")
    opened_only = first[(first["opened"] <= at) & ~first.index.isin(seen.index)]
    open_rows = seen[~seen["incident_state"].isin(DONE)]
    counts = pd.concat([open_rows[column], opened_only[column]]).value_counts()
    return {k: int(v) for k, v in counts.items()}


def test_import_accounts_for_every_row_and_replays(imported, log):
    env = make_env(imported)
    assert env.store.count_tickets() == log["number"].nunique() == 2000
    assert rebuild.differences(env.store, env.config) == []
    env.close()


@pytest.mark.parametrize("moment", ["2016-03-01T12:00:00Z", "2016-03-03T09:30:00Z", "2016-03-07T18:00:00Z",
                                    "2016-03-15T00:00:00Z", "2016-04-20T08:00:00Z"])
def test_heatmap_by_dept_at_past_moments_equals_pandas(imported, log, moment):
    env = make_env(imported)
    hm = heatmap.heatmap(env, ("dept",), pd.Timestamp(moment).to_pydatetime())
    got = {c["dept"]: c["count"] for c in hm["cells"]}
    want = backlog_by(log, pd.Timestamp(moment))
    assert got == want and hm["total"] > 0
    by_product = heatmap.heatmap(env, ("product",), pd.Timestamp(moment).to_pydatetime())
    assert {c["product"]: c["count"] for c in by_product["cells"]} == backlog_by(log, pd.Timestamp(moment), "product")
    env.close()


def resolved_at(log: pd.DataFrame) -> pd.Series:
    """When each incident was last resolved, following the import's documented
    mapping: a row enters resolution when it is Resolved/Closed and the previous
    row was not, or the assignee changed while resolved, or Closed went back to
    Resolved; a later row out of Resolved/Closed reopens it (no resolution)."""
    df = log.sort_values(["number", "row"])
    done = df["incident_state"].isin(DONE)
    prev_done = done.groupby(df["number"]).shift(1, fill_value=False)
    prev_state = df.groupby("number")["incident_state"].shift(1, fill_value="New")
    prev_person = df.groupby("number")["person"].shift(1)
    first = df.groupby("number").cumcount() == 0
    first_person = df.groupby("number")["person"].transform("first")
    person_changed = (df["person"] != prev_person.where(~first, first_person))
    enters = done & (~prev_done | person_changed | ((prev_state == "Closed") & (df["incident_state"] == "Resolved")))
    last_enter = df["at"].where(enters).groupby(df["number"]).max()
    last_open_row = df["at"].where(~done).groupby(df["number"]).max()
    still = last_enter.notna() & (last_open_row.isna() | (last_open_row <= last_enter))
    return last_enter.where(still)


def test_resolution_time_kpi_equals_pandas(imported, log, capsys):
    start, end = "2016-02-29T00:00:00Z", "2016-03-04T00:00:00Z"
    assert main(["report", "kpi", "--from", start, "--to", end, "--json"], env=make_env(imported)) == 0
    k = json.loads(capsys.readouterr().out)
    opened = log.groupby("number")["opened"].first()
    res = resolved_at(log)
    window = opened[(opened >= pd.Timestamp(start)) & (opened < pd.Timestamp(end))]
    hours = ((res.reindex(window.index) - window).dt.total_seconds() / 3600).dropna()
    mean, median = k["kpis"]["resolution_mean"], k["kpis"]["resolution_median"]
    assert mean["unit"] == median["unit"] == "h"
    assert mean["n"] == median["n"] == len(hours) > 100
    assert mean["value"] == pytest.approx(hours.mean(), abs=0.006)
    assert median["value"] == pytest.approx(hours.median(), abs=0.006)
    assert mean["band"] in ("excellent", "ok", "watch", "warning")


def test_now_equals_latest_span_state(imported):
    env = make_env(imported)
    assert heatmap.heatmap(env, ("dept",)) == heatmap.heatmap(env, ("dept",), env.now)
    assert iso(env.now) == NOW
    env.close()


def test_first_response_kpi_equals_pandas(imported, log, capsys):
    """First response on imported incidents: the first row Active with a resolver
    assigned (the import starts the work on the resolver's behalf)."""
    start, end = "2016-02-29T00:00:00Z", "2016-03-04T00:00:00Z"
    assert main(["report", "kpi", "--from", start, "--to", end, "--json"], env=make_env(imported)) == 0
    k = json.loads(capsys.readouterr().out)["kpis"]
    opened = log.groupby("number")["opened"].first()
    active = log[(log["incident_state"] == "Active") & (log["person"] != "")]
    first = active.groupby("number")["at"].min()
    window = opened[(opened >= pd.Timestamp(start)) & (opened < pd.Timestamp(end))]
    minutes = ((first.reindex(window.index) - window).dt.total_seconds() / 60).dropna()
    assert k["first_response_median"]["n"] == len(minutes) > 100
    assert k["first_response_median"]["value"] == pytest.approx(minutes.median(), abs=0.06)
    assert k["first_response_mean"]["value"] == pytest.approx(minutes.mean(), abs=0.06)
