"""Safety and personal tools: resonance-finder runs (screening answers live on User)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class ResonanceAssessment(db.Model):
    """One run of the resonance finder: each step's figures and the rate that came out best.

    `steps` holds what was computed ({bpm, calm, comfort, score, hr_swing_bpm, rmssd_ms,
    breaths, source, beats, corrected_beats, reliable, mean_hr_bpm}; runs stored before the
    beat cleaning lack the last five); the raw RR intervals are not kept (health data the person need not leave here).
    """

    __tablename__ = "resonance_assessments"
    __table_args__ = (Index("ix_resonance_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    best_bpm: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(16))  # "hr_swing" or "ratings"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
