"""Accounts and their bearer tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    # What everything the user reads is written in: en, de, es or fr (coach/i18n).
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    resonance_bpm: Mapped[float] = mapped_column(Float, default=6.0)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=6)  # 0 = Monday, 6 = Sunday
    digest_local_time: Mapped[str] = mapped_column(String(5), default="18:00")
    # A week without sessions is skipped unless the user asked to hear about it anyway.
    digest_send_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    # The UTC instant the tick next tries the weekly summary: the digest queue column.
    digest_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The occurrence it stands for (its local date names the ISO week of the delivery key).
    # A retry after a temporary mail failure moves digest_next_at but keeps this one.
    digest_planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Safety screening answers ({question: bool}); None until the user answers.
    screening: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the writes to the user's sessions and custom routines: a computed insights
    # answer is kept only under the version it was computed from (insights_cache).
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the address was proved by its link; None: no mail but the confirmation goes to it.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An address asked for by PATCH /api/me, taking effect when its confirmation link is used.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    # The state a link is bound to (coach.accounts.links): a new value voids every older link.
    confirm_nonce: Mapped[str | None] = mapped_column(String(32))
    reset_nonce: Mapped[str | None] = mapped_column(String(32))

    tokens: Mapped[list[AuthToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class AuthToken(db.Model):
    """An opaque bearer token, kept only as its SHA-256 so a database leak reveals none."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What a person recognises in the devices list ("Chrome on Android"), from the User-Agent.
    label: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # Written at most once a minute (coach.accounts.tokens.TOUCH_EVERY), not per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class AccountEmail(db.Model):
    """An account email waiting for the tick (confirmation, reset, address change): the
    request only queues it, so the tick is the one way anything is sent. `due_at` is the
    queue column (None once handled); the link is minted when the message is made, from
    `nonce` and `created_at`, so no usable link is ever stored."""

    __tablename__ = "account_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    address: Mapped[str] = mapped_column(String(254))
    # The other address of an address change (the new one in the notice to the old one).
    other_address: Mapped[str | None] = mapped_column(String(254))
    nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(String(500))


def _digest(self: User) -> dict[str, Any]:
    return {
        "enabled": self.digest_enabled,
        "weekday": self.digest_weekday,
        "local_time": self.digest_local_time,
        "send_empty": bool(self.digest_send_empty),
    }


User.digest = property(_digest)  # the `digest` object of GET /api/me


User.email_confirmed = property(lambda self: self.email_confirmed_at is not None)  # in GET /api/me
