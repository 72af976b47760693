"""`config set` takes negative numbers as values, and refuses the ones the rules cannot use."""

from __future__ import annotations

import pytest

from ticketctl import errors
from ticketctl.cli import main
from ticketctl.services.env import Env


@pytest.mark.parametrize("key,value,message", [
    ("capacity", "-1", "capacity: must be zero or more"),
    ("weights.sla_factor", "-0.5", "weights.sla_factor: must be zero or more"),
    ("weights.off_hours_factor", "0", "weights.off_hours_factor: must be above zero"),
    ("weights.urgency.low", "-2", "weights.urgency.low: must be above zero"),
])
def test_bad_numbers_are_refused_and_the_file_is_unchanged(tmp_path, capsys, key, value, message):
    env = Env.from_environ({"TICKETCTL_HOME": str(tmp_path)})
    assert main(["config", "set", "capacity", "4"], env=env) == 0
    before = (tmp_path / "config.toml").read_bytes()
    capsys.readouterr()
    assert main(["config", "set", key, value], env=Env.from_environ({"TICKETCTL_HOME": str(tmp_path)})) == errors.BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("ticketctl: error: ") and message in err and err.count("\n") == 1
    assert (tmp_path / "config.toml").read_bytes() == before


def test_a_negative_value_is_a_value_not_an_option(tmp_path, capsys):
    env = Env.from_environ({"TICKETCTL_HOME": str(tmp_path)})
    assert main(["config", "set", "zones.cape-town.lat", "-33.92"], env=env) == 0
    assert capsys.readouterr().out.startswith("zones.cape-town.lat = -33.92  (")
    assert "lat = -33.92" in (tmp_path / "config.toml").read_text()
