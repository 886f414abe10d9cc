"""The account mail queue: a request only adds a row; the tick's account-mail step sends it
(coach.tick.account_mail), so the tick is the one way anything is sent."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import AccountEmail, User

# The kinds, and who may receive them. Only the confirmations go to an address that is not
# confirmed (the address being confirmed); everything else waits for a confirmed one.
CONFIRM = "confirm"  # the account's own address, not yet confirmed
CONFIRM_NEW = "confirm-new"  # an address change: to the new address
CHANGED = "changed-notice"  # an address change: to the old, confirmed address ("this wasn't me")
RESET_REQUEST = "reset-request"  # a reset asked for by address: resolved by the tick
RESET = "reset"  # a reset for a known account (after "this wasn't me")
CONFIRMATIONS = frozenset({CONFIRM, CONFIRM_NEW})


def queue(kind: str, address: str, now: datetime, *, user: User | None = None, nonce: str | None = None,
          other_address: str | None = None) -> AccountEmail:
    """Add a message to the queue in the caller's transaction (due at once)."""
    row = AccountEmail(
        user_id=user.id if user is not None else None, kind=kind, address=address, other_address=other_address,
        nonce=nonce, created_at=now, due_at=now, status="queued", attempts=0,
    )
    db.session.add(row)
    return row
