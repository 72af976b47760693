"""A server worker stops when the process that started it is gone.

``server run --workers N`` is uvicorn's supervisor (the *master*) and N worker
processes that share its listening socket; each worker also runs the team's
scheduled jobs (``server.jobs``). Killed with SIGKILL (``kill -9``, the OOM
killer, a container runtime), the master cannot stop its workers: they would
go on serving as orphans, holding the port (the next ``server run`` fails
with "Address already in use") and sweeping beside the next server.

So each worker follows its master (:func:`follow`, called as the worker builds
its app)::

    master dies ──> Linux: the kernel sends the worker SIGTERM at once (prctl PR_SET_PDEATHSIG)
        │           elsewhere: a thread polling os.getppid() every POLL_S sends it
        ▼
    SIGTERM: uvicorn's graceful stop: the listening socket closes at once (the port is
        │    free), requests in flight finish, the jobs stop (the app's lifespan)
        ▼
    still running GRACE_S later (a long poll, a stuck job): the thread ends the process
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger("ticketctl.server")

#: the master's process id, set by ``server run`` for its workers
ENV = "TICKETCTL_SERVER_MASTER"
POLL_S = 0.5
GRACE_S = 10.0
PR_SET_PDEATHSIG = 1


def follow(master: int) -> None:
    """Stop this process (SIGTERM, then for good after :data:`GRACE_S`) when ``master``
    is no longer its parent."""
    if sys.platform.startswith("linux"):
        _signal_on_parent_death(signal.SIGTERM)
    threading.Thread(target=_watch, args=(master,), name="ticketctl-lifeline", daemon=True).start()


def _signal_on_parent_death(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent exits; whether it took."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(master: int) -> None:
    while os.getppid() == master:
        time.sleep(POLL_S)
    # sent here too: the kernel sent nothing if the master died before prctl, or off Linux (a second
    # SIGTERM during uvicorn's graceful stop changes nothing)
    log.warning("the server's master process %s is gone: this worker stops", master)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    log.warning("this worker did not stop within %s s of its master: ending it", GRACE_S)
    os._exit(1)
