"""A loopback Web Push service for the tests and the benchmark: a real HTTP server on
127.0.0.1 that does what a browser vendor's push service does with a message.

For each POST to a device's endpoint it checks
- the VAPID header `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): an ES256 JWT whose
  signature verifies with `k`, `aud` = this service's origin, `exp` in the future and at
  most 24 h ahead, a `sub`; and `k` equal to the application server key, when given;
- `TTL`, `Content-Encoding: aes128gcm`, `Urgency` and `Topic` (≤ 32 base64url characters);
- the body, by decrypting it (RFC 8291/8188) with the device's own private key and auth
  secret using http_ece, as the browser would;
then records the delivery and answers 201, or answers whatever a test asked of that
endpoint (404, 410, 429 with Retry-After, 500 …, or 201 with a huge body: `answer`), or
never answers at all (`hang`: a hostile endpoint). A message that fails a check is
answered 400/401 and kept in `errors`, so a test can assert there were none.

`verify=False` (the benchmark) only records the raw request while it is timed; `verify()`
checks everything afterwards. `vapid_keys()` makes an application server's key pair.
"""
from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
URGENCIES = {"very-low", "low", "normal", "high"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    text = text.strip().rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A browser's push subscription: its own P-256 key pair and auth secret."""

    def __init__(self, endpoint: str, private_key: ec.EllipticCurvePrivateKey | None = None, auth: bytes | None = None):
        self.endpoint = endpoint
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.auth = auth or os.urandom(16)
        self.p256dh = b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.auth_b64 = b64url(self.auth)

    def subscription(self) -> dict:
        """What `PushSubscription.toJSON()` gives the page."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth_b64}}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")


@dataclass
class Received:
    """One request as it arrived."""

    endpoint: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int = 0


@dataclass
class Delivery:
    """One message the service accepted, decrypted."""

    endpoint: str
    topic: str | None
    urgency: str | None
    ttl: int
    payload: Any
    claims: dict = field(default_factory=dict)


class PushService:
    def __init__(
        self,
        app_server_key: str | None = None,
        verify: bool = True,
        host: str = "127.0.0.1",
        delay: float = 0.0,
        hang_all: bool = False,
    ):
        self.app_server_key = app_server_key
        self.verify_now = verify
        self.delay = delay  # seconds before each answer, as a distant push service
        self.devices: dict[str, Device] = {}
        self.deliveries: list[Delivery] = []
        self.received: list[Received] = []
        self.errors: list[str] = []
        self._answers: dict[str, list] = {}  # endpoint -> [status, retry_after, times_left]
        self._bodies: dict[str, int] = {}  # endpoint -> bytes of body in each answer
        self._hanging: set[str] = set()  # endpoints that never answer
        self._stopped = threading.Event()
        self.hang_all = hang_all  # every endpoint hangs (an attacker's host, in the benchmark)
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real push services

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                endpoint = service.origin + self.path
                if service.hang_all or endpoint in service._hanging:  # read the request, never answer
                    with service._lock:
                        service.received.append(Received(endpoint, dict(self.headers.items()), body, time.time()))
                    service._stopped.wait(600)
                    self.close_connection = True
                    return
                status, headers = service._handle(self.path, dict(self.headers.items()), body)
                if service.delay:
                    time.sleep(service.delay)
                size = service._bodies.get(endpoint, 0)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    chunk = b"x" * 65536
                    while size > 0:  # streamed: the service itself stays small
                        self.wfile.write(chunk[: min(size, len(chunk))])
                        size -= len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the sender stopped reading: as it should

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self.host = host
        self.port = self._server.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> PushService:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()  # the hanging handlers end
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- devices and answers -----------------------------------------------------------
    def device(self, name: str | None = None) -> Device:
        name = name or f"d{len(self.devices) + 1}"
        dev = Device(f"{self.origin}/push/{name}")
        self.devices[dev.endpoint] = dev
        return dev

    def add_device(self, dev: Device) -> Device:
        self.devices[dev.endpoint] = dev
        return dev

    def answer(self, device: Device | str, status: int, retry_after: str | None = None, times: int | None = None) -> None:
        """Answer `status` to the next `times` messages for this endpoint (None: always)."""
        endpoint = device if isinstance(device, str) else device.endpoint
        with self._lock:
            self._answers[endpoint] = [status, retry_after, times]

    def answer_body(self, device: Device | str, size: int) -> None:
        """Every answer for this endpoint carries `size` bytes of body (streamed)."""
        self._bodies[device if isinstance(device, str) else device.endpoint] = size

    def hang(self, device: Device | str) -> None:
        """Requests to this endpoint are read and never answered (until the service stops)."""
        self._hanging.add(device if isinstance(device, str) else device.endpoint)

    def stop_hanging(self, device: Device | str) -> None:
        self._hanging.discard(device if isinstance(device, str) else device.endpoint)

    def requests_to(self, device: Device | str) -> int:
        endpoint = device if isinstance(device, str) else device.endpoint
        with self._lock:
            return sum(1 for r in self.received if r.endpoint == endpoint)

    def reset_answer(self, device: Device | str) -> None:
        endpoint = device if isinstance(device, str) else device.endpoint
        with self._lock:
            self._answers.pop(endpoint, None)

    def delivered_to(self, device: Device) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.endpoint == device.endpoint]

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.received.clear()
            self.errors.clear()

    # --- the work ------------------------------------------------------------------------
    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        endpoint = self.origin + path
        record = Received(endpoint, {k.lower(): v for k, v in headers.items()}, body, time.time())
        with self._lock:
            self.received.append(record)
            answer = self._answers.get(endpoint)
            if answer is not None and answer[2] is not None:
                answer[2] -= 1
                if answer[2] < 0:
                    self._answers.pop(endpoint, None)
                    answer = None
        if endpoint not in self.devices and self.verify_now:
            record.answered = 404
            return 404, {}
        if self.verify_now:
            try:
                delivery = self.check(record)
            except AssertionError as exc:
                with self._lock:
                    self.errors.append(f"{endpoint}: {exc}")
                record.answered = 400
                return 400, {}
        if answer is not None:
            status, retry_after, _ = answer
            record.answered = status
            return status, ({"Retry-After": retry_after} if retry_after else {})
        if self.verify_now:
            with self._lock:
                self.deliveries.append(delivery)
        record.answered = 201
        return 201, {"Location": f"{self.origin}/message/{len(self.received)}"}

    def check(self, record: Received) -> Delivery:
        """Verify one request as a push service and a browser would; AssertionError if not."""
        return check_request(record, self.devices, self.origin, self.app_server_key)

    def verify(self) -> list[Delivery]:
        """After a run with verify=False: check every request answered 201."""
        out = []
        for record in list(self.received):
            if record.answered == 201:
                out.append(self.check(record))
        return out


def check_request(record: Received, devices: dict[str, Device], origin: str, app_server_key: str | None) -> Delivery:
    """Verify one request as a push service and a browser would; AssertionError if not."""
    h = record.headers
    auth = h.get("authorization", "")
    match = re.match(r"^vapid\s+(.*)$", auth, re.IGNORECASE)
    assert match, f"no VAPID Authorization header: {auth[:40]!r}"
    params = dict(p.strip().split("=", 1) for p in match.group(1).split(",") if "=" in p)
    token, key = params.get("t"), params.get("k")
    assert token and key, "VAPID header without t= and k="
    if app_server_key is not None:
        assert key == app_server_key, "VAPID k is not the application server key"
    claims = verify_jwt(token, key)
    assert claims.get("aud") == origin, f"aud {claims.get('aud')!r} is not {origin!r}"
    exp = claims.get("exp")
    now = time.time()
    assert isinstance(exp, int) and now < exp <= now + 24 * 3600 + 60, f"exp {exp!r} not within 24 h"
    assert str(claims.get("sub", "")).startswith(("mailto:", "https:")), "sub must be mailto: or https:"
    assert h.get("content-encoding") == "aes128gcm", "Content-Encoding is not aes128gcm"
    ttl = h.get("ttl")
    assert ttl is not None and ttl.isdigit(), "TTL missing"
    urgency = h.get("urgency")
    assert urgency is None or urgency in URGENCIES, f"bad Urgency {urgency!r}"
    topic = h.get("topic")
    assert topic is None or TOPIC.match(topic), f"bad Topic {topic!r}"
    device = devices.get(record.endpoint)
    assert device is not None, "unknown endpoint"
    try:
        plain = device.decrypt(record.body)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"cannot decrypt: {exc!r}") from exc
    try:
        payload = json.loads(plain)
    except ValueError:
        payload = plain
    return Delivery(record.endpoint, topic, urgency, int(ttl), payload, claims)


def verify_jwt(token: str, key_b64: str) -> dict:
    """An ES256 JWT checked with the raw P-256 public key `k`; returns its claims."""
    parts = token.split(".")
    assert len(parts) == 3, "the JWT has not three parts"
    header = json.loads(unb64url(parts[0]))
    assert header.get("alg") == "ES256", f"alg {header.get('alg')!r} is not ES256"
    raw_sig = unb64url(parts[2])
    assert len(raw_sig) == 64, "an ES256 signature is 64 bytes"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key_b64))
    der = utils.encode_dss_signature(int.from_bytes(raw_sig[:32], "big"), int.from_bytes(raw_sig[32:], "big"))
    try:
        public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("the VAPID signature does not verify with k") from exc
    return json.loads(unb64url(parts[1]))


@dataclass
class Keys:
    """An application server's VAPID key pair."""

    pem: str
    public: str  # the application server key, base64url


def vapid_keys() -> Keys:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    return Keys(pem.decode(), public)
