"""The client's side of sync inside the local store: applying what the server
sent (a snapshot, a page of events and results) and re-folding what it touched.

The local tables always show *server state with this device's pending
mutations on top*: the events the server confirmed, in its order, then the
events of mutations still waiting for a result, in the order they were made
(``store.rows.EVENT_ORDER``). When a result arrives, the device's own provisional
events of that mutation are replaced by the server's (applied) or simply
dropped (rejected), and every ticket they touched is folded again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ticketctl.core.approvals import DELEGATION_PREFIX, Delegation, apply_delegation
from ticketctl.core.config import Config
from ticketctl.core.kb import EVENT_PREFIX, Article, fold_article
from ticketctl.core.model import Event, Technician, Ticket
from ticketctl.i18n import _
from ticketctl.services.rebuild import article_events, delegation_events, fold_from, tech_events
from ticketctl.store.db import Store
from ticketctl.store.mirror import BadSnapshot

__all__ = ["BadSnapshot", "apply_page", "apply_snapshot", "bases", "pending_targets", "refold"]

#: meta keys of a synced store
CURSOR, EPOCH, ROLE, DEVICE, NEXT_CLIENT_SEQ, LAST_SYNC = (
    "sync_cursor", "sync_epoch", "sync_role", "sync_device", "next_client_seq", "sync_last")


def bases(st: Store, kind: str, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The bases of one kind a snapshot brought, all or the named ones (``Replay.bases``)."""
    return st.replay.bases(kind, names)


def refold(st: Store, cfg: Config, keys: Iterable[str], tech_names: Iterable[str], article_ids: Iterable[str] = (),
           delegators: Iterable[str] = ()) -> None:
    """Fold the named tickets, technicians, articles and delegations again from
    their base and events (inside a transaction); one with neither disappears
    (a creation the server refused)."""
    keys, tech_names = set(keys), set(tech_names)
    stock_keys = {k for k in keys if k.startswith(("part:", "place:"))}
    keys -= stock_keys
    if stock_keys or st.stock.touches(keys):  # a stock change the server refused: the ledger's tables again
        from ticketctl.services.rebuild import rebuild_stock

        rebuild_stock(st)
    db_ = bases(st, "delegation", set(delegators))
    for name in set(delegators):
        d: Delegation | None = Delegation(**db_[name]) if name in db_ else None
        for e in delegation_events(st, name):
            d = apply_delegation(d, e)
        if d is None:
            st.replay.drop_delegation(name)
        else:
            st.put_delegation(d)
    ab = bases(st, "article", set(article_ids))
    for aid in set(article_ids):
        a = fold_article(article_events(st, aid), Article(**ab[aid]) if aid in ab else None)
        if a is None:
            st.replay.drop_article(aid)
        else:
            st.put_article(a)
    _refold_tickets(st, cfg, sorted(keys))
    pb = bases(st, "technician", tech_names)
    for name in tech_names:
        tech: Technician | None = Technician(**pb[name]) if name in pb else None
        from ticketctl.core.workflow import apply_tech

        for e in tech_events(st, name):
            tech = apply_tech(tech, e, cfg)
        if tech is None:
            st.replay.drop_tech(name)
        else:
            st.put_tech(tech)


def _refold_tickets(st: Store, cfg: Config, keys: list[str], chunk: int = 500) -> None:
    """Fold tickets again from their bases and events, a few hundred at a time
    (one query each for their bases, events and spans: a pull of a large import
    touches tens of thousands)."""
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        tb = st.replay.bases("ticket", part)
        evs = st.replay.events_of_tickets(part)
        st.replay.drop_spans(part)
        gone = [k for k in part if k not in tb and not evs[k]]
        if gone:
            st.replay.drop_tickets(gone)
        folded: list[Ticket] = []
        spans: list[tuple[Any, ...]] = []
        for key in part:
            if key in tb or evs[key]:
                t, rows = fold_from(Ticket(**tb[key]) if key in tb else None, evs[key], cfg)
                folded.append(t)
                spans += rows
        st.put_tickets(folded)
        st.put_spans(spans)


def pending_targets(st: Store, mutation_ids: Iterable[str] | None = None) -> tuple[set[str], set[str], set[str], set[str]]:
    """Tickets, technicians, articles and delegations touched by this device's
    unconfirmed events (of the given mutations, or all)."""
    rows = st.mirror.provisional_events(mutation_ids)
    keys, names, articles, delegators = set(), set(), set(), set()
    for ticket, typ, payload in rows:
        if typ.startswith(EVENT_PREFIX):
            articles.add(str(ticket))
        elif typ.startswith(DELEGATION_PREFIX):
            delegators.add(json.loads(payload)["name"])
        elif ticket is None:
            names.add(json.loads(payload)["name"])
        else:
            keys.add(ticket)
    return keys, names, articles, delegators


def _head(text: str) -> tuple[Any, Any, Any, Any, Any] | None:
    """``epoch``, ``seq``, ``technicians`` and ``articles`` without parsing the
    tickets, when the body is laid out as the server writes it: ``epoch``,
    ``seq`` and ``articles`` before ``tickets``, ``technicians`` last. None when
    it is not (or not sure)."""
    decode, n = json.JSONDecoder().raw_decode, len(text)
    head: dict[str, Any] = {}
    i = _ws(text, 0)
    if text[i:i + 1] != "{":
        return None
    try:
        while True:  # members up to "tickets"
            i = _ws(text, i + 1)  # past "{" or ","
            key, i = decode(text, i)
            i = _ws(text, i)
            if not isinstance(key, str) or text[i:i + 1] != ":":
                return None
            if key == "tickets":
                break
            head[key], i = decode(text, _ws(text, i + 1))
            i = _ws(text, i)
            if text[i:i + 1] != ",":
                return None
        # the last member, found from the end: an unescaped '"technicians":' whose array
        # is followed only by the closing "}" is a member of the top-level object
        j = text.rfind('"technicians":', i)
        if j < 0:
            return None
        techs, k = decode(text, _ws(text, j + len('"technicians":')))
        k = _ws(text, k)
        if text[k:k + 1] != "}" or _ws(text, k + 1) != n or text[_back(text, j) - 1:_back(text, j)] != ",":
            return None
    except ValueError:
        return None
    if "epoch" not in head or "seq" not in head:
        return None
    return head["epoch"], head["seq"], techs, head.get("articles", []), head.get("delegations", [])


def _ws(text: str, i: int) -> int:
    """The first index at or after ``i`` that is not JSON whitespace."""
    while text[i:i + 1] in (" ", "\t", "\n", "\r"):
        i += 1
    return i


def _back(text: str, j: int) -> int:
    """``j`` moved back over JSON whitespace."""
    while j > 0 and text[j - 1] in " \t\n\r":
        j -= 1
    return j


def apply_snapshot(st: Store, cfg: Config, body: bytes | str) -> int:
    """Start over from the server's projections as of its ``seq`` (one
    transaction): confirmed history is replaced, pending work is kept and
    re-folded on top. ``body`` is ``GET /sync/snapshot``'s answer, ``{"epoch",
    "seq", "articles": [...], "delegations": [...], "tickets": [...], "technicians": [...]}``. Returns the number of
    tickets. Raises :class:`BadSnapshot` (nothing written) when it is not such JSON.

    SQLite reads the body (no Python object per ticket): each ticket's JSON
    text, as the server sent it, becomes its base, and the ticket's row is
    read from that base. The ticket and span indexes are dropped and made
    again inside the transaction (one sort each instead of 100k scattered
    inserts); a rollback brings them back with everything else."""
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    epoch, seq, tech_data, art_data, dlg_data = _head(text) or st.mirror.snapshot_head(text)  # else a parse by SQLite
    try:
        if isinstance(tech_data, str):
            tech_data = json.loads(tech_data)
        art_data = json.loads(art_data) if isinstance(art_data, str) else (art_data or [])  # an older server sends none
        dlg_data = json.loads(dlg_data) if isinstance(dlg_data, str) else (dlg_data or [])
        delegations = [Delegation(**d) for d in dlg_data]
        techs = [Technician(**d) for d in tech_data]
        articles = [Article(**d) for d in art_data]
    except (TypeError, ValueError) as e:
        raise BadSnapshot(_("not a snapshot: {error}").format(error=e)) from None
    if not isinstance(epoch, str) or not isinstance(seq, int):
        raise BadSnapshot(_("not a snapshot: no epoch or seq"))
    with st.transaction():
        n = st.mirror.load_snapshot(text, techs, articles, delegations,
                                    {"technician": tech_data, "article": art_data, "delegation": dlg_data})
        refold(st, cfg, *pending_targets(st))
        st.set_meta(CURSOR, str(seq))
        st.set_meta(EPOCH, epoch)
    return n


def apply_page(st: Store, cfg: Config, page: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """One pulled page, with its cursor, in one transaction. Returns how many
    events were new here and the rejections it carried."""
    with st.transaction():
        settled = st.outbox.settle(page["results"])
        rejected = [r for r in settled if r["status"] == "rejected"]
        ids = [r["mutation_id"] for r in settled]
        keys, names, articles, delegators = pending_targets(st, ids)
        st.mirror.replace_provisional(ids)
        events = page["events"]
        have = st.mirror.known_events([d["id"] for d in events])
        fresh = [Event(**d) for d in events if d["id"] not in have]
        st.mirror.add_pulled(fresh)
        new = len(fresh)
        # an event already here is history this device wrote itself (an import it shared) coming back confirmed,
        # or a page pulled twice: its place in the order is the same, nothing to fold again
        st.mirror.confirm_events([(d["server_seq"], d["id"]) for d in events if d["id"] in have])
        for e in fresh:
            if e.type.startswith(EVENT_PREFIX):
                articles.add(str(e.ticket))
            elif e.type.startswith(DELEGATION_PREFIX):
                delegators.add(e.payload["name"])
            elif e.ticket is None:
                names.add(e.payload["name"])
            else:
                keys.add(e.ticket)
        refold(st, cfg, keys, names, articles, delegators)
        st.set_meta(CURSOR, str(page["cursor"]))
    return new, rejected
