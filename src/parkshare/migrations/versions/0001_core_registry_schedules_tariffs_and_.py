"""core registry, schedules, tariffs and targets

Revision ID: 0001
Revises:
Create Date: 2026-11-26 17:48:20.069810
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import parkshare.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "day_type",
            sa.Enum(
                "workday",
                "rest_day",
                "holiday",
                "makeup_workday",
                name="day_type",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "institutional", "commercial", "residential", name="lot_kind", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "group",
            sa.Enum(
                "institutional", "commercial", "residential", name="lot_kind", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("lots", sa.Integer(), nullable=True),
        sa.Column("berths", sa.Integer(), nullable=False),
        sa.CheckConstraint("berths > 0", name=op.f("ck_targets_berths_positive")),
        sa.CheckConstraint("lots IS NULL OR lots > 0", name=op.f("ck_targets_lots_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("year", "group", "area", name=op.f("uq_targets_year_group_area")),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_targets_year"), ["year"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "institutional", "commercial", "residential", name="lot_kind", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("use", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("area_en", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("onboarding", "online", "suspended", name="lot_status", native_enum=False),
            nullable=False,
        ),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name=op.f("ck_lots_lat_range")),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name=op.f("ck_lots_lon_range")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_lots_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("code", name=op.f("uq_lots_code")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_status"), ["status"], unique=False)

    op.create_table(
        "lot_berths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "ordinary", "ev_charging", "accessible", name="berth_category", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_lot_berths_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_lot_berths_lot_id_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_berths")),
        sa.UniqueConstraint("lot_id", "category", name=op.f("uq_lot_berths_lot_id_category")),
    )
    op.create_table(
        "sharing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day_types", sa.String(length=80), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("end_day_offset", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "end_day_offset BETWEEN 0 AND 2", name=op.f("ck_sharing_rules_offset_range")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_sharing_rules_lot_id_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_rules")),
        sa.UniqueConstraint("lot_id", "position", name=op.f("uq_sharing_rules_lot_id_position")),
    )
    with op.batch_alter_table("sharing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_rules_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "sharing_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column("updated_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lots.id"],
            name=op.f("fk_sharing_schedules_lot_id_lots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_schedules")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_sharing_schedules_lot_id")),
    )
    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("start", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("created_at", parkshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_suspensions_lot_id_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspensions_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "tariffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("free_minutes", sa.Integer(), nullable=False),
        sa.Column("billing_unit_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_cap_fen", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "billing_unit_minutes BETWEEN 1 AND 1440", name=op.f("ck_tariffs_unit_range")
        ),
        sa.CheckConstraint("free_minutes >= 0", name=op.f("ck_tariffs_free_not_negative")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_tariffs_lot_id_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_tariffs_lot_id")),
    )
    op.create_table(
        "sharing_rule_berths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "ordinary", "ev_charging", "accessible", name="berth_category", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("shared_berths", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "shared_berths >= 0", name=op.f("ck_sharing_rule_berths_shared_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["sharing_rules.id"],
            name=op.f("fk_sharing_rule_berths_rule_id_sharing_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_rule_berths")),
        sa.UniqueConstraint(
            "rule_id", "category", name=op.f("uq_sharing_rule_berths_rule_id_category")
        ),
    )
    op.create_table(
        "tariff_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("fen_per_hour", sa.Integer(), nullable=False),
        sa.CheckConstraint("fen_per_hour >= 0", name=op.f("ck_tariff_rates_rate_not_negative")),
        sa.ForeignKeyConstraint(
            ["tariff_id"],
            ["tariffs.id"],
            name=op.f("fk_tariff_rates_tariff_id_tariffs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_rates")),
        sa.UniqueConstraint("tariff_id", "start", name=op.f("uq_tariff_rates_tariff_id_start")),
    )


def downgrade() -> None:
    op.drop_table("tariff_rates")
    op.drop_table("sharing_rule_berths")
    op.drop_table("tariffs")
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspensions_lot_id"))

    op.drop_table("suspensions")
    op.drop_table("sharing_schedules")
    with op.batch_alter_table("sharing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_rules_lot_id"))

    op.drop_table("sharing_rules")
    op.drop_table("lot_berths")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_status"))
        batch_op.drop_index(batch_op.f("ix_lots_operator_id"))
        batch_op.drop_index(batch_op.f("ix_lots_kind"))
        batch_op.drop_index(batch_op.f("ix_lots_area"))

    op.drop_table("lots")
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_targets_year"))

    op.drop_table("targets")
    op.drop_table("operators")
    op.drop_table("calendar_overrides")
