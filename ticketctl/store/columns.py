# ruff: noqa: E501  (generated)
"""What a row of the device store needs to know of its columns, as plain data.

Generated from the SQLModel classes of ``ticketctl.store.tables`` by
``python tools/gen_ddl.py`` (with ``ddl.py``, the CREATE statements); a test fails
when it differs from them. Every command that opens a store imports this module,
so it stays small. Do not edit: change the classes.
"""

#: the latest schema version (``PRAGMA user_version``): ``store.schema.LATEST``
VERSION = 12

#: table -> its columns that hold compact JSON text (``rows.encode``)
JSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("payload",),
    "tickets": ("skills", "block", "blocked_seconds", "checks", "links", "escalations", "stall", "evidence", "confirmation", "confirm_tokens", "certificates", "qa", "approvals"),
    "technicians": ("skills",),
    "articles": ("steps", "tags", "editors"),
}

#: table -> its columns that hold a flag, 0 or 1 (a ``bool`` of the dataclass)
FLAG_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": ("source_made_sla",),
    "technicians": ("on_shift", "senior", "on_leave"),
    "articles": ("public",),
}
