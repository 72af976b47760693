"""Knowledge articles as the public pages read them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from ticketctl.core.kb import Article
from ticketctl.server import schema as S


def version(c: Connection) -> tuple[Any, ...]:
    """What changes whenever any article does: (count, last sequence number)."""
    return tuple(c.execute(select(func.count(), func.max(S.articles.c.seq)).select_from(S.articles)).one())


def published(c: Connection) -> list[Article]:
    """Every article that is public and not retired."""
    rows = c.execute(select(S.articles.c.data).where(S.articles.c.public == 1, S.articles.c.status == "active"))
    return [Article(**json.loads(r[0])) for r in rows]
