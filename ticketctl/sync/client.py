"""The sync client (httpx): push the outbox, pull the team's events.

One sync at a time per store: ``sync.lock`` beside the store is held (the
``filelock`` package: ``flock`` on POSIX, ``msvcrt.locking`` on Windows) for
the whole run, by the CLI, the dashboard and cron alike.

A run::

    hello ──> epoch changed? ──yes──> renumber unconfirmed work, snapshot
      │
    number the new outbox rows (client_seq) ──> PUT blobs they name
      │
    push in batches ──> results noted on the rows (kept until pulled)
      │
    share history written outside mutations (imports, demo) ──> recorded once by id
      │
    pull pages after the cursor ──> each page, its results and the new
                                    cursor in one local transaction

Nothing is lost on a crash or a dropped connection: numbering, results and
pages are each committed before the next step, and every step is safe to
repeat (the server answers a seen ``client_seq`` with its stored result).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ticketctl.errors import BadInput, Refused, TicketctlError, Unreachable
from ticketctl.home import atomic_write
from ticketctl.i18n import _
from ticketctl.services import signing
from ticketctl.services.env import Env
from ticketctl.sync import replica
from ticketctl.sync.protocol import BATCH_BYTES
from ticketctl.sync.replica import CURSOR, DEVICE, EPOCH, LAST_SYNC, NEXT_CLIENT_SEQ, ROLE

PUSH_BATCH = 500
PAGE = 5000
HISTORY_BATCH = 5000
#: meta key: ids of history events the server refused (a key another ticket holds), never offered again
HISTORY_REFUSED = "history_refused"
#: what a history upload reports as it goes: (events done, events in all)
Progress = Callable[[int, int], None]
LOCK_WAIT_S = 30.0


class ServerError(TicketctlError):
    """The server answered with an error that is not the user's to fix."""


def load_settings(env: Env) -> dict[str, str]:
    try:
        data = json.loads(env.home.sync_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(_("sync is not set up here: `ticketctl sync setup URL --token TOKEN` (the token comes from"
                         " `ticketctl server add-device` on the server)")) from None
    except (OSError, ValueError) as e:
        raise BadInput(_("{path}: cannot read the sync settings: {error}").format(path=env.home.sync_file, error=e)) from None
    return {"url": str(data["url"]), "token": str(data["token"])}


class Connection:
    """HTTP to the server, with the device's token; every failure to reach it
    becomes :class:`Unreachable` (exit 3), with the work still queued."""

    def __init__(self, url: str, token: str, timeout: float = 10.0):
        import httpx

        self.url = url
        self._httpx = httpx
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=httpx.Timeout(timeout, connect=3.0))

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, tries: int = 3, raw: bool = False, **kw: Any) -> Any:
        """The answer's JSON (``raw``: its body, as bytes)."""
        httpx = self._httpx
        for attempt in range(tries):
            try:
                r = self.http.request(method, path, **kw)
            except (httpx.TransportError, OSError) as e:
                if attempt + 1 < tries and not isinstance(e, httpx.ConnectError):
                    time.sleep(0.3 * (attempt + 1))
                    continue
                raise Unreachable(_("the sync server at {url} is unreachable ({error}); local work stays queued").format(
                    url=self.url, error=type(e).__name__)) from None
            if r.status_code >= 500:
                if attempt + 1 < tries:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise Unreachable(_("the sync server at {url} failed ({status}); local work stays queued").format(
                    url=self.url, status=r.status_code))
            if r.status_code in (401, 403):
                raise Refused(_("the server refused this device's token: {detail}").format(detail=_detail(r)))
            if r.status_code == 409:
                return r.json()
            if r.status_code >= 400:
                raise ServerError(_("the server rejected the request ({status}): {detail}").format(status=r.status_code, detail=_detail(r)))
            return r.content if raw else r.json()
        raise AssertionError("unreachable")


def _detail(r: Any) -> str:
    try:
        return str(r.json().get("detail"))
    except ValueError:
        return r.text[:200]


@contextmanager
def sync_lock(env: Env, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold this store's sync lock (waits up to ``wait_s`` for another sync;
    then Refused). The lock is the OS's on an open file, so a sync that dies
    releases it with its process."""
    from filelock import FileLock, Timeout  # only a sync takes the lock

    path = env.home.sync_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, mode=0o600)
    try:
        lock.acquire(timeout=wait_s, poll_interval=0.1)
    except Timeout:
        raise Refused(_("another sync has held this store for {seconds} s ({path}); try again").format(
            seconds=f"{wait_s:.0f}", path=path)) from None
    try:
        yield
    finally:
        lock.release()


def setup(env: Env, url: str, token: str) -> dict[str, Any]:
    """Remember the server and this device's token, and introduce the device."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise BadInput(_("{url!r} is not a server URL like http://127.0.0.1:8765").format(url=url))
    if not token.strip():
        raise BadInput(_("--token is empty"))
    conn = Connection(url, token.strip())
    try:
        me = _hello(env, conn)
    finally:
        conn.close()
    atomic_write(env.home.sync_file, json.dumps({"url": url, "token": token.strip()}).encode(), secret=True)  # the token
    os.chmod(env.home.sync_file, 0o600)
    return {"url": url, "device": me["device"], "role": me["role"], "prefix": env.store.meta("key_prefix")}


def _hello(env: Env, conn: Connection) -> dict[str, Any]:
    st = env.store
    body: dict[str, Any] = {"prefix": st.meta("key_prefix"), "public_key": signing.public_key_pem(env), "key_id": signing.key_id(env)}
    me = conn.call("POST", "/sync/hello", json=body)
    trust_keys(env, conn)
    with st.transaction():
        st.set_meta(ROLE, me["role"])
        st.set_meta(DEVICE, me["device"])
        if me.get("prefix") and me["prefix"] != st.meta("key_prefix") and st.meta("next_ticket_no") == "1" \
                and st.meta("next_article_no", "1") == "1":
            st.set_meta("key_prefix", me["prefix"])  # nothing made here yet: take the prefix the server keeps for us
        elif me.get("prefix") and me["prefix"] != st.meta("key_prefix") and env.notice is not None:
            env.notice(_("the server keeps key prefix {server} for this device, but this store already made keys as {mine}:"
                         " the server refuses those it has not seen").format(server=me["prefix"], mine=st.meta("key_prefix")))
    return dict(me)


def trust_keys(env: Env, conn: Connection) -> None:
    """Trust the keys of the team's enrolled devices and of the server (and
    record revocations), so `cert verify` works offline afterwards. A key that
    fails ``signing.key_problem`` is skipped with a notice naming its device: one
    bad key never stops this device's sync."""
    have = signing.trusted(env)
    listed = conn.call("GET", "/sync/keys").get("keys")
    for kid, k in (listed if isinstance(listed, dict) else {}).items():
        entry = {"pem": k.get("pem"), "device": k.get("device"), "revoked_at": k.get("revoked_at")} if isinstance(k, dict) else {}
        problem = signing.key_problem(entry.get("pem"), kid) if entry else "not a key entry"
        if problem is not None or not isinstance(entry["device"], str) or not isinstance(entry["revoked_at"], str | None):
            if env.notice is not None:
                env.notice(_("skipped the signing key {key_id} of device {device}: {problem}").format(
                    key_id=str(kid)[:64], device=str(entry.get("device"))[:200], problem=problem or _("malformed entry")))
            continue
        if have.get(kid) != entry:
            signing.trust(env, kid, str(entry["pem"]), entry["device"], entry["revoked_at"])


def sync(env: Env, progress: Progress | None = None) -> dict[str, Any]:
    """Push then pull, once. Returns ``pushed``, ``pulled``, ``rejected`` (this
    run's refusals with reasons), ``pending``, ``cursor`` and ``history``
    (``shared``, ``duplicates``, ``refused``: this run's upload of imported
    history; ``progress`` follows it)."""
    s = load_settings(env)
    with sync_lock(env):
        conn = Connection(s["url"], s["token"])
        try:
            return _run(env, conn, progress)
        finally:
            conn.close()


def _run(env: Env, conn: Connection, progress: Progress | None = None) -> dict[str, Any]:
    st, cfg = env.store, env.config
    me = _hello(env, conn)
    bootstrapped = False
    if st.meta(EPOCH, "") != me["epoch"]:
        _renumber(env, int(me["last_client_seq"]) + 1)
        try:  # the body as it came: SQLite reads it, each ticket's text becomes its base
            replica.apply_snapshot(st, cfg, conn.call("GET", "/sync/snapshot", raw=True))
        except replica.BadSnapshot as e:
            raise ServerError(_("the server's snapshot cannot be read: {error}").format(error=e)) from None
        bootstrapped = True
    elif st.meta(NEXT_CLIENT_SEQ, "") == "":
        _renumber(env, int(me["last_client_seq"]) + 1)
    _number(env)
    _upload_blobs(env, conn)
    shared = _share_history(env, conn, me["role"], progress)  # first: the cursor may still stand just before its numbers
    pushed, rejected = _push(env, conn)
    pulled = 0
    while True:
        page = conn.call("GET", "/sync/pull", params={"after": int(st.meta(CURSOR, "0")), "limit": PAGE})
        if page["epoch"] != me["epoch"]:
            raise Unreachable(_("the server was restored from a backup during this sync; run `ticketctl sync` again"))
        new, refused = replica.apply_page(st, cfg, page)
        pulled += new
        rejected += [r for r in refused if r["mutation_id"] not in {x["mutation_id"] for x in rejected}]
        if not page["more"]:
            break
    with st.transaction():
        st.set_meta(LAST_SYNC, datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    out = status(env)
    return {"pushed": pushed, "pulled": pulled, "bootstrapped": bootstrapped,
            "rejected": [_rejected_view(env, r) for r in rejected], "pending": out["pending"], "cursor": int(st.meta(CURSOR)),
            "history": shared}


def unshared_history(env: Env) -> int:
    """How many events an import (or ``demo``) wrote here that the team does not have yet."""
    refused = set(json.loads(env.store.meta(HISTORY_REFUSED, "[]")))
    return sum(1 for i in env.store.outbox.unshared_history_ids() if i not in refused)


def _share_history(env: Env, conn: Connection, role: str, progress: Progress | None) -> dict[str, Any]:
    """Upload the history written here outside mutations (``server.history``), in
    batches; the pull that follows confirms it. Technicians' devices keep theirs."""
    st = env.store
    out: dict[str, Any] = {"shared": 0, "duplicates": 0, "refused": {}, "kept": 0}
    if not st.outbox.has_unshared_history():
        return out
    if role not in ("dispatcher", "supervisor", "admin"):
        out["kept"] = unshared_history(env)
        return out
    refused = set(json.loads(st.meta(HISTORY_REFUSED, "[]")))
    total = unshared_history(env)
    after = done = 0
    while True:
        rows = _packed(st.outbox.unshared_history(after, HISTORY_BATCH), lambda r: len(r[5]))
        if not rows:
            break
        after = rows[-1][0]
        batch = [{"id": i, "mutation_id": m, "ticket": t, "type": ty, "payload": json.loads(p), "actor": a, "device": d, "at": at}
                 for _seq, i, m, t, ty, p, a, d, at in rows if i not in refused]
        if not batch:
            continue
        reply = conn.call("POST", "/sync/history", json={"events": batch})
        out["shared"] += int(reply["accepted"])
        out["duplicates"] += int(reply["duplicates"])
        with st.transaction():
            # confirmed at once, in the server's numbers; when nothing else was numbered since this store's
            # last pull, the cursor moves past them too, and the pull does not bring this history back
            st.mirror.confirm_events([(seq, eid) for eid, seq in reply["seqs"].items()])
            first, last = reply["first"], reply["last"]
            if first is not None and int(st.meta(CURSOR, "0")) == first - 1 and last - first + 1 == reply["accepted"]:
                st.set_meta(CURSOR, str(last))
            if reply["refused"]:
                out["refused"].update(reply["refused"])
                refused |= set(reply["refused"])
                st.set_meta(HISTORY_REFUSED, json.dumps(sorted(refused)))
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return out


def _renumber(env: Env, start: int) -> None:
    """Number every unconfirmed mutation again from ``start`` (a new server,
    or a server restored from a backup: it answers those it already has by
    their mutation id)."""
    st = env.store
    with st.transaction():
        st.outbox.renumber_unconfirmed()
        st.set_meta(NEXT_CLIENT_SEQ, str(start))


def _number(env: Env) -> None:
    """Give the new outbox rows their push order (committed before sending)."""
    st = env.store
    with st.transaction():
        first = int(st.meta(NEXT_CLIENT_SEQ, "1"))
        n = st.outbox.number_pending(first)
        if n:
            st.set_meta(NEXT_CLIENT_SEQ, str(first + n))


def _upload_blobs(env: Env, conn: Connection) -> None:
    """Evidence files named by unconfirmed mutations (``sha256`` argument) go
    up first, so the server never holds a mutation without its file."""
    from ticketctl.services.evidence import blob_path

    for args in env.store.outbox.blob_args():
        for sha in _hashes(args):
            if blob_path(env, sha).is_file():
                conn.call("PUT", f"/blobs/{sha}", content=blob_path(env, sha).read_bytes())


def _hashes(value: Any) -> list[str]:
    """Every ``sha256`` named in a mutation's arguments, at any depth (an
    evidence file; the attachments of an approval request)."""
    if isinstance(value, dict):
        own = [value["sha256"]] if isinstance(value.get("sha256"), str) else []
        return own + [h for k, v in value.items() if k != "sha256" for h in _hashes(v)]
    if isinstance(value, list):
        return [h for v in value for h in _hashes(v)]
    return []


def _packed(rows: list[Any], size: Callable[[Any], int]) -> list[Any]:
    """The first of ``rows`` (at least one) whose JSON fits one request of
    ``protocol.BATCH_BYTES`` (``size``: a row's JSON text; 300 bytes more for
    the fields around it), so that no batch meets the server's body limit."""
    out: list[Any] = []
    total = 0
    for row in rows:
        total += size(row) + 300
        if out and total > BATCH_BYTES:
            break
        out.append(row)
    return out


def _push(env: Env, conn: Connection) -> tuple[int, list[dict[str, Any]]]:
    st = env.store
    pushed = 0
    rejected: list[dict[str, Any]] = []
    after = gaps = 0
    while True:
        rows = _packed(st.outbox.to_push(after, PUSH_BATCH), lambda r: len(r[3]))
        if not rows:
            return pushed, rejected
        body = {"mutations": [{"mutation_id": m, "client_seq": c, "name": n, "args": json.loads(a), "client_ts": at}
                              for m, c, n, a, at in rows]}
        reply = conn.call("POST", "/sync/push", json=body)
        with st.transaction():
            st.outbox.note_results(reply["results"])
            for r in reply["results"]:
                if not r.get("duplicate"):
                    pushed += 1
                if r["status"] == "rejected":
                    rejected.append(r)
        if "expected" in reply:  # a gap: the server has everything before `expected`
            expected = int(reply["expected"])
            gaps += 1
            if gaps > 3:
                raise ServerError(_("the server keeps asking for client_seq {seq}; `ticketctl sync status` shows what is queued").format(
                    seq=expected))
            if not st.outbox.has_sent(expected):  # the server lost what we numbered (restored): number the unconfirmed work again
                _renumber(env, expected)
                _number(env)
            after = expected - 1
            continue
        after = rows[-1][1]


def _rejected_view(env: Env, r: dict[str, Any]) -> dict[str, Any]:
    row = env.store.outbox.of_mutation(r["mutation_id"])
    args = row[2] if row else {}
    return {"id": row[0] if row else None, "name": r["name"], "key": args.get("key") or args.get("ticket"), "reason": r["reason"],
            "args": args}


def status(env: Env) -> dict[str, Any]:
    """Pending and rejected changes, with the server's reasons."""
    st = env.store
    pending, rejected = [], []
    for rid, mid, name, a, at, actor, cseq, state, reason in st.outbox.unsettled():
        item = {"id": rid, "mutation_id": mid, "name": name, "key": a.get("key") or a.get("ticket"), "args": a, "at": at,
                "actor": actor, "client_seq": cseq, "status": state}
        if state == "rejected":
            rejected.append({**item, "reason": reason})
        else:
            pending.append(item)
    url = None
    if env.home.sync_file.exists():
        url = load_settings(env)["url"]
    return {"url": url, "device": st.meta(DEVICE, "") or None, "role": st.meta(ROLE, "") or None,
            "last_sync": st.meta(LAST_SYNC, "") or None, "cursor": int(st.meta(CURSOR, "0")), "pending": pending,
            "rejected": rejected}


def _row(env: Env, rid: int) -> tuple[str, str, dict[str, Any], str]:
    row = env.store.outbox.row(rid)
    if row is None:
        raise BadInput(_("no queued change {id} (see `ticketctl sync status`)").format(id=rid))
    return row


def retry(env: Env, rid: int) -> dict[str, Any]:
    """Run a rejected change again here, as a new mutation (it goes out on the
    next sync); the rejected one is then dropped."""
    from ticketctl.services.mutations import REGISTRY

    mid, name, args, state = _row(env, rid)
    if state != "rejected":
        raise Refused(_("change {id} was not rejected (it is {state}); it goes out with the next sync").format(id=rid, state=state))
    fn = REGISTRY.get(name)
    if fn is None:
        raise Refused(_("change {id} is a {name!r}, which this ticketctl cannot run").format(id=rid, name=name))
    result = fn(env, **args)
    with env.store.transaction():
        env.store.outbox.remove(rid)
    return {"retried": rid, "name": name, "result": result}


def discard(env: Env, rid: int) -> dict[str, Any]:
    """Drop a rejected change, or one not yet sent (its local effect is undone)."""
    mid, name, _args, state = _row(env, rid)
    if state not in ("rejected", "pending"):
        raise Refused(_("change {id} is already with the server ({state}); sync first, then discard it if it is rejected").format(
            id=rid, state=state))
    st = env.store
    with st.transaction():
        targets = replica.pending_targets(st, [mid])
        st.outbox.discard(rid, mid)
        replica.refold(st, env.config, *targets)
    return {"discarded": rid, "name": name}


def watch(env: Env, on_result: Any, poke_s: float = 2.0) -> None:
    """Sync, then sleep on the server's poke (a long poll) or local changes,
    and sync again; until interrupted. Unreachable servers are retried with
    backoff."""
    s = load_settings(env)
    conn = Connection(s["url"], s["token"], timeout=poke_s + 10)
    backoff = 1.0
    try:
        while True:
            try:
                with sync_lock(env):
                    on_result(_run(env, conn))
                backoff = 1.0
                while True:
                    if env.store.outbox.count_pending():
                        break
                    page = conn.call("GET", "/sync/pull", params={"after": int(env.store.meta(CURSOR, "0")), "limit": 1,
                                                                  "wait": poke_s})
                    if page["events"] or page["results"] or page["cursor"] > int(env.store.meta(CURSOR, "0")):
                        break
            except Unreachable as e:
                on_result({"error": str(e)})
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
    finally:
        conn.close()
