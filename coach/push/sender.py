"""Sending Web Push messages with pywebpush (RFC 8030, VAPID RFC 8292, aes128gcm RFC 8291).

One `Sender` lives for one tick: a small thread pool, each worker with its own guarded
`requests.Session` (keep-alive per push service), all closed when the tick ends. Each
message is encrypted for its subscription (a fresh ECDH key, HKDF, AES-GCM) and signed
with a fresh VAPID claims dict (pywebpush writes into the dict it is given).

Why threads: a push is ~0.1 ms of encryption and signing plus a network round trip, and
the round trip dominates against a real push service, so a few threads overlap the
waiting; more processes (several schedulers) add CPU when one core is not enough.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from .guard import EndpointRefused, check_url, guarded_session, insecure_set

log = logging.getLogger(__name__)

DEFAULT_TTL = 60 * 60  # seconds; like the stale rule: an hour late, a reminder is no use
DEFAULT_TIMEOUT = (5.0, 10.0)  # connect, read
VAPID_LIFETIME = 12 * 60 * 60  # RFC 8292 allows up to 24 h
MAX_RETRY_AFTER = 24 * 60 * 60


@dataclass(frozen=True)
class Push:
    tag: Any  # the caller's key for the outcome, e.g. (reminder id, subscription id)
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    topic: str  # ≤ 32 base64url characters: a newer message with the same topic replaces it
    urgency: str = "normal"


@dataclass(frozen=True)
class Outcome:
    tag: Any
    status: str  # delivered | gone (404/410) | retry (429/5xx/network) | refused | failed
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


class Sender:
    """Use as a context manager: `with Sender(...) as sender: sender.send_all(pushes)`."""

    def __init__(
        self,
        vapid: Vapid,
        subject: str,
        insecure_hosts=(),
        workers: int = 12,
        ttl: int = DEFAULT_TTL,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.vapid = vapid
        self.subject = subject
        self.insecure_hosts = insecure_set(insecure_hosts)
        self.workers = max(1, workers)
        self.ttl = ttl
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = guarded_session(self.insecure_hosts)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def send_all(self, pushes: list[Push]) -> list[Outcome]:
        """Send every push concurrently; outcomes in the same order."""
        if not pushes:
            return []
        if self.workers == 1 or len(pushes) == 1:
            return [self.send_one(p) for p in pushes]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="push")
        return list(self._pool.map(self.send_one, pushes))

    def send_one(self, push: Push) -> Outcome:
        try:
            check_url(push.endpoint, self.insecure_hosts)  # the rules may have changed since
            claims = {  # fresh per call: pywebpush fills in the dict it is given
                "sub": self.subject,
                "aud": origin(push.endpoint),
                "exp": int(time.time()) + VAPID_LIFETIME,  # the push service's clock, not the tick's
            }
            response = webpush(
                subscription_info={"endpoint": push.endpoint, "keys": {"p256dh": push.p256dh, "auth": push.auth}},
                data=push.payload,
                vapid_private_key=self.vapid,
                vapid_claims=claims,
                ttl=self.ttl,
                headers={"Urgency": push.urgency, "Topic": push.topic},
                timeout=self.timeout,
                requests_session=self._session(),
            )
            return Outcome(push.tag, "delivered", response.status_code)
        except EndpointRefused as exc:
            return Outcome(push.tag, "refused", detail=str(exc))
        except WebPushException as exc:
            return _classify(push.tag, exc)
        except requests.RequestException as exc:  # connection refused, reset, timeout
            return Outcome(push.tag, "retry", detail=type(exc).__name__)
        except Exception as exc:  # a bad key or a library error must not stop the tick
            log.warning("push to %s failed: %r", origin(push.endpoint), exc)
            return Outcome(push.tag, "failed", detail=type(exc).__name__)


def _classify(tag: Any, exc: WebPushException) -> Outcome:
    status = exc.status_code
    if status in (404, 410):
        return Outcome(tag, "gone", status)
    if status == 429 or (status is not None and status >= 500):
        return Outcome(tag, "retry", status, parse_retry_after(exc.retry_after))
    return Outcome(tag, "failed", status, detail=(exc.message or "")[:200])
