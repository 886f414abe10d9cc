"""Leases on queue rows, shared by the tick's steps (reminders, digests).

A step claims due rows by moving their due instant to a lease instant a few minutes ahead;
no other scheduler takes them before it. A lease must follow real time even when a tick
runs as if at another instant (`coach tick --at`) and however long the tick has already
taken (a big queue is many batches), so it is reckoned on the tick's clock: the tick's
`now` moved on by the real time since the tick began. A live process stops sending before
its lease ends; so a lease that has run out with its work still unfinished means the
process holding it died, and a later tick takes the rows again.
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta

# Set when the process is asked to stop (SIGTERM to `coach scheduler`): each step finishes
# the batch it has claimed and claims no more, so a graceful stop takes one batch, not a
# whole queue; what is left stays due for the next scheduler.
stopping = threading.Event()


class TickClock:
    """`now` moved on by the real (monotonic) time since this clock was made."""

    def __init__(self, now: datetime):
        self.now, self._started = now, time.monotonic()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self._started)


def lease_from(instant: datetime, length: timedelta) -> datetime:
    """A lease instant `length` after `instant`, plus a random number of microseconds so
    it is this batch's own: a write guarded by `due == lease` then only touches rows this
    batch still holds (an edit made meanwhile through the API wins)."""
    return instant + length + timedelta(microseconds=secrets.randbelow(1_000_000))
