"""Real SMTP servers on loopback (aiosmtpd) for the mail, digest and scheduler tests.

`SmtpServer` records every message it accepts and can be told to answer a recipient with a
temporary (4xx) or permanent (5xx) refusal. It can require a login and speak STARTTLS or
implicit TLS with a self-signed certificate made here with `cryptography`. `SlowSmtp` takes
a moment over each message, as a distant server does, and logs what it accepted.
(The `smtp_server` and `certificate` fixtures are in tests/conftest.py.)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple  # the client's (address, port): one value per SMTP connection

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)  # every RCPT TO, accepted or not
    refuse: dict[str, str] = field(default_factory=dict)  # recipient → full SMTP reply, e.g. "450 …"
    refuse_data: str | None = None  # answer DATA with this instead of accepting

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts.append(address)
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        content = envelope.original_content or envelope.content
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content, tuple(session.peer)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, *, login: tuple[str, str] | None = None, starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None):
        self.handler = Handler()
        self.port = free_port()
        self.logins: list[tuple[str, str]] = []
        kwargs = {}
        if login is not None:
            def authenticator(server, session, envelope, mechanism, auth_data):
                if isinstance(auth_data, LoginPassword):
                    pair = (auth_data.login.decode(), auth_data.password.decode())
                    self.logins.append(pair)
                    return AuthResult(success=pair == login, handled=False)
                return AuthResult(success=False, handled=False)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=starttls is not None)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def url(self, scheme: str = "smtp", userinfo: str = "", query: str = "") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}" + (f"?{query}" if query else "")


@dataclass
class Certificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx


def self_signed(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 (an IP SAN, so the client's hostname check passes)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_path, key_path)


@dataclass
class Mail:
    recipient: str
    message_id: str
    at: float


@dataclass
class _SlowHandler:
    delay: float
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)  # a distant server takes a moment over each message
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.mails.append(Mail(rcpt, msg["Message-ID"], time.monotonic()))
        return "250 OK"


class SlowSmtp:
    """aiosmtpd on loopback that takes `delay` seconds over each message and logs
    (recipient, Message-ID) of every one it accepted."""

    def __init__(self, delay: float = 0.003):
        self.handler = _SlowHandler(delay)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SlowSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def log(self) -> list[Mail]:
        with self.handler.lock:
            return list(self.handler.mails)

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.mails)

    def per_recipient(self) -> Counter:
        return Counter(m.recipient for m in self.log())
