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
    # The queue column: the UTC instant the tick sends it (None when disabled). While a
    # tick is sending, it holds that tick's lease (a claim), so no other process takes it.
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The occurrence being delivered: the delivery key together with the reminder id.
    # A back-off moves next_fire_at but keeps this, so a retry never makes a second
    # delivery. A snooze makes an occurrence of its own (planned_at = the snoozed instant):
    # keeping the old key would make the snoozed send collide with the occurrence it
    # follows, or with the next regular one (see coach.reminders.snooze).
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed sends of planned_at
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(db.Model):
    """One browser's push endpoint. The endpoint is unique: a device belongs to one user."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(255))  # base64url, 65-byte P-256 point
    auth: Mapped[str] = mapped_column(String(255))  # base64url, 16-byte secret
    # PushSubscription.expirationTime, when the browser gives one (rarely).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sign-in that subscribed this browser: signing that device out removes it too.
    auth_token_id: Mapped[int | None] = mapped_column(ForeignKey("auth_tokens.id", ondelete="CASCADE"), index=True)
    # Pushes in a row that got no answer in time or could not connect; a delivery resets
    # it. From the third on, the endpoint is set aside until `set_aside_until` (hours,
    # growing), so a dead or hostile endpoint does not hold the tick up every time.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    set_aside_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderDelivery(db.Model):
    """One occurrence of a reminder, handled; unique so a retry never sends it twice.

    The row is written (status `sending`) and committed before any push goes out, and
    each device reached is added to `sent_to` as it happens. A crash mid-send leaves
    `sending` behind a lease that runs out; a later tick then sends the occurrence on to
    the devices not in `sent_to` (coach.tick.reminders: at least once after a crash).
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("reminder_id", "planned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the tick that last touched it
    # sending | retry | sent | failed | skipped (practised recently) | stale | no_device
    # (| unknown: rows from before crashed sends were resumed; final)
    status: Mapped[str] = mapped_column(String(16))
    # The subscription ids that already accepted this occurrence (committed while sending),
    # so a retry after a 429 or 5xx, or after a crash, goes only to the others.
    sent_to: Mapped[list[int] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)


class DigestDelivery(db.Model):
    """One weekly summary, keyed by (user, ISO week of the user's local send date) so it
    goes out once.

    The row is inserted (status `sending`) and committed before the email goes out, and
    marked `sent` as soon as the server accepts it, so a repeated tick never sends the
    week again. A crash mid-send leaves `sending` behind the user's lease; when the lease
    runs out a later tick sends it (coach.tick.digests: at least once after a crash). A
    temporary SMTP failure deletes it and leaves the digest due for the next tick.
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    iso_week: Mapped[str] = mapped_column(String(8))  # e.g. "2026-W48"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the tick that last touched it
    # sending | sent | skipped (no sessions that week) | failed (refused for good) | stale
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class SchedulerHeartbeat(db.Model):
    """The last tick, per scheduler process, for /healthz."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)
