"""networking: ingest keys, gate events, counts, parking sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:42:27.038363
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import parkshare.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_ingest_keys_prefix")),
    )
    op.create_table(
        "count_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("free", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("anomaly", sa.String(length=120), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["ingest_keys.id"], name=op.f("fk_count_reports_key_id_ingest_keys")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_count_reports_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_reports")),
        sa.UniqueConstraint("lot_id", "at", name=op.f("uq_count_reports_lot_id_at")),
    )

    op.create_table(
        "gate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=True),
        sa.Column("plate_masked", sa.String(length=12), nullable=False),
        sa.Column(
            "direction", sa.Enum("in", "out", name="direction", native_enum=False), nullable=False
        ),
        sa.Column("at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gate", sa.String(length=60), nullable=False),
        sa.Column("received_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["ingest_keys.id"], name=op.f("fk_gate_events_key_id_ingest_keys")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_gate_events_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_events")),
        sa.UniqueConstraint("lot_id", "event_id", name=op.f("uq_gate_events_lot_id_event_id")),
    )
    with op.batch_alter_table("gate_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gate_events_lot_plate_at", ["lot_id", "plate", "at"], unique=False
        )
        batch_op.create_index("ix_gate_events_received", ["received_at"], unique=False)

    op.create_table(
        "ingest_key_lots",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["ingest_keys.id"],
            name=op.f("fk_ingest_key_lots_key_id_ingest_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_ingest_key_lots_lot_id_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_id", "lot_id", name=op.f("pk_ingest_key_lots")),
    )
    op.create_table(
        "parking_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=True),
        sa.Column("plate_masked", sa.String(length=12), nullable=False),
        sa.Column("entered_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exited_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                "exit_only",
                "entry_only",
                name="session_status",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("entry_event_id", sa.Integer(), nullable=True),
        sa.Column("exit_event_id", sa.Integer(), nullable=True),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("fee_fen", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_event_id"],
            ["gate_events.id"],
            name=op.f("fk_parking_sessions_entry_event_id_gate_events"),
        ),
        sa.ForeignKeyConstraint(
            ["exit_event_id"],
            ["gate_events.id"],
            name=op.f("fk_parking_sessions_exit_event_id_gate_events"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_parking_sessions_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_parking_sessions_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parking_sessions")),
    )
    with op.batch_alter_table("parking_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_parking_sessions_lot_plate", ["lot_id", "plate"], unique=False)
        batch_op.create_index("ix_parking_sessions_lot_status", ["lot_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("parking_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_parking_sessions_lot_status")
        batch_op.drop_index("ix_parking_sessions_lot_plate")

    op.drop_table("parking_sessions")
    op.drop_table("ingest_key_lots")
    with op.batch_alter_table("gate_events", schema=None) as batch_op:
        batch_op.drop_index("ix_gate_events_received")
        batch_op.drop_index("ix_gate_events_lot_plate_at")

    op.drop_table("gate_events")
    op.drop_table("count_reports")
    op.drop_table("ingest_keys")
