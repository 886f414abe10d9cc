"""Password reset by email, and password change in Settings.

A reset request answers the same whatever the address: it only adds a queue row with the
typed address, the same work either way; the tick looks the account up, and mails a link
only to an existing, confirmed address. The link works once, for an hour, and is voided by
a newer link (the nonce) or by any password change (its tag is the password hash as it was).
"""
from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import delete, update

from ..extensions import db
from ..models import AuthToken, User
from . import links, outbox
from .addresses import normalise_email
from .passwords import WrongPassword, check_password, hash_password


def password_tag(user: User) -> str:
    return links.tag(user.password_hash)


def request_link(email: str, now: datetime) -> None:
    outbox.queue(outbox.RESET_REQUEST, normalise_email(email)[:254], now)
    db.session.commit()


def reset(secret_key: str, token: object, password: str, now: datetime) -> User:
    """Set a new password from a reset link; every token of the account is revoked."""
    link = links.read(secret_key, links.RESET, token, now)
    user = db.session.get(User, link.user_id)
    if (
        user is None
        or not user.reset_nonce
        or not hmac.compare_digest(link.nonce, user.reset_nonce)
        or not hmac.compare_digest(link.tag, password_tag(user))
    ):
        raise links.BadLink
    # Compare-and-set on the nonce: of two uses at once, one wins and the other is refused.
    won = db.session.execute(
        update(User).where(User.id == user.id, User.reset_nonce == link.nonce)
        .values(password_hash=hash_password(password), reset_nonce=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.rollback()
        raise links.BadLink
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    db.session.commit()
    db.session.refresh(user)
    return user


def change(user: User, current: str, new: str, keep_token_id: int | None) -> None:
    """PUT /api/me/password: every other token is revoked, and any reset link voided."""
    if not check_password(user, current):
        raise WrongPassword
    user.password_hash = hash_password(new)
    user.reset_nonce = None
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id, AuthToken.id != keep_token_id))
    db.session.commit()
