"""The sync protocol's routes (``docs/sync.md``): each parses, calls one
function of ``server.push`` or ``server.store.log``, and answers.

- ``POST /sync/hello``: who am I (role, prefix, last client seq, epoch).
- ``POST /sync/push``: mutations in ``client_seq`` order (``server.push``).
- ``GET /sync/pull?after=N``: events after N, and this device's results, in
  pages; ``wait=S`` holds the request up to S seconds until there is something
  (the "poke" that ``sync --watch`` sleeps on), awaiting ``server.poke`` without
  holding a thread.
- ``GET /sync/snapshot``: the projections as of one sequence number.
- ``GET /sync/keys``: the public keys devices verify certificates with.
- ``POST /sync/history``: events written outside any mutation (imports).
- ``PUT /blobs/{sha256}``, ``GET /blobs/{sha256}``: evidence files.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ticketctl.errors import BadInput, Refused
from ticketctl.server import countersign, push
from ticketctl.server.auth import Auth
from ticketctl.server.context import Ctx
from ticketctl.server.store import blobs, log
from ticketctl.sync.bodies import Hello, History, Push
from ticketctl.sync.protocol import MAX_PAGE

router = APIRouter()


@router.get("/health")
def health(server: Ctx) -> dict[str, Any]:
    """Liveness, and the epoch a client compares with its own."""
    return {"ok": True, "epoch": server.epoch}


@router.post("/sync/hello")
def hello(server: Ctx, body: Hello, dev: Auth) -> dict[str, Any]:
    """Registers the device's key prefix (a free one when it asks for none or
    for one that another device holds) and its signing key (422 unless it is an
    Ed25519 key in PEM, ``key_id`` is its own id and no other device enrolled it);
    returns ``device``, ``role``, ``prefix``, ``last_client_seq``, ``seq``, ``epoch``."""
    try:
        return push.hello(server, dev, body)
    except BadInput as e:
        raise HTTPException(422, str(e)) from None


@router.post("/sync/push", responses={409: {"description": "a gap in client_seq: resend from `expected`"}})
def push_mutations(server: Ctx, body: Push, dev: Auth) -> JSONResponse:
    """Runs each mutation; returns ``results`` (``client_seq``, ``mutation_id``,
    ``status`` applied|rejected, ``reason``, ``seq``), ``last_client_seq`` and ``epoch``."""
    reply, gap = push.push(server, dev, body.mutations)
    if gap is not None:
        return JSONResponse({**reply, "detail": f"client_seq gap: expected {gap}", "expected": gap}, status_code=409)
    return JSONResponse(reply)


@router.post("/sync/history")
def upload_history(server: Ctx, body: History, dev: Auth) -> dict[str, Any]:
    """Events this device wrote outside any mutation (an import, ``demo``), recorded
    as facts (``server.history``): ``accepted``, ``duplicates`` (ids the server has),
    ``refused`` ({event id: reason}), ``seqs`` ({event id: seq} of the accepted, numbered
    ``first`` .. ``last`` without a gap), ``seq``. For dispatchers, supervisors and admins."""
    try:
        return push.share_history(server, dev, body.events)
    except Refused as e:
        raise HTTPException(403, str(e)) from None


@router.get("/sync/pull")
async def pull(server: Ctx, dev: Auth, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
         limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 2000,
         wait: Annotated[float, Query(ge=0, le=60)] = 0) -> Response:
    """Events with ``seq > after`` and this device's results, in sequence
    order: ``events``, ``results``, ``cursor`` (where the next pull starts),
    ``more`` (another page is ready), ``epoch``."""
    await server.waker.wait_past(after, wait)
    page = await run_in_threadpool(log.page, server.engine, server.epoch, dev.name, dev.role, after, limit)
    return Response(page, media_type="application/json")


@router.get("/sync/snapshot")
def snapshot(server: Ctx, dev: Auth) -> Response:
    """The projections as of ``seq``: ``articles`` (``core.kb``), ``delegations``
    (``core.approvals``), ``tickets`` and ``technicians`` (the fields of
    ``core.model``), ``seq``, ``epoch``. A new client starts here
    and pulls after ``seq``."""
    return Response(log.snapshot(server.engine, server.epoch, dev.role), media_type="application/json")


@router.get("/sync/keys")
def device_keys(server: Ctx, dev: Auth) -> dict[str, Any]:
    """The public keys of enrolled devices and of the server (``keys``: key id ->
    {pem, device, revoked_at}), which devices trust to verify certificates."""
    with server.engine.begin() as c:
        return {"epoch": server.epoch, "keys": countersign.device_keys(c)}


def _sha256_name(sha256: str) -> None:
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise HTTPException(422, "the name must be a lowercase hex SHA-256")


@router.put("/blobs/{sha256}", status_code=201)
async def put_blob(server: Ctx, sha256: str, request: Request, dev: Auth) -> dict[str, Any]:
    """Stores an evidence file under its SHA-256 (idempotent; the hash is checked as the
    body arrives, at most ``limits.BLOB_MAX`` bytes)."""
    _sha256_name(sha256)
    # hashed as it streams in and kept in a temporary file past 1 MiB: the file is in memory
    # once, while it is written to the database, and not at all when the server has it already
    with tempfile.SpooledTemporaryFile(max_size=2**20) as f:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            f.write(chunk)
            size += len(chunk)
        if digest.hexdigest() != sha256:
            raise HTTPException(422, "the content does not match its SHA-256")
        await run_in_threadpool(blobs.put, server.engine, sha256, f, size)
    return {"sha256": sha256, "size": size}


@router.get("/blobs/{sha256}")
def get_blob(server: Ctx, sha256: str, dev: Auth) -> Response:
    """An evidence file by its SHA-256."""
    _sha256_name(sha256)
    data = blobs.get(server.engine, sha256)
    if data is None:
        raise HTTPException(404, "no such blob")
    return Response(data, media_type="application/octet-stream")
