"""The data-version counter: every write to a user's sessions or custom routines counts it up,
so answers kept per worker (insights) know when they are stale."""
from __future__ import annotations

from sqlalchemy import bindparam, update

from ..extensions import db
from ..models import User

_USERS = User.__table__
# On the table, not the class: an ORM UPDATE would first look for the row among loaded objects.
_COUNT_WRITE = update(_USERS).where(_USERS.c.id == bindparam("user_id")).values(data_version=_USERS.c.data_version + 1)


def note_data_changed(user: User) -> None:
    """Count a write to the user's sessions or custom routines, in the caller's transaction
    (an atomic increment, so two concurrent writes count twice)."""
    db.session.execute(_COUNT_WRITE, {"user_id": user.id})
