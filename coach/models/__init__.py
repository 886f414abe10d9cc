"""Typed SQLAlchemy 2 models, one module per area; imported here so Alembic sees them all."""
from .practice import CustomRoutine, PlanEnrolment, PracticeSession
from .safety import ResonanceAssessment
from .scheduling import DigestDelivery, PushSubscription, Reminder, ReminderDelivery, SchedulerHeartbeat
from .types import UTCDateTime, utcnow
from .user import AuthToken, User

__all__ = [
    "AuthToken",
    "CustomRoutine",
    "DigestDelivery",
    "PlanEnrolment",
    "PracticeSession",
    "PushSubscription",
    "Reminder",
    "ReminderDelivery",
    "ResonanceAssessment",
    "SchedulerHeartbeat",
    "User",
    "UTCDateTime",
    "utcnow",
]
