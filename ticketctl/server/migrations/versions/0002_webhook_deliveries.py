"""Signed webhook deliveries already taken, so that none is taken twice
(schema generation 5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("source", sa.String(64), primary_key=True), sa.Column("signature", sa.String(64), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False))
    op.create_index("webhook_deliveries_at", "webhook_deliveries", ["at"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
