"""reservations, waitlist, passes, credit and outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:00:29.882089
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import parkshare.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blacklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column("starts_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("lifted_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_note", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist")),
    )
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blacklist_plate"), ["plate"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["sent_at", "due_at"], unique=False)

    op.create_table(
        "pass_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column(
            "kind", sa.Enum("night", "weekend", name="pass_kind", native_enum=False), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("home_lon", sa.Float(), nullable=False),
        sa.Column("home_lat", sa.Float(), nullable=False),
        sa.Column("max_walk_m", sa.Integer(), nullable=False),
        sa.Column("preferred_lots", sa.String(length=400), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "allocated", "unserved", name="application_status", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("applied_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_applications")),
        sa.UniqueConstraint(
            "plate", "kind", "month", name=op.f("uq_pass_applications_plate_kind_month")
        ),
        sa.UniqueConstraint("ref", name=op.f("uq_pass_applications_ref")),
    )
    op.create_table(
        "pass_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("night", "weekend", name="pass_kind", native_enum=False), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.CheckConstraint("quota >= 0", name=op.f("ck_pass_offers_quota_not_negative")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_pass_offers_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_offers")),
        sa.UniqueConstraint(
            "lot_id", "kind", "month", name=op.f("uq_pass_offers_lot_id_kind_month")
        ),
    )
    op.create_table(
        "passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("night", "weekend", name="pass_kind", native_enum=False), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("issued_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pass_applications.id"],
            name=op.f("fk_passes_application_id_pass_applications"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_passes_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passes")),
        sa.UniqueConstraint("plate", "kind", "month", name=op.f("uq_passes_plate_kind_month")),
        sa.UniqueConstraint("ref", name=op.f("uq_passes_ref")),
    )
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passes_plate"), ["plate"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "ordinary", "ev_charging", "accessible", name="berth_category", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("start", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("must_leave_by", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "arrived",
                "completed",
                "cancelled",
                "no_show",
                "overstayed",
                name="reservation_status",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("price_estimate_fen", sa.Integer(), nullable=False),
        sa.Column("cancel_fee_fen", sa.Integer(), nullable=False),
        sa.Column("parking_fee_fen", sa.Integer(), nullable=True),
        sa.Column("overstay_fee_fen", sa.Integer(), nullable=True),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("departed_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=20), nullable=True),
        sa.CheckConstraint('"end" > start', name=op.f("ck_reservations_ends_after_start")),
        sa.CheckConstraint('must_leave_by >= "end"', name=op.f("ck_reservations_inside_window")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_reservations_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reservations_idempotency_key")),
        sa.UniqueConstraint("ref", name=op.f("uq_reservations_ref")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_lot_span", ["lot_id", "start", "end"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_plate"), ["plate"], unique=False)

    op.create_table(
        "violations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind", sa.Enum("overstay", name="violation_kind", native_enum=False), nullable=False
        ),
        sa.Column("occurred_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minutes_over", sa.Integer(), nullable=True),
        sa.Column("corrected_at", parkshare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_violations_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_violations_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
        sa.UniqueConstraint("reservation_id", name=op.f("uq_violations_reservation_id")),
    )
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.create_index("ix_violations_plate", ["plate", "corrected_at"], unique=False)

    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=12), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "ordinary", "ev_charging", "accessible", name="berth_category", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("start", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "fulfilled",
                "expired",
                "cancelled",
                name="waitlist_status",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_waitlist_entries_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_waitlist_entries_reservation_id_reservations"),
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_waitlist_entries_idempotency_key")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
        sa.UniqueConstraint("ref", name=op.f("uq_waitlist_entries_ref")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlist_lot_status", ["lot_id", "status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_lot_status")

    op.drop_table("waitlist_entries")
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.drop_index("ix_violations_plate")

    op.drop_table("violations")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_plate"))
        batch_op.drop_index("ix_reservations_lot_span")

    op.drop_table("reservations")
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passes_plate"))

    op.drop_table("passes")
    op.drop_table("pass_offers")
    op.drop_table("pass_applications")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_plate"))

    op.drop_table("blacklist")
