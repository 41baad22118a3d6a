"""evidence tables: per-tenant feedback on candidate indications and evidence documents

Revision ID: 0003_evidence
Revises: 0002_agents
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_evidence"
down_revision = "0002_agents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_feedback",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("vote", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("drug_id", sa.String(length=32), nullable=True),
        sa.Column("disease_id", sa.String(length=32), nullable=True),
        sa.Column("doc_id", sa.String(length=64), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("index_built_at", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_feedback_drug_id"), ["drug_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_feedback_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_feedback_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_feedback_drug_id"))
    op.drop_table("evidence_feedback")
