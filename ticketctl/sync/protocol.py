"""The sync protocol's sizes, shared by the device's client and the server.
Pure constants: the client packs its requests by them without importing the
request models (``sync.bodies``, pydantic: the server's to validate with).
"""

from __future__ import annotations

#: most mutations one push may carry, and most items one pull page returns
MAX_PUSH = 1000
MAX_PAGE = 5000
#: most events one history upload may carry
MAX_HISTORY = 5000
#: the largest body ``/sync/push`` and ``/sync/history`` take (413 beyond); a client packs
#: its batches to :data:`BATCH_BYTES`, well inside it
MAX_BATCH_BODY = 32 * 1024 * 1024
BATCH_BYTES = 8 * 1024 * 1024
