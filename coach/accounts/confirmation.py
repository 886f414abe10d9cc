"""Email confirmation and address change: a single-use link proves an address.

The weekly summary and every other email wait for a confirmed address (planning.plan_digest
plans nothing before); a changed address takes effect only when the new address's link is
used, and the old, confirmed address is told, with a "this wasn't me" link.
"""
from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AccountEmail, AuthToken, User
from ..planning import plan_digest
from . import links, outbox
from .addresses import checked_address


class AddressTaken(Exception):
    """Another account uses that address."""


def start(user: User, now: datetime) -> None:
    """Queue a confirmation for the account's unconfirmed (or pending) address, keeping the
    nonce of a link already sent so an earlier email's link still works (not committed)."""
    if user.email_confirmed_at is not None and not user.pending_email:
        return  # nothing to confirm
    user.confirm_nonce = user.confirm_nonce or links.new_nonce()
    if user.pending_email:
        outbox.queue(outbox.CONFIRM_NEW, user.pending_email, now, user=user, nonce=user.confirm_nonce)
    else:
        outbox.queue(outbox.CONFIRM, user.email, now, user=user, nonce=user.confirm_nonce)


def resend(user: User, now: datetime) -> None:
    start(user, now)
    db.session.commit()


def confirm(secret_key: str, token: object, now: datetime) -> User:
    """Use a confirmation link: the address it names becomes the account's, confirmed.
    BadLink when it is not ours, expired, used or superseded; AddressTaken when another
    account took the new address meanwhile."""
    link = links.read(secret_key, links.CONFIRM, token, now)
    user = db.session.get(User, link.user_id)
    if user is None or not user.confirm_nonce or not hmac.compare_digest(link.nonce, user.confirm_nonce):
        raise links.BadLink
    if user.pending_email and link.tag == links.tag(user.pending_email):
        user.email, user.pending_email = user.pending_email, None
    elif not (user.email_confirmed_at is None and link.tag == links.tag(user.email)):
        raise links.BadLink
    user.email_confirmed_at = now
    user.confirm_nonce = None
    plan_digest(user, now)  # the weekly summary may begin
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise AddressTaken from exc
    return user


def change_address(user: User, new_text: str, now: datetime) -> None:
    """PATCH /api/me {email}: the new address gets a link; the old one, when confirmed, is
    told. The same address again cancels a pending change. Not committed."""
    new = checked_address(new_text)
    if new == user.email:
        if user.pending_email:
            user.pending_email = None
            user.confirm_nonce = None
        return
    taken = db.session.scalar(select(User.id).where(User.email == new, User.id != user.id))
    if taken is not None:
        raise AddressTaken
    user.pending_email = new
    user.confirm_nonce = links.new_nonce()  # any older confirmation link is void
    outbox.queue(outbox.CONFIRM_NEW, new, now, user=user, nonce=user.confirm_nonce)
    if user.email_confirmed_at is not None:
        outbox.queue(outbox.CHANGED, user.email, now, user=user, nonce=links.new_nonce(), other_address=new)


def not_me(secret_key: str, token: object, now: datetime) -> User:
    """The old address says "this wasn't me": the change is cancelled (or undone, if its link
    was used), every device is signed out, and the old address gets a link to choose a new
    password. Single use: afterwards the account no longer matches the link."""
    link = links.read(secret_key, links.NOT_ME, token, now)
    user = db.session.get(User, link.user_id)
    notice = db.session.scalar(
        select(AccountEmail).where(
            AccountEmail.user_id == link.user_id, AccountEmail.kind == outbox.CHANGED, AccountEmail.nonce == link.nonce
        )
    )
    if user is None or notice is None or not notice.other_address or link.tag != links.tag(notice.address, notice.other_address):
        raise links.BadLink
    old, new = notice.address, notice.other_address
    if user.pending_email == new and user.email == old:
        user.pending_email = None
    elif user.email == new and user.pending_email is None:
        taken = db.session.scalar(select(User.id).where(User.email == old, User.id != user.id))
        if taken is not None:
            raise links.BadLink
        user.email = old
    else:
        raise links.BadLink
    user.email_confirmed_at = user.email_confirmed_at or now
    user.confirm_nonce = None
    user.reset_nonce = links.new_nonce()
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    outbox.queue(outbox.RESET, user.email, now, user=user, nonce=user.reset_nonce)
    plan_digest(user, now)
    db.session.commit()
    return user
