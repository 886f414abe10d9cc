"""Typed SQLAlchemy 2 models, one module per area; imported here so Alembic sees them all."""
from .passkeys import Passkey, PasskeyChallenge
from .practice import CustomRoutine, PlanEnrolment, PracticeBlock, PracticeDay, PracticeDayState, PracticeSession
from .safety import ResonanceAssessment
from .scheduling import DigestDelivery, PushSubscription, Reminder, ReminderDelivery, SchedulerHeartbeat
from .types import UTCDateTime, utcnow
from .user import AccountEmail, AuthToken, User

__all__ = [
    "AccountEmail",
    "AuthToken",
    "CustomRoutine",
    "DigestDelivery",
    "Passkey",
    "PasskeyChallenge",
    "PracticeBlock",
    "PracticeDay",
    "PracticeDayState",
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
