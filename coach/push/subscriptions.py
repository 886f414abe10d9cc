"""Push subscriptions: one user, many devices; one endpoint, one owner."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import PushSubscription, User
from .guard import check_endpoint, insecure_set

# Devices per user. Browsers make a new endpoint now and then (pushsubscriptionchange),
# and an old one is only found dead when a push to it fails, so instead of refusing the
# newest device the least recently (re)subscribed one makes room. Also bounds how many
# requests one account can make the tick send.
MAX_SUBSCRIPTIONS = 10


def subscribe(
    user: User,
    endpoint: str,
    p256dh: str,
    auth: str,
    expires_at: datetime | None,
    now: datetime,
    insecure_hosts=(),
    resolver: Callable[[str, int], list[str]] | None = None,
    token_id: int | None = None,
) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription; returns (subscription, created).

    The endpoint is checked by the guard first (raises guard.EndpointRefused). A known
    endpoint gets the new keys. An endpoint known under ANOTHER account moves to this one:
    the browser (device) that owns the endpoint is now signed in as this user, so the
    previous account must stop sending its reminders there. `token_id` is the sign-in that
    subscribed it: signing that device out (or logging out on it) deletes the subscription.
    """
    check_endpoint(endpoint, insecure_set(insecure_hosts), resolver)
    for _ in range(2):  # a concurrent insert of the same endpoint: the second try updates it
        sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        created = sub is None
        if created:
            sub = PushSubscription(endpoint=endpoint, created_at=now)
            db.session.add(sub)
        sub.user_id = user.id
        sub.auth_token_id = token_id
        sub.p256dh, sub.auth, sub.expires_at, sub.updated_at = p256dh, auth, expires_at, now
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        if created:
            _evict_oldest(user)
        return sub, created
    raise RuntimeError("could not store the subscription")  # pragma: no cover


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget the user's own subscription at `endpoint`; another user's is left alone."""
    result = db.session.execute(
        delete(PushSubscription).where(PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id)
    )
    db.session.commit()
    return result.rowcount > 0


def _evict_oldest(user: User) -> None:
    keep = (
        select(PushSubscription.id)
        .where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.updated_at.desc(), PushSubscription.id.desc())
        .limit(MAX_SUBSCRIPTIONS)
    )
    kept = list(db.session.scalars(keep))
    if len(kept) == MAX_SUBSCRIPTIONS:
        db.session.execute(
            delete(PushSubscription).where(PushSubscription.user_id == user.id, PushSubscription.id.not_in(kept))
        )
        db.session.commit()
