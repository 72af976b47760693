"""The schema every server database had before its migrations moved to Alembic
(schema generation 4: the event log, devices, projections, the knowledge base,
approval delegations, the intake doors and the team's notification outbox),
and the rows a new database starts with: its epoch and the global sequence.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger
    op.create_table("server_meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False))
    op.create_table("counters", sa.Column("name", sa.String(64), primary_key=True), sa.Column("value", big, nullable=False))
    op.create_table(
        "devices",
        sa.Column("name", sa.String(200), primary_key=True), sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True), sa.Column("prefix", sa.String(12)),
        sa.Column("public_key", sa.Text), sa.Column("key_id", sa.String(64)), sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)), sa.Column("last_client_seq", big, nullable=False))
    op.create_table(
        "events",
        sa.Column("seq", big, primary_key=True, autoincrement=False), sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("mutation_id", sa.String(36), nullable=False), sa.Column("ticket", sa.String(64)),
        sa.Column("type", sa.String(64), nullable=False), sa.Column("payload", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False), sa.Column("device", sa.String(200), nullable=False),
        sa.Column("at", sa.String(32), nullable=False))
    op.create_index("server_events_ticket", "events", ["ticket", "seq"])
    op.create_table(
        "results",
        sa.Column("seq", big, primary_key=True, autoincrement=False), sa.Column("device", sa.String(200), nullable=False),
        sa.Column("client_seq", big, nullable=False), sa.Column("mutation_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False), sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text), sa.Column("at", sa.String(32), nullable=False),
        sa.UniqueConstraint("device", "client_seq", name="results_device_seq"),
        sa.UniqueConstraint("device", "mutation_id", name="results_device_mutation"))
    op.create_index("server_results_device", "results", ["device", "seq"])
    op.create_table(
        "tickets",
        sa.Column("key", sa.String(64), primary_key=True), sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(200)), sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False), sa.Column("seq", big, nullable=False))
    op.create_index("server_tickets_assignee", "tickets", ["assignee", "status"])
    for name, key in (("technicians", "name"), ("delegations", "name")):
        op.create_table(name, sa.Column(key, sa.String(200), primary_key=True), sa.Column("data", sa.Text, nullable=False),
                        sa.Column("seq", big, nullable=False))
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True), sa.Column("size", big, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False), sa.Column("created_at", sa.String(32), nullable=False))
    op.create_table(
        "articles",
        sa.Column("id", sa.String(64), primary_key=True), sa.Column("status", sa.String(20), nullable=False),
        sa.Column("public", big, nullable=False), sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False), sa.Column("seq", big, nullable=False))
    op.create_index("server_articles_public", "articles", ["public", "status"])
    op.create_table(
        "sources",
        sa.Column("name", sa.String(64), primary_key=True), sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("secret", sa.Text), sa.Column("created_at", sa.String(32), nullable=False))
    op.create_table(
        "intake_refs",
        sa.Column("source", sa.String(64), primary_key=True), sa.Column("ref", sa.String(300), primary_key=True),
        sa.Column("ticket", sa.String(64), nullable=False), sa.Column("seq", big, nullable=False))
    op.create_table(
        "intake_hits",
        sa.Column("source", sa.String(64), nullable=False), sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", big, nullable=False))
    op.create_index("intake_hits_address", "intake_hits", ["source", "address", "at"])
    op.create_table(
        "notifications",
        sa.Column("id", big().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.String(32), nullable=False), sa.Column("target", sa.String(200), nullable=False),
        sa.Column("url", sa.Text, nullable=False), sa.Column("body", sa.Text, nullable=False), sa.Column("ticket", sa.String(64)),
        sa.Column("rule", sa.String(200), nullable=False), sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", big, nullable=False), sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", sa.String(32), nullable=False), sa.Column("sent_at", sa.String(32)),
        sa.UniqueConstraint("ticket", "rule", "target", name="notifications_once"))
    op.create_index("server_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.bulk_insert(sa.table("server_meta", sa.column("key", sa.String), sa.column("value", sa.Text)),
                   [{"key": "epoch", "value": uuid.uuid4().hex}, {"key": "version", "value": "4"}])
    op.bulk_insert(sa.table("counters", sa.column("name", sa.String), sa.column("value", big)), [{"name": "seq", "value": 0}])


def downgrade() -> None:
    for name in ("notifications", "intake_hits", "intake_refs", "sources", "articles", "blobs", "delegations", "technicians",
                 "tickets", "results", "events", "devices", "counters", "server_meta"):
        op.drop_table(name)
