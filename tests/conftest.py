"""Shared test set-up: every test starts and ends in English.

``ticketctl.cli.main`` chooses the language of each invocation (``ticketctl.i18n.use``),
which is process-wide; a test that speaks Chinese must not leave the next one in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ticketctl import i18n


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    i18n.use("en")
    yield
    i18n.use("en")
