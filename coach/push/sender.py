"""Sending Web Push messages (RFC 8030, VAPID RFC 8292, aes128gcm RFC 8291).

One `Sender` lives for one tick: an event loop of its own and ONE HTTP client session
(keep-alive connections to each push service), closed when the tick ends. Each message
is encrypted for its subscription by pywebpush (a fresh ECDH key, HKDF, AES-GCM) and
signed by py_vapid with fresh claims, and the request is sent here, through the guarded
session (coach.push.guard checks every request again: the rules may have changed since
the browser subscribed). Not `pywebpush.webpush_async`: it reads the whole answer, and
a push endpoint is a URL a user chose; an answer of 1 GB took the process to 2.9 GB.

What one account (or one push host) can take from everyone else is bounded:
- at most `ANSWER_LIMIT` bytes of any answer are read; a longer one closes the connection;
- short connect and read timeouts (`DEFAULT_TIMEOUT`);
- at most `per_host` requests at once to one push host (scheme, host, port) once it has
  answered in this tick, and only `PROBE` to one that has not (yet, or for STALL_AFTER
  seconds), so a host that holds connections open holds few of the others'; at most
  `per_owner` at once for one owner (the user): the rest wait without holding any of the
  `concurrency`, and the pushes start in round-robin order over the owners, so one user's
  many reminders and devices queue behind their own, not in front of everyone else's;
- an endpoint that timed out or could not be reached is set aside for the rest of the
  tick (`set_aside`): its other pushes are answered `set_aside` without a request. The
  caller sets it aside for hours when it keeps failing (coach.tick.reminders). So is a
  whole push host once requests to it in a row went unanswered: `per_host` of them if it
  answered earlier in this tick, `PROBE` if it never did (down, or an attacker's host
  that only holds connections open);
- `submit` lets the caller go on with the next batch while one is stalled on such a host
  (`Sending.stalled`).

Why asyncio and aiohttp rather than a thread pool of requests.Sessions (design.md's
first idea): measured on this 2-core machine against the loopback push service, the
threads spent more CPU on requests' per-call overhead and on contending for the GIL
than on the encryption (about 0.8–1.1 ms of CPU per push, ~1,000 pushes/s), while one
event loop needs about 0.4–0.5 ms per push (~1,800 pushes/s) and still overlaps the
waiting on a distant push service.

Progress is kept as it happens: `send_all(..., record=write)` hands every delivered push to
`write` (several per call when they arrive together, so a commit serves many) and a push
keeps its place among the `concurrency` until the call that records it has returned. So
at any instant at most `concurrency` pushes are out on the wire or delivered but not yet
recorded: all that a crash can make go out twice.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid
from pywebpush import WebPusher

from .guard import EndpointRefused, guarded_client_session, insecure_set

log = logging.getLogger(__name__)

DEFAULT_TTL = 60 * 60  # seconds; like the stale rule: an hour late, a reminder is no use
# A push service answers in well under a second; one that takes longer is not waited for.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3, sock_connect=3, sock_read=5)
DEFAULT_CONCURRENCY = 16
ANSWER_LIMIT = 4096  # bytes of an answer ever read: its status and a short reason are all we use
# A batch is stalled when every push it still waits for goes to a host that has not
# answered anything for this long (see Sending.stalled). Short: taking one more batch
# while a host is slow to answer costs little (see coach.tick.reminders.MAX_UNDER_WAY).
STALL_AFTER = 0.25
PROBE = 2  # requests at once to a host that has not answered in this tick, or has gone silent
VAPID_LIFETIME = 12 * 60 * 60  # RFC 8292 allows up to 24 h
MAX_RETRY_AFTER = 24 * 60 * 60


@dataclass(frozen=True)
class Push:
    tag: Any  # the caller's key for the outcome, e.g. (reminder item, subscription id)
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    topic: str  # ≤ 32 base64url characters: a newer message with the same topic replaces it
    urgency: str = "normal"
    owner: Any = None  # whose push (a user id): served round-robin, `per_owner` at once


@dataclass(frozen=True)
class Outcome:
    tag: Any
    # delivered | gone (404/410) | retry (429/5xx) | timeout (no answer in time, or the
    # endpoint could not be reached) | set_aside (not tried: its endpoint timed out earlier
    # in this tick) | refused (the guard) | failed (another 4xx, a bad key)
    status: str
    http_status: int | None = None
    retry_after: float | None = None  # seconds, from the push service's Retry-After
    detail: str = ""


def parse_retry_after(value: str | None, wall_now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (wall_now if wall_now is not None else time.time())
    return float(min(max(delta, 0.0), MAX_RETRY_AFTER))


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Sending:
    """One `submit`ted batch of pushes on its way: `future` gives the outcomes."""

    sender: Sender
    pushes: list[Push]
    future: Future = field(default_factory=Future)
    unfinished: set[int] = field(default_factory=set)

    def done(self) -> bool:
        return self.future.done()

    def stalled(self) -> bool:
        """Every push still unfinished goes to a host that has been asked and has not
        answered for STALL_AFTER seconds (a host that answers nobody: down, or an attacker's
        that holds connections open): waiting for this batch is waiting for timeouts only."""
        if self.done():
            return False
        now = time.monotonic()
        silent_since = self.sender.silent_since
        for i in list(self.unfinished):
            since = silent_since.get(origin(self.pushes[i].endpoint))
            if since is None or now - since < STALL_AFTER:
                return False
        return True


def round_robin(pushes: list[Push]) -> list[int]:
    """Indices of `pushes`: the first of each owner's, then the second of each … (owners in
    the order they first appear; pushes without an owner each count as their own)."""
    queues: dict[Any, deque[int]] = {}
    for i, push in enumerate(pushes):
        queues.setdefault(push.owner if push.owner is not None else ("push", i), deque()).append(i)
    order: list[int] = []
    while queues:
        for owner in list(queues):
            queue = queues[owner]
            order.append(queue.popleft())
            if not queue:
                del queues[owner]
    return order


class Sender:
    """Use as a context manager: `with Sender(...) as sender: sender.send_all(pushes)`."""

    def __init__(
        self,
        vapid: Vapid,
        subject: str,
        insecure_hosts=(),
        concurrency: int = DEFAULT_CONCURRENCY,
        ttl: int = DEFAULT_TTL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        per_host: int | None = None,
        per_owner: int | None = None,
    ) -> None:
        self.vapid = vapid
        self.subject = subject
        self.insecure_hosts = insecure_set(insecure_hosts)
        self.concurrency = max(1, concurrency)
        # Three quarters of the concurrency for one push host (most users share two or
        # three big ones), a quarter for one user: a host or an account that hangs leaves
        # the rest for everyone else.
        self.per_host = per_host or max(1, self.concurrency * 3 // 4)
        self.per_owner = per_owner or max(1, self.concurrency // 4)
        self.ttl = ttl
        self.timeout = timeout
        self.set_aside: set[str] = set()  # endpoints, and origins, that timed out in this Sender's life (one tick)
        self._unanswered: dict[str, int] = {}  # origin -> requests in a row without an answer
        # origin -> since when it has been asked without answering (monotonic); gone once it answers
        self.silent_since: dict[str, float] = {}
        self._hosts: dict[str, _HostGate] = {}
        self._answered: set[str] = set()  # origins that answered in this tick
        self._gate: asyncio.Semaphore | None = None  # the `concurrency`, shared by every batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        # The loop runs on a thread of its own: the caller's thread may already run an event
        # loop (an async host, a browser driver in the tests); and the caller goes on (with
        # the next batch) while a batch is sent.
        self._thread: threading.Thread | None = None

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._loop is None:
            return
        if self._session is not None:
            self._run(self._session.close())
            self._session = None
        self._run(self._loop.shutdown_asyncgens())
        self._run(self._loop.shutdown_default_executor())  # the resolver's threads
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = None
        self._thread = None

    def send_all(
        self, pushes: list[Push], budget: float | None = None, record: Callable[[list[Outcome]], Any] | None = None
    ) -> list[Outcome]:
        """Send every push, `concurrency` at a time; outcomes in the same order. Whatever
        is not done within `budget` seconds is cancelled and answered `retry`, so a tick
        never outlives the lease on its rows, however slow a push service is.

        `record`, when given, is called (or awaited, if it returns an awaitable) on the
        event loop with delivered outcomes (see the module's doc); an `aclose()` it has is
        awaited at the end; if it raises, no further push is started, the ones not sent are
        answered `retry`, and send_all raises that error once the others are done."""
        if not pushes:
            return []
        return self.submit(pushes, budget, record).future.result()

    def submit(
        self, pushes: list[Push], budget: float | None = None, record: Callable[[list[Outcome]], Any] | None = None
    ) -> Sending:
        """`send_all` without waiting: the batch is sent on the sender's loop (sharing the
        `concurrency` with every other batch under way) while the caller goes on."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="push-sender", daemon=True)
            self._thread.start()
        sending = Sending(self, pushes, unfinished=set(range(len(pushes))))
        sending.future = asyncio.run_coroutine_threadsafe(self._send_all(sending, budget, record), self._loop)
        return sending

    async def _send_all(self, sending: Sending, budget: float | None, record) -> list[Outcome]:
        pushes = sending.pushes
        if self._session is None:
            self._session = guarded_client_session(
                self.insecure_hosts, connections=self.concurrency, per_host=self.per_host
            )
            self._gate = asyncio.Semaphore(self.concurrency)
        gate = self._gate
        owners: dict[Any, asyncio.Semaphore] = {}
        endpoints: dict[str, asyncio.Lock] = {}
        recorder = _Recorder(record) if record is not None else None
        answered: list[Outcome | None] = [None] * len(pushes)

        def owner_gate(push: Push):
            if push.owner is None:
                return contextlib.nullcontext()
            return owners.setdefault(push.owner, asyncio.Semaphore(self.per_owner))

        async def one(i: int, push: Push) -> None:
            # The endpoint's, the owner's and the host's turn first: a push waiting for
            # those holds no place among the `concurrency`. One request at a time to an
            # endpoint, so one that times out is set aside before its next push is sent.
            name = origin(push.endpoint)
            host = self._hosts.get(name) or self._hosts.setdefault(name, _HostGate(self, name))
            endpoint = endpoints.setdefault(push.endpoint, asyncio.Lock())
            async with endpoint, owner_gate(push), host, gate:
                if recorder is not None and recorder.error is not None:
                    return  # progress can no longer be kept: send nothing more
                outcome = answered[i] = await self.send_one(push)
                if recorder is not None and outcome.status == "delivered":
                    await recorder.add(outcome)  # the slot is held until it is committed
            sending.unfinished.discard(i)

        # Semaphores wake their waiters in order, so tasks made in round-robin order start so.
        tasks = [asyncio.ensure_future(one(i, pushes[i])) for i in round_robin(pushes)]
        await asyncio.wait(tasks, timeout=budget)
        for task in tasks:
            task.cancel()  # a no-op for the finished ones
        await asyncio.gather(*tasks, return_exceptions=True)  # let the cancelled ones finish
        if recorder is not None:
            await recorder.close()  # every delivered push recorded (or the error raised)
        return [
            outcome if outcome is not None else Outcome(push.tag, "retry", detail="out of time")
            for push, outcome in zip(pushes, answered)
        ]

    async def send_one(self, push: Push) -> Outcome:
        host = origin(push.endpoint)
        if push.endpoint in self.set_aside or host in self.set_aside:
            return Outcome(push.tag, "set_aside", detail="timed out earlier in this tick")
        try:
            body = WebPusher({"endpoint": push.endpoint, "keys": {"p256dh": push.p256dh, "auth": push.auth}}).encode(
                push.payload, "aes128gcm"
            )["body"]
            claims = {
                "sub": self.subject,
                "aud": origin(push.endpoint),
                "exp": int(time.time()) + VAPID_LIFETIME,  # the push service's clock, not the tick's
            }
            headers = {
                **self.vapid.sign(claims),
                "TTL": str(self.ttl),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "Urgency": push.urgency,
                "Topic": push.topic,
            }
        except Exception as exc:  # a bad key must not stop the tick
            log.warning("push to %s not encrypted: %r", origin(push.endpoint), exc)  # rare: not one per push
            return Outcome(push.tag, "failed", detail=type(exc).__name__)
        self.silent_since.setdefault(host, time.monotonic())
        try:
            async with self._session.post(push.endpoint, data=body, headers=headers, timeout=self.timeout) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                answer = await _read_some(response, ANSWER_LIMIT)
        except EndpointRefused as exc:  # refused before a byte went out: the host was not asked
            if self._unanswered.get(host, 0) == 0:
                self.silent_since.pop(host, None)
            return Outcome(push.tag, "refused", detail=str(exc))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:  # refused, reset, timed out
            self.set_aside.add(push.endpoint)
            self._unanswered[host] = self._unanswered.get(host, 0) + 1
            if self._unanswered[host] >= (self.per_host if host in self._answered else PROBE):
                self.set_aside.add(host)
            return Outcome(push.tag, "timeout", detail=type(exc).__name__)
        self._unanswered[host] = 0
        self.silent_since.pop(host, None)
        if host not in self._answered:
            self._answered.add(host)
            if host in self._hosts:
                await self._hosts[host].wake()  # its limit grew: more may go now
        return _classify(push.tag, status, retry_after, answer)

    def host_limit(self, host: str) -> int:
        """Requests at once to `host` now: `per_host` while it answers, else PROBE."""
        if host not in self._answered:
            return min(PROBE, self.per_host)
        since = self.silent_since.get(host)
        if since is not None and time.monotonic() - since >= STALL_AFTER:
            return min(PROBE, self.per_host)
        return self.per_host


async def _read_some(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most `limit` bytes of the answer; a longer one (or one that stalls) closes the
    connection instead of being read. What is read is only a reason for the log."""
    if response.content_length == 0:
        return b""
    try:
        answer = await response.content.read(limit)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        answer = b""
    if not response.content.at_eof():
        response.close()  # not released for reuse: the rest is never read
    return answer


class _HostGate:
    """The requests at once to one push host, up to `Sender.host_limit` (which grows once
    the host answers, and shrinks while it is silent)."""

    def __init__(self, sender: Sender, host: str):
        self.sender, self.host = sender, host
        self.in_flight = 0
        self.changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.in_flight < self.sender.host_limit(self.host))
            self.in_flight += 1

    async def __aexit__(self, *exc) -> None:
        async with self.changed:
            self.in_flight -= 1
            self._wake()

    async def wake(self) -> None:
        async with self.changed:
            self._wake()

    def _wake(self) -> None:
        # As many waiters as may go now, first come first: waking all of them (thousands
        # wait on a big push service) at every answer would cost O(n²).
        self.changed.notify(max(0, self.sender.host_limit(self.host) - self.in_flight))


class _Recorder:
    """Group commit for `send_all(record=…)`: the pushes answered while one write runs are
    recorded together by the next. `write` runs on the event loop's own thread, either as a
    coroutine (a database driver with asyncio support: the loop goes on sending meanwhile)
    or as a plain call (SQLite: no network round trip to wait for). A worker thread was
    measured slower: it contends with the loop for the GIL."""

    def __init__(self, write: Callable[[list[Outcome]], Any]):
        self._write = write
        self._pending: list[tuple[Outcome, asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None
        self.error: BaseException | None = None

    async def add(self, outcome: Outcome) -> None:
        recorded = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, recorded))
        if self._drainer is None or self._drainer.done():
            # Runs after this turn of the loop: everything answered in it goes in one write.
            self._drainer = asyncio.ensure_future(self._drain())
        await recorded

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            if self.error is None:
                try:
                    result = self._write([o for o, _ in group])
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:  # noqa: BLE001 - raised by close()
                    self.error = exc
            for _, recorded in group:
                if not recorded.done():  # its waiter may have been cancelled (out of time)
                    recorded.set_result(None)

    async def close(self) -> None:
        # A cancelled waiter does not cancel the drainer: what was delivered is recorded.
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)
        closing = getattr(self._write, "aclose", None)
        if closing is not None:
            await closing()
        if self.error is not None:
            raise self.error


def _classify(tag: Any, status: int, retry_after: str | None, answer: bytes) -> Outcome:
    if 200 <= status <= 202:
        return Outcome(tag, "delivered", status)
    if status in (404, 410):
        return Outcome(tag, "gone", status)
    if status == 429 or status >= 500:
        return Outcome(tag, "retry", status, parse_retry_after(retry_after))
    return Outcome(tag, "failed", status, detail=answer[:200].decode("utf-8", "replace"))
