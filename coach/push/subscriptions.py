"""Push subscriptions: one user, many devices; one endpoint, one owner."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import PushSubscription, User
from .guard import check_endpoint, insecure_set


def subscribe(
    user: User,
    endpoint: str,
    p256dh: str,
    auth: str,
    expires_at: datetime | None,
    now: datetime,
    insecure_hosts=(),
    resolver: Callable[[str, int], list[str]] | None = None,
) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription; returns (subscription, created).

    The endpoint is checked by the guard first (raises guard.EndpointRefused). A known
    endpoint gets the new keys. An endpoint known under ANOTHER account moves to this one:
    the browser (device) that owns the endpoint is now signed in as this user, so the
    previous account must stop sending its reminders there.
    """
    check_endpoint(endpoint, insecure_set(insecure_hosts), resolver)
    for _ in range(2):  # a concurrent insert of the same endpoint: the second try updates it
        sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        created = sub is None
        if created:
            sub = PushSubscription(endpoint=endpoint, created_at=now)
            db.session.add(sub)
        sub.user_id = user.id
        sub.p256dh, sub.auth, sub.expires_at, sub.updated_at = p256dh, auth, expires_at, now
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        return sub, created
    raise RuntimeError("could not store the subscription")  # pragma: no cover


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget the user's own subscription at `endpoint`; another user's is left alone."""
    result = db.session.execute(
        delete(PushSubscription).where(PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id)
    )
    db.session.commit()
    return result.rowcount > 0
