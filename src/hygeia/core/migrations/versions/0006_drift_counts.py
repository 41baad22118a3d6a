"""persistent drift: live histogram counts per tenant, model version, signal and day

Revision ID: 0006_drift_counts
Revises: 0005_tenant_retention
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_drift_counts"
down_revision = "0005_tenant_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_counts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=50), nullable=False),
        sa.Column("signal", sa.String(length=100), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("edges", sa.JSON(), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("live", sa.JSON(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "model_name", "model_version", "signal", "day"),
    )
    with op.batch_alter_table("drift_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drift_counts_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_drift_counts_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("drift_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_counts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_drift_counts_day"))
    op.drop_table("drift_counts")
