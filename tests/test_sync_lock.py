"""One sync at a time per store: ``sync.client.sync_lock`` (the ``filelock``
package, so it works where ``fcntl`` does not, on Windows) waits for another
holder up to its limit, then refuses with the lock's path; a lock given back,
or held by a process that died, is taken at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ticketctl.errors import Refused
from ticketctl.home import Home
from ticketctl.services.env import Env
from ticketctl.sync.client import sync_lock


def _env(tmp_path: Path) -> Env:
    environ = {"TICKETCTL_HOME": str(tmp_path)}
    return Env(Home.from_env(environ), environ)


def test_a_second_sync_waits_then_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with sync_lock(env):
        started = time.monotonic()
        with pytest.raises(Refused, match=r"another sync has held this store for 0 s \(.*sync.lock\); try again"):
            with sync_lock(env, wait_s=0.3):
                pass  # pragma: no cover
        assert 0.25 <= time.monotonic() - started < 5
    with sync_lock(env, wait_s=0):  # given back: taken at once
        pass


def test_a_lock_held_by_another_process_is_taken_when_it_exits(tmp_path: Path) -> None:
    env = _env(tmp_path)
    hold = ("import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire();"
            " print('held', flush=True); time.sleep(0.5)")
    proc = subprocess.Popen([sys.executable, "-c", hold, str(env.home.sync_lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(Refused):
            with sync_lock(env, wait_s=0.05):
                pass  # pragma: no cover
        with sync_lock(env, wait_s=10):  # the holder exits (without releasing): the OS frees it
            assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
