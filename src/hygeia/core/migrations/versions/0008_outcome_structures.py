"""outcomes keep the standardised input where the domain asks for it (toxicity: the parent SMILES),
so accepted outcomes can become training rows of a retrained candidate

Revision ID: 0008_outcome_structures
Revises: 0007_model_lifecycle
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_outcome_structures"
down_revision = "0007_model_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outcomes", sa.Column("input_text", sa.String(length=5000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("input_text")
