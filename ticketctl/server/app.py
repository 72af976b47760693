"""The team's server as one FastAPI app: wiring only. Each concern is its own
router (``server.sync_routes``: the sync protocol and evidence files;
``server.web``: the customers' pages; ``server.intake``: the doors for work
that arrives by itself) over the shared :class:`server.context.Server`.

Stateless apart from the database, so several workers (``--workers N``) can
serve one database; each worker may take its share of the team's scheduled
work (``server.jobs``). Every body is held to its route's limit before it is
read (``server.limits``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from ticketctl import i18n
from ticketctl.home import Home, load_config
from ticketctl.server import countersign, jobs, sync_routes
from ticketctl.server.context import Server
from ticketctl.server.intake import routes as intake
from ticketctl.server.limits import BodyLimit, known_tokens, route_limits
from ticketctl.server.poke import Waker
from ticketctl.server.store.engine import engine_for, lock_sequence, migrate
from ticketctl.server.web import confirm, verify
from ticketctl.server.web import form as webform
from ticketctl.server.web import kb as kbpages
from ticketctl.services.mutations import load_mutations

log = logging.getLogger("ticketctl.server")


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
        countersign.server_key(c)
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
        await waker.stop()
        if worker is not None:
            worker.stop()

    app = FastAPI(title="ticketctl sync server", version="1", lifespan=lifespan,
                  description="The team's central store: named mutations pushed by devices, events pulled in order.")
    waker = Waker(engine)
    app.state.server = Server(engine, epoch, cfg, home, page_lang, waker)
    app.state.jobs = worker

    @app.exception_handler(DBAPIError)
    def _db_down(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)

    for router in (sync_routes.router, confirm.router, verify.router, kbpages.router):
        app.include_router(router)
    app.include_router(intake.router(engine, home, cfg))
    app.include_router(webform.router(engine, home, cfg))
    app.add_middleware(BodyLimit, limits=route_limits(cfg), known=known_tokens(engine))  # every body, before it is read
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers: each stops with its master (``server.lifeline``)."""
    from ticketctl.server import lifeline

    if os.environ.get(lifeline.ENV, "").isdigit():
        lifeline.follow(int(os.environ[lifeline.ENV]))
    return create_app()
