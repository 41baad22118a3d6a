"""model lifecycle: prediction records, outcomes, shadow and canary releases

Revision ID: 0007_model_lifecycle
Revises: 0006_drift_counts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_model_lifecycle"
down_revision = "0006_drift_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("capability", sa.String(length=50), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=50), nullable=False),
        sa.Column("input_key", sa.String(length=100), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("predicted", sa.String(length=100), nullable=True),
        sa.Column("served", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prediction_records", schema=None) as batch_op:
        batch_op.create_index("ix_prediction_records_key", ["tenant_id", "model_name", "input_key"])
        batch_op.create_index(batch_op.f("ix_prediction_records_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_prediction_records_tenant_id"), ["tenant_id"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("capability", sa.String(length=50), nullable=False),
        sa.Column("prediction_id", sa.String(length=32), nullable=True),
        sa.Column("input_key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("observed", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index("ix_outcomes_key", ["tenant_id", "capability", "input_key"])
        batch_op.create_index(batch_op.f("ix_outcomes_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_outcomes_tenant_id"), ["tenant_id"])
    op.create_table(
        "model_releases",
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("candidate_version", sa.String(length=50), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("shadow_rate", sa.Float(), nullable=False),
        sa.Column("canary_percent", sa.Float(), nullable=False),
        sa.Column("sticky_by", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_name"),
    )


def downgrade() -> None:
    op.drop_table("model_releases")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_outcomes_created_at"))
        batch_op.drop_index("ix_outcomes_key")
    op.drop_table("outcomes")
    with op.batch_alter_table("prediction_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_records_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_prediction_records_created_at"))
        batch_op.drop_index("ix_prediction_records_key")
    op.drop_table("prediction_records")
