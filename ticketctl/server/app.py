"""The central server: FastAPI over the server database (``serverdb``).

Stateless apart from the database, so several workers (``--workers N``) can
serve one database. Every request names its device with ``Authorization:
Bearer TOKEN``; a missing or unknown token is 401, a revoked one 403, and
neither ever gets data.

Endpoints (``/openapi.json`` has the schema):

- ``POST /sync/hello``: who am I (role, prefix, last client seq, epoch).
- ``POST /sync/push``: mutations in ``client_seq`` order, each re-run by name
  (``services.mutations.perform``: resolved, judged by ``core.roles``), all or nothing; the batch commits
  together. A seen ``client_seq`` or ``mutation_id`` gets its stored result; a
  gap stops the batch with 409; a refusal is stored as a rejection (and
  advances the device's seq) so a poison mutation never blocks the queue.
- ``GET /sync/pull?after=N``: events after N, and this device's results, in
  pages; ``wait=S`` holds the request up to S seconds until there is something
  (the "poke" that ``sync --watch`` sleeps on).
- ``GET /sync/snapshot``: the projections as of one sequence number.
- ``POST /sync/history``: events written outside any mutation (imports),
  recorded once by id (``server.history``).
- ``PUT /blobs/{sha256}``: evidence files, idempotent, checked against the hash.
- ``GET /kb``, ``/kb/{id}``, ``/kb.json``: the published knowledge articles, for
  customers (no token), ``server.web.kb``.
- ``POST /intake/alertmanager``, ``/intake/webhook/{name}``, ``/intake/mail``: work
  arriving by itself, each source writing as its own device (``server.intake.doors``).
"""


import hashlib
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi import Path as Path_
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from ticketctl import i18n
from ticketctl.core import kbtext, roles
from ticketctl.core.config import Config
from ticketctl.core.model import parse_time
from ticketctl.errors import TicketctlError
from ticketctl.home import Home, load_config
from ticketctl.server import history, jobs
from ticketctl.server import schema as S
from ticketctl.server.intake import doors as intake
from ticketctl.server.limits import BodyLimit, known_tokens, route_limits
from ticketctl.server.store import (
    ServerStore,
    engine_for,
    high_water,
    lock_sequence,
    migrate,
    now_iso,
    token_hash,
)
from ticketctl.server.web import form as webform
from ticketctl.server.web import kb as kbpages
from ticketctl.server.web import proof
from ticketctl.services import keys
from ticketctl.services.env import Env
from ticketctl.services.mutations import intent, load_mutations, prepare
from ticketctl.sync.bodies import Hello, History, Push
from ticketctl.sync.protocol import MAX_PAGE

log = logging.getLogger("ticketctl.server")


class Device:
    def __init__(self, row: Any):
        self.name: str = row["name"]
        self.role: str = row["role"]
        self.prefix: str = row["prefix"] or ""
        self.last_client_seq: int = int(row["last_client_seq"])
        self.public_key: str | None = row["public_key"]


def server_env(home: Home, cfg: Config, st: ServerStore, actor: str, now: datetime, role: str = "") -> Env:
    """The context a mutation runs in on the server: the team's config, the
    device's name as the actor and its role (which ``core.roles`` judges it by;
    '' for the server's own doors and pages), and the server's transaction as the store."""
    env = Env(home, {}, queue_mutations=False, device_role=role)
    env.__dict__.update(config=cfg, store=st, actor=actor, now=now)
    return env


def create_app(db_url: str | None = None, home: Home | None = None, lang: str | None = None,
               run_jobs: dict[str, Any] | None = None) -> FastAPI:
    """The server app on ``db_url`` (default: ``TICKETCTL_SERVER_DB``, else the
    SQLite file in the ticketctl home); the team's rules come from that home's
    config file.

    Language: the customer's pages (``/c/...``, ``/v/...``) speak the browser's
    (``Accept-Language``), else ``lang`` (default: the home's, chosen as for any
    command). Everything else stays English, so this process speaks English from
    here on: refusal reasons are data (stored, synced to every device) and JSON
    is a contract with scripts.

    ``run_jobs`` (default: ``TICKETCTL_SERVER_JOBS``, set by ``server run``):
    ``url``, ``sweep_every``, ``dispatch_every``: this worker takes its share of
    the team's scheduled work (``server.jobs``) while it serves."""
    home = home or Home.from_env()
    page_lang = lang or i18n.choose(home.lang(), os.environ)
    i18n.use(i18n.LANGUAGES[0])
    db_url = db_url or os.environ.get("TICKETCTL_SERVER_DB") or f"sqlite:///{home.server_db}"
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(db_url)
    epoch = migrate(engine)
    with engine.begin() as c:  # the countersigning key exists (committed) before any request needs it
        lock_sequence(c)  # workers starting together: the first makes the key, the others read it
        proof.server_key(c)
    cfg = load_config(home.config_file)
    load_mutations()
    run_jobs = run_jobs if run_jobs is not None else jobs.settings_from_env()
    worker = jobs.Jobs(engine, home, cfg, run_jobs["url"], float(run_jobs.get("sweep_every") or 0),
                       float(run_jobs.get("dispatch_every") or 0)) if run_jobs else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(title="ticketctl sync server", version="1", lifespan=lifespan,
                  description="The team's central store: named mutations pushed by devices, events pulled in order.")
    app.state.engine, app.state.epoch, app.state.config, app.state.home = engine, epoch, cfg, home
    app.state.lang = page_lang
    app.state.jobs = worker

    def html_page(body: str, lang: str, status_code: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status_code,
                            headers={"Content-Language": lang.replace("_", "-"), "Vary": "Accept-Language"})

    AcceptLanguage = Annotated[str | None, Header(description="The customer's languages: the page speaks the first it can")]

    def device(authorization: Annotated[str | None, Header()] = None) -> Device:
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        with engine.connect() as c:
            row = c.execute(select(S.devices).where(S.devices.c.token_hash == token_hash(authorization[7:].strip()))).mappings().first()
        if row is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        if row["revoked_at"]:
            raise HTTPException(403, f"device {row['name']} was revoked at {row['revoked_at']}")
        if row["role"] == "intake":
            raise HTTPException(403, f"{row['name']} is an intake source: its token opens only its door (/intake/...)")
        return Device(row)

    Auth = Annotated[Device, Depends(device)]

    @app.exception_handler(DBAPIError)
    def _db_down(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Liveness, and the epoch a client compares with its own."""
        return {"ok": True, "epoch": epoch}

    @app.post("/sync/hello")
    def hello(body: Hello, dev: Auth) -> dict[str, Any]:
        """Registers the device's key prefix (a free one when it asks for none or
        for one that another device holds) and its signing key (422 unless it is an
        Ed25519 key in PEM, ``key_id`` is its own id and no other device enrolled it);
        returns ``device``, ``role``, ``prefix``, ``last_client_seq``, ``seq``, ``epoch``."""
        with engine.begin() as c:
            prefix = dev.prefix
            if not prefix:
                lock_sequence(c)  # two first hellos asking for one prefix: one after the other
                prefix = _free_prefix(c, body.prefix)
                c.execute(update(S.devices).where(S.devices.c.name == dev.name).values(prefix=prefix))
            if body.public_key and body.public_key != dev.public_key:  # no write (and no write lock) on every sync
                problem = keys.key_problem(body.public_key, body.key_id)
                if problem is None:
                    holder = c.execute(select(S.devices.c.name).where(S.devices.c.key_id == body.key_id,
                                                                      S.devices.c.name != dev.name)).scalar()
                    if holder is not None:
                        problem = (f"signing key {body.key_id} is enrolled by device {holder}: a device needs a key of its own"
                                   " (move this device's key file away and sync again to make one)")
                if problem is not None:
                    raise HTTPException(422, f"signing key refused: {problem}")
                c.execute(update(S.devices).where(S.devices.c.name == dev.name).values(public_key=body.public_key, key_id=body.key_id))
            seq = high_water(c)
        return {"epoch": epoch, "device": dev.name, "role": dev.role, "prefix": prefix,
                "last_client_seq": dev.last_client_seq, "seq": seq}

    def _free_prefix(c: Connection, wanted: str) -> str:
        """``wanted`` when no device holds it, else a free three-letter one."""
        import secrets

        from ticketctl.store.db import KEY_LETTERS

        taken = {str(p) for (p,) in c.execute(select(S.devices.c.prefix).where(S.devices.c.prefix.is_not(None)))}
        while not wanted or wanted in taken:
            wanted = "".join(secrets.choice(KEY_LETTERS) for _i in range(3))
        return wanted

    @app.post("/sync/push", responses={409: {"description": "a gap in client_seq: resend from `expected`"}})
    def push(body: Push, dev: Auth) -> JSONResponse:
        """Runs each mutation; returns ``results`` (``client_seq``, ``mutation_id``,
        ``status`` applied|rejected, ``reason``, ``seq``), ``last_client_seq`` and ``epoch``."""
        out: list[dict[str, Any]] = []
        gap: int | None = None
        with engine.begin() as c:
            lock_sequence(c)
            st = ServerStore(c, dev.name, dev.prefix)
            last = int(c.execute(select(S.devices.c.last_client_seq).where(S.devices.c.name == dev.name)).scalar_one())
            seen = _seen(c, dev.name, body.mutations)
            rows: list[dict[str, Any]] = []
            for m in body.mutations:
                had = seen.get(("seq", m.client_seq)) or seen.get(("id", m.mutation_id))
                if had is not None:
                    out.append(_result(had, duplicate=True))
                    if m.client_seq == last + 1:  # re-sent under a new number after a restore (new epoch)
                        last = m.client_seq
                    continue
                if m.client_seq != last + 1:
                    gap = last + 1
                    break
                row = _run(c, st, dev, m.model_dump())
                rows.append(row)
                out.append(_result(row))
                last = m.client_seq
            if rows:
                c.execute(insert(S.results), rows)
            jobs.enqueue(c, cfg, st.escalations())
            st.flush()
            c.execute(update(S.devices).where(S.devices.c.name == dev.name).values(last_client_seq=last))
        body_out = {"epoch": epoch, "results": out, "last_client_seq": last}
        if gap is not None:
            return JSONResponse({**body_out, "detail": f"client_seq gap: expected {gap}", "expected": gap}, status_code=409)
        return JSONResponse(body_out)

    @app.post("/sync/history")
    def upload_history(body: History, dev: Auth) -> dict[str, Any]:
        """Events this device wrote outside any mutation (an import, ``demo``), recorded
        as facts (``server.history``): ``accepted``, ``duplicates`` (ids the server has),
        ``refused`` ({event id: reason}), ``seqs`` ({event id: seq} of the accepted, numbered
        ``first`` .. ``last`` without a gap), ``seq``. For dispatchers, supervisors and admins."""
        if dev.role not in ("dispatcher", "supervisor", "admin"):
            raise HTTPException(403, f"a {dev.role} may not share imported history: only dispatchers, supervisors and admins")
        with engine.begin() as c:
            lock_sequence(c)
            st = ServerStore(c, dev.name, dev.prefix)
            out = history.record(st, cfg, body.events)
            st.flush()
            return {**out, "seq": st.seq, "epoch": epoch}

    def _seen(c: Connection, device: str, ms: list[Any]) -> dict[tuple[str, Any], Any]:
        """Stored results of this batch's mutations (by client seq and by id): one query."""
        if not ms:
            return {}
        lo, hi = min(m.client_seq for m in ms), max(m.client_seq for m in ms)
        ids = [m.mutation_id for m in ms]
        q = select(S.results).where(S.results.c.device == device,
                                    S.results.c.client_seq.between(lo, hi) | S.results.c.mutation_id.in_(ids))
        out: dict[tuple[str, Any], Any] = {}
        for r in c.execute(q).mappings():
            out[("seq", int(r["client_seq"]))] = r
            out[("id", r["mutation_id"])] = r
        return out

    def _run(c: Connection, st: ServerStore, dev: Device, m: dict[str, Any]) -> dict[str, Any]:
        """One mutation, all or nothing (its writes are buffered in ``st`` until the
        batch is flushed; a refusal drops them); returns its result row, which
        takes the next sequence number."""
        status, reason = "applied", None
        mark = st.mark()
        try:
            env = server_env(home, cfg, st, dev.name, _when(m["client_ts"]), dev.role)
            call = prepare(env, m["name"], m["args"], check=True)
            with intent(env, call.name, call.args, m["mutation_id"]):
                call.run(env)
                if call.name == "ticket.certify":
                    proof.countersign(c, env, dev.name, call.args)
        except TicketctlError as e:
            st.restore(mark)
            status, reason = "rejected", str(e)
        except (TypeError, ValueError, KeyError, AttributeError, DataError, IntegrityError, StatementError) as e:
            # arguments this server cannot read or store: refused, never a stuck queue
            if isinstance(e, DBAPIError) and not isinstance(e, DataError | IntegrityError):
                raise
            st.restore(mark)
            log.warning("mutation %s from %s malformed: %r", m["name"], dev.name, e)
            status, reason = "rejected", f"malformed {m['name']}: {type(e).__name__}: {e}"
        seq = st.take_counter("next_device_seq")
        return {"seq": seq, "device": dev.name, "client_seq": m["client_seq"], "mutation_id": m["mutation_id"], "name": m["name"],
                "status": status, "reason": reason, "at": now_iso()}

    @app.get("/sync/pull")
    def pull(dev: Auth, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
             limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 2000,
             wait: Annotated[float, Query(ge=0, le=60)] = 0) -> Response:
        """Events with ``seq > after`` and this device's results, in sequence
        order: ``events``, ``results``, ``cursor`` (where the next pull starts),
        ``more`` (another page is ready), ``epoch``."""
        deadline = time.monotonic() + wait
        while True:
            with engine.connect() as c:
                if high_water(c) > after or time.monotonic() >= deadline:
                    return _page(c, dev, after, limit)
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _page(c: Connection, dev: Device, after: int, limit: int) -> Response:
        seqs = sorted([r[0] for r in c.execute(select(S.events.c.seq).where(S.events.c.seq > after).order_by(S.events.c.seq).limit(limit))]
                      + [r[0] for r in c.execute(select(S.results.c.seq).where(S.results.c.seq > after)
                                                 .order_by(S.results.c.seq).limit(limit))])[:limit]
        upto = seqs[-1] if seqs else after
        rows = c.execute(select(S.events).where(S.events.c.seq > after, S.events.c.seq <= upto).order_by(S.events.c.seq)).mappings()
        res = [_result(r) for r in c.execute(select(S.results).where(
            S.results.c.device == dev.name, S.results.c.seq > after, S.results.c.seq <= upto).order_by(S.results.c.seq)).mappings()]
        # the events written out as JSON text around their stored payload (a page of 5,000 events is the
        # bulk of a large pull; decoding and re-encoding each payload cost more than the query)
        events = ",".join(_event_json(r, dev.role) for r in rows)
        body = (f'{{"epoch":{json.dumps(epoch)},"events":[{events}],"results":{json.dumps(res, separators=(",", ":"))},'
                f'"cursor":{upto},"more":{"true" if len(seqs) >= limit else "false"}}}')
        return Response(body, media_type="application/json")

    @app.get("/sync/snapshot")
    def snapshot(dev: Auth) -> Response:
        """The projections as of ``seq``: ``articles`` (``core.kb``), ``delegations``
        (``core.approvals``), ``tickets`` and ``technicians`` (the fields of
        ``core.model``), ``seq``, ``epoch``. A new client starts here
        and pulls after ``seq``."""
        with engine.connect() as c:
            if engine.dialect.name == "postgresql":
                c.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            else:
                c.exec_driver_sql("BEGIN")  # one read snapshot of the WAL for all three queries
            seq = high_water(c)
            rows = [r[0] for r in c.execute(select(S.tickets.c.data).order_by(S.tickets.c.key))]
            techs = [r[0] for r in c.execute(select(S.technicians.c.data).order_by(S.technicians.c.name))]
            arts = [r[0] for r in c.execute(select(S.articles.c.data).order_by(S.articles.c.id))]
            dlgs = [r[0] for r in c.execute(select(S.delegations.c.data).order_by(S.delegations.c.name))]
        body = (f'{{"epoch":{json.dumps(epoch)},"seq":{seq},"articles":[' + ",".join(arts) + '],"delegations":['
                + ",".join(dlgs) + '],"tickets":[' + roles.redact_json(",".join(rows), dev.role)
                + '],"technicians":[' + ",".join(techs) + "]}")
        return Response(body, media_type="application/json")

    @app.get("/sync/keys")
    def device_keys(dev: Auth) -> dict[str, Any]:
        """The public keys of enrolled devices and of the server (``keys``: key id ->
        {pem, device, revoked_at}), which devices trust to verify certificates."""
        with engine.begin() as c:
            return {"epoch": epoch, "keys": proof.device_keys(c)}

    def _read_env(c: Connection, actor: str) -> Env:
        return server_env(home, cfg, ServerStore(c, actor), actor, parse_time(now_iso()))

    @app.get("/c/{token}", response_class=HTMLResponse, tags=["public pages"])
    def confirm_page(token: str, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The customer's confirmation form (the link the technician's QR code opens; no token needed)."""
        from ticketctl.services import confirm

        lang = proof.page_language(accept_language, page_lang)
        with engine.connect() as c:
            try:
                status = confirm.link_status(_read_env(c, "customer"), token)
            except TicketctlError as e:
                return html_page(proof.not_valid_page(str(e), lang), lang, 404)
        return html_page(proof.confirm_form(token, status, lang), lang)

    @app.post("/c/{token}", response_class=HTMLResponse, tags=["public pages"])
    async def confirm_submit(token: str, request: Request, accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The customer's answer: three ratings (``rating`` x3), ``comment``, ``by``
        (form-encoded). Recorded once; the technician sees it on the next sync."""
        body = await request.body()
        return await run_in_threadpool(_confirm, token, body, proof.page_language(accept_language, page_lang))

    def _confirm(token: str, body: bytes, lang: str) -> HTMLResponse:
        from ticketctl.services import confirm

        try:
            form = proof.read_form(body[:20_000])
            with engine.begin() as c:
                lock_sequence(c)
                st = ServerStore(c, "customer")
                env = server_env(home, cfg, st, "customer", parse_time(now_iso()))
                args = {"token": token, **form}
                with intent(env, "ticket.confirm_token", args, str(uuid.uuid4())):
                    done = confirm.confirm_by_token(env, **args)
                st.flush()
        except TicketctlError as e:
            return html_page(proof.not_recorded_page(str(e), lang), lang, 409)
        return html_page(proof.thanks_page(done["key"], lang), lang)

    @app.get("/v/{payload}", tags=["public pages"])
    def verify_page(payload: str, format: Annotated[str, Query(pattern="^(html|json)$")] = "html",
                    accept_language: AcceptLanguage = None) -> Response:
        """Whoever scans a certificate's QR code lands here: the verdict on its
        signature, and whether the server countersigned it (``?format=json`` for scripts)."""
        with engine.begin() as c:
            v = proof.verdict(c, payload[:2000], cfg)
        if format == "json":
            return JSONResponse(v)
        lang = proof.page_language(accept_language, page_lang)
        return html_page(proof.verdict_page(v, lang), lang, 200 if v["valid"] else 422)

    app.include_router(intake.router(engine, home, cfg))
    app.include_router(webform.router(engine, home, cfg))
    app.add_middleware(BodyLimit, limits=route_limits(cfg), known=known_tokens(engine))  # every body, before it is read

    public_kb = kbpages.PublicKb()

    @app.get("/kb", response_class=HTMLResponse, tags=["public pages"])
    def kb_search_page(q: Annotated[str, Query(max_length=kbtext.QUERY_MAX_CHARS)] = "",
                       accept_language: AcceptLanguage = None) -> HTMLResponse:
        """The public knowledge base: published articles, searched by ``q`` (no login; 422 for a query past
        the bounds every search has: 200 characters, 16 terms)."""
        lang = proof.page_language(accept_language, page_lang)
        try:
            with engine.connect() as c:
                found, corrected = public_kb.search(c, q)
        except kbtext.QueryTooLong:
            return html_page(kbpages.search_page([], q, {}, lang), lang, 422)
        return html_page(kbpages.search_page(found, q, corrected, lang), lang)

    @app.get("/kb.json", tags=["public pages"])
    def kb_json(q: Annotated[str, Query(max_length=kbtext.QUERY_MAX_CHARS)] = "",
                limit: Annotated[int, Query(ge=1, le=200)] = kbpages.LIST_LIMIT) -> dict[str, Any]:
        """Published articles as JSON: ``articles`` (public fields and ``url``), matching ``q``
        when given (most relevant first), else the most recently published; ``corrected`` typos.
        422 for a query past 200 characters or 16 terms."""
        try:
            with engine.connect() as c:
                found, corrected = public_kb.search(c, q, limit)
        except kbtext.QueryTooLong as e:
            raise HTTPException(422, str(e)) from None
        return {"query": q, "corrected": corrected, "articles": [kbpages.public(a) for a in found]}

    @app.get("/kb/{article_id}", response_class=HTMLResponse, tags=["public pages"])
    def kb_article_page(article_id: Annotated[str, Path_(max_length=64)], accept_language: AcceptLanguage = None) -> HTMLResponse:
        """One published article, for customers (404 for one not published or retired)."""
        lang = proof.page_language(accept_language, page_lang)
        with engine.connect() as c:
            a = public_kb.article(c, article_id)
        if a is None:
            return html_page(kbpages.not_found_page(article_id, lang), lang, 404)
        return html_page(kbpages.article_page(a, lang), lang)

    @app.put("/blobs/{sha256}", status_code=201)
    async def put_blob(sha256: str, request: Request, dev: Auth) -> dict[str, Any]:
        """Stores an evidence file under its SHA-256 (idempotent; the hash is checked as the
        body arrives, at most ``limits.BLOB_MAX`` bytes)."""
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            raise HTTPException(422, "the name must be a lowercase hex SHA-256")
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
            await run_in_threadpool(_store_blob, sha256, f, size)
        return {"sha256": sha256, "size": size}

    def _store_blob(sha256: str, f: Any, size: int) -> None:
        with engine.begin() as c:
            if c.execute(select(S.blobs.c.sha256).where(S.blobs.c.sha256 == sha256)).first() is None:
                f.seek(0)
                c.execute(insert(S.blobs).values(sha256=sha256, size=size, data=f.read(), created_at=now_iso()))

    @app.get("/blobs/{sha256}")
    def get_blob(sha256: str, dev: Auth) -> Response:
        """An evidence file by its SHA-256."""
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            raise HTTPException(422, "the name must be a lowercase hex SHA-256")
        with engine.connect() as c:
            row = c.execute(select(S.blobs.c.data).where(S.blobs.c.sha256 == sha256)).first()
        if row is None:
            raise HTTPException(404, "no such blob")
        return Response(bytes(row[0]), media_type="application/octet-stream")

    return app


def _event_json(r: Any, role: str) -> str:
    """One stored event as the JSON of ``core.model.Event`` (the fields of ``dataclasses.asdict``),
    its payload as the device's role may see it."""
    payload = r["payload"]
    if role == "technician":
        payload = json.dumps(roles.redact_event(r["type"], json.loads(payload), role), separators=(",", ":"), sort_keys=True)
    d = json.dumps
    return (f'{{"id":{d(r["id"])},"type":{d(r["type"])},"at":{d(r["at"])},"actor":{d(r["actor"])},"device":{d(r["device"])},'
            f'"device_seq":{int(r["seq"])},"mutation_id":{d(r["mutation_id"])},"ticket":{d(r["ticket"])},"payload":{payload},'
            f'"server_seq":{int(r["seq"])}}}')


def _result(r: Any, duplicate: bool = False) -> dict[str, Any]:
    out = {"client_seq": int(r["client_seq"]), "mutation_id": r["mutation_id"], "name": r["name"], "status": r["status"],
           "reason": r["reason"], "seq": int(r["seq"])}
    if duplicate:
        out["duplicate"] = True
    return out


def _when(client_ts: str) -> datetime:
    """When a mutation happened: the device's time, never later than the
    server's (a clock running fast must not date work in the future)."""
    now = parse_time(now_iso())
    try:
        t = parse_time(client_ts)
    except ValueError:
        return now
    return min(t, now)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers: each stops with its master (``server.lifeline``)."""
    from ticketctl.server import lifeline

    if os.environ.get(lifeline.ENV, "").isdigit():
        lifeline.follow(int(os.environ[lifeline.ENV]))
    return create_app()

