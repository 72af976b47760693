"""QA sampling of closed work (``report qa``): a reproducible random sample of
closed tickets, each checked for evidence completeness, time consistency and
the customer's confirmation (``core.evidence.qa_issues``).

Reproducible: the population is every closed ticket ordered by key, and the
sample is ``random.Random(seed).sample`` of ``ceil(rate x N)`` of them (at
least one when any exist), so the same seed over the same closed tickets picks
the same ones on any machine. Without ``--seed`` a seed is drawn and printed.

Recorded: each sampled ticket gets a ``ticket.qa_checked`` event with the run
id and its findings, in one mutation (``qa.record``), so the supervisor's
sample and its verdicts sync and stay on the tickets' timelines. The event is
a system event: it does not count as an update to the work.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from typing import Any

from typing_extensions import TypedDict  # one pydantic validates on Python 3.11 (the server checks a pushed qa.record)

from ticketctl.core import evidence
from ticketctl.errors import BadInput
from ticketctl.i18n import _
from ticketctl.services.env import Env
from ticketctl.services.mutations import mutation
from ticketctl.services.tickets import commit
from ticketctl.store.queries import keys_in_status


class QaResult(TypedDict):
    """One sampled ticket's findings as ``qa.record`` carries them (pydantic
    validates a pushed one by this, hence typing_extensions' TypedDict)."""

    key: str
    ok: bool
    issues: dict[str, list[str]]


def closed_keys(env: Env) -> list[str]:
    """Every closed ticket's key, in key order (the population)."""
    return keys_in_status(env.store, "closed")


def pick(keys: list[str], rate: float, seed: int) -> list[str]:
    """The sample of ``keys`` at ``rate`` with ``seed``, in key order (whatever order ``keys`` come in)."""
    if not keys:
        return []
    n = min(len(keys), max(1, math.ceil(rate * len(keys))))
    return sorted(random.Random(seed).sample(sorted(keys), n))


@mutation("qa.record", resolve_key=False)
def record(env: Env, run: str, seed: int, rate: float, results: list[QaResult]) -> dict[str, Any]:
    """Put each sampled ticket's findings on its timeline (``ticket.qa_checked``)."""
    st = env.mutation_store
    with st.transaction():
        for r in results:
            t = st.ticket(r["key"])
            commit(env, st, t, t.key, [("ticket.qa_checked", {"run": run, "seed": seed, "rate": rate, "ok": r["ok"],
                                                               "issues": r["issues"]})])
    return {"run": run, "tickets": len(results)}


def sample(env: Env, rate: float, seed: int | None = None) -> dict[str, Any]:
    """Draw and check a sample; returns the run (id, seed, population, sample
    size, pass count) and each ticket's findings by check."""
    if not 0 < rate <= 1:
        raise BadInput(_("--rate {rate:g} must be above 0 and at most 1 (0.05 is 5%)").format(rate=rate))
    seed = secrets.randbelow(2**31) if seed is None else seed
    population = closed_keys(env)
    chosen = pick(population, rate, seed)
    results: list[QaResult] = []
    for key in chosen:
        found = evidence.qa_issues(env.store.ticket(key), env.config)
        results.append({"key": key, "ok": not any(found.values()), "issues": found})
    run = uuid.uuid4().hex[:12]
    if results:
        record(env, run, seed, rate, results)
    return {"run": run, "seed": seed, "rate": rate, "closed": len(population), "sampled": len(results),
            "passed": sum(r["ok"] for r in results), "tickets": results}
