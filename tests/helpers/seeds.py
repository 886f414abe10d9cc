"""Due work bulk-inserted for the tick tests and benchmarks: thousands of reminders or weekly
summaries due at one instant, a few statements per chunk. Each needs an app context."""
from __future__ import annotations

from sqlalchemy import insert

from coach.extensions import db
from coach.models import PushSubscription, Reminder, User

from .push import Device


def seed_due_reminders(devices: list[Device], due_at, timezone: str = "Europe/Berlin", chunk: int = 2000) -> list[int]:
    """One user per device, its subscription, and a daily reminder due at `due_at` (an instant
    that is 07:30 local in `timezone` keeps the plan honest); returns the reminder ids."""
    rids: list[int] = []
    for start in range(0, len(devices), chunk):
        part = devices[start : start + chunk]
        users = db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"seed-{start + i}-{id(dev) % 100000}@example.com",
                    "password_hash": "!",  # no password logs in
                    "timezone": timezone,
                    "digest_enabled": False,
                    "digest_next_at": None,
                    "created_at": due_at,
                }
                for i, dev in enumerate(part)
            ],
        ).scalars().all()
        db.session.execute(
            insert(PushSubscription),
            [
                {"user_id": uid, "endpoint": dev.endpoint, "p256dh": dev.p256dh, "auth": dev.auth_b64, "created_at": due_at}
                for uid, dev in zip(users, part)
            ],
        )
        rids += db.session.execute(
            insert(Reminder).returning(Reminder.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": uid,
                    "local_time": "07:30",
                    "weekdays": [0, 1, 2, 3, 4, 5, 6],
                    "routine": "resonance",
                    "enabled": True,
                    "next_fire_at": due_at,
                    "planned_at": due_at,
                    "attempts": 0,
                    "created_at": due_at,
                }
                for uid in users
            ],
        ).scalars().all()
        db.session.commit()
    return rids


def seed_digest_users(n: int, due_at, timezone: str = "Europe/Berlin") -> list[int]:
    """n users whose weekly summary (empty weeks included) is due at `due_at`; returns their ids."""
    ids = db.session.execute(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"reader{i}@example.com",
                "password_hash": "!",
                "timezone": timezone,
                "digest_enabled": True,
                "digest_weekday": 6,
                "digest_local_time": "18:00",
                "digest_send_empty": True,
                "digest_next_at": due_at,
                "digest_planned_at": due_at,
                "created_at": due_at,
            }
            for i in range(n)
        ],
    ).scalars().all()
    db.session.commit()
    return list(ids)
