"""Evidence tables. Feedback is tenant data: one tenant's votes never move another tenant's weights."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hygeia.core.db import Base, TenantOwned, Timestamped, new_id


class EvidenceFeedback(TenantOwned, Timestamped, Base):
    """An upvote, downvote or flag on a candidate indication (drug + disease) or on one evidence document.

    `features` is the feature vector shown when the vote was cast, so replaying feedback into the
    tenant's weights gives the same answer after the index is rebuilt.
    """

    __tablename__ = "evidence_feedback"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    vote: Mapped[str] = mapped_column(String(8), nullable=False)  # up | down | flag
    target: Mapped[str] = mapped_column(String(16), nullable=False)  # candidate | document
    drug_id: Mapped[str | None] = mapped_column(String(32), index=True)
    disease_id: Mapped[str | None] = mapped_column(String(32))
    doc_id: Mapped[str | None] = mapped_column(String(64))
    features: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    index_built_at: Mapped[str] = mapped_column(String(40), nullable=False)
