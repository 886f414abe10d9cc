"""What the tick works on: reminders, push subscriptions, deliveries and the heartbeat."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Reminder(db.Model):
    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in the user's zone
    weekdays: Mapped[list[int]] = mapped_column(JSON)  # 0 = Monday … 6 = Sunday
    routine: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The queue column: the UTC instant the tick sends it (None when disabled).
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The occurrence `next_fire_at` stands for; a snooze or a back-off moves
    # next_fire_at but keeps this, so the delivery key stays the same.
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(db.Model):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(255))
    auth: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderDelivery(db.Model):
    """One occurrence of a reminder, sent; unique so a retry never sends it twice."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("reminder_id", "planned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # sent | skipped | failed


class DigestDelivery(db.Model):
    """One weekly summary, keyed by (user, ISO week) so it goes out once."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    iso_week: Mapped[str] = mapped_column(String(8))  # e.g. "2026-W48"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # sent | skipped | failed
    detail: Mapped[str | None] = mapped_column(Text)


class SchedulerHeartbeat(db.Model):
    """The last tick, per scheduler process, for /healthz."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)
