"""Sending email: SMTP from `MAIL_URL`, or `.eml` files in the instance folder's outbox/.

`MAIL_URL` forms (user and password URL-encoded, both optional):

    smtp://user:pass@host:25            plain SMTP (port 25 by default)
    smtp+starttls://user:pass@host:587  SMTP upgraded with STARTTLS (587)
    smtps://user:pass@host:465          SMTP over TLS from the first byte (465)

Query options: `timeout` in seconds (default 30), `cafile` a PEM bundle to trust instead of
the system's (a private relay with its own CA). Certificates are always verified.

A transport hands out a `Connection` per batch (`with transport.connect() as conn:`), which
opens the SMTP session lazily on the first message, so a batch with nothing to send costs no
connection. Failures are sorted the way the sender must act on them:
`PermanentFailure` (5xx for this message: do not retry), `TemporaryFailure` (4xx for this
message: try again later) and `ConnectionFailure` (the server is unreachable, refuses us or
went away: everything not yet sent in this batch should be tried again later).
"""
from __future__ import annotations

import os
import queue
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
DEFAULT_TIMEOUT = 30.0


class DeliveryError(Exception):
    """A message was not delivered; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class PermanentFailure(DeliveryError):
    """The server refused this message for good (5xx): retrying will not help."""


class TemporaryFailure(DeliveryError):
    """The server deferred this message (4xx): try again later."""


class ConnectionFailure(TemporaryFailure):
    """No usable connection: nothing more can be sent on it, try again later."""


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    timeout: float
    cafile: str | None


def parse_mail_url(url: str) -> SmtpSettings:
    """Read a MAIL_URL; ValueError (naming the problem, never the password) when it is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"MAIL_URL must start with smtp://, smtp+starttls:// or smtps://, not {scheme or '?'}://")
    if not parts.hostname:
        raise ValueError("MAIL_URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ValueError("MAIL_URL has a port that is not a number from 1 to 65535") from exc
    query = parse_qs(parts.query)
    try:
        timeout = float(query.get("timeout", [DEFAULT_TIMEOUT])[0])
    except ValueError as exc:
        raise ValueError("MAIL_URL timeout must be a number of seconds") from exc
    if not timeout > 0:
        raise ValueError("MAIL_URL timeout must be a positive number of seconds")
    return SmtpSettings(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        cafile=query.get("cafile", [None])[0],
    )


def envelope_sender(mail_from: str) -> str:
    """The bare address of a From header such as 'Coach <coach@example.com>'."""
    return parseaddr(mail_from)[1] or mail_from


def _classify(code: int, reply: bytes | str, *, connection: bool = False) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{code} {text}".strip()
    if connection:
        return ConnectionFailure(message, code)
    return PermanentFailure(message, code) if 500 <= code < 600 else TemporaryFailure(message, code)


class SmtpConnection:
    """One SMTP session, opened on the first `send` and reused for every later one."""

    def __init__(self, settings: SmtpSettings, envelope_from: str):
        self.settings = settings
        self.envelope_from = envelope_from
        self._smtp: smtplib.SMTP | None = None
        self._broken: ConnectionFailure | None = None

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if s.scheme == "smtp+starttls":
                    smtp.starttls(context=self._tls_context())
                if s.username is not None:
                    smtp.login(s.username, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, connection=True) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, TLS, no STARTTLS…
            raise ConnectionFailure(f"{type(exc).__name__}: {exc}") from exc
        return smtp

    def send(self, message: EmailMessage, recipient: str) -> None:
        if self._broken is not None:
            raise self._broken
        try:
            data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            recipient.encode("ascii")  # no SMTPUTF8 here: such an address cannot be sent to
        except (UnicodeError, ValueError, TypeError) as exc:
            raise PermanentFailure(f"the message cannot be encoded for SMTP: {exc}") from exc
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.sendmail(self.envelope_from, [recipient], data)
        except ConnectionFailure as exc:
            self._broken = exc
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._note_if_closed(code, reply)
            raise _classify(code, reply) from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our own address refused: nothing in this batch can go; it is a setting to fix.
            self._broken = _classify(exc.smtp_code, exc.smtp_error, connection=True)
            raise self._broken from exc
        except smtplib.SMTPDataError as exc:
            self._note_if_closed(exc.smtp_code, exc.smtp_error)
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, timeout, reset…
            self._broken = ConnectionFailure(f"{type(exc).__name__}: {exc}")
            self.close()
            raise self._broken from exc

    def _note_if_closed(self, code: int, reply) -> None:
        """A 421 reply ends the session (smtplib closes it): later messages wait for the next tick."""
        if self._smtp is not None and self._smtp.sock is None:
            self._broken = _classify(code, reply, connection=True)
            self._smtp = None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class SmtpTransport:
    def __init__(self, settings: SmtpSettings, mail_from: str):
        self.settings = settings
        self.envelope_from = envelope_sender(mail_from)

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        connection = SmtpConnection(self.settings, self.envelope_from)
        try:
            yield connection
        finally:
            connection.close()


class OutboxConnection:
    """Writes each message as `<outbox>/<name>.eml`, atomically (temp file, then rename), so a
    reader never sees half a message. The name comes from the Message-ID, so writing the same
    message twice leaves one file."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: EmailMessage, recipient: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{outbox_name(message)}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes(policy=message.policy.clone(linesep="\n")))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


class OutboxTransport:
    def __init__(self, directory: Path):
        self.directory = directory

    @contextmanager
    def connect(self) -> Iterator[OutboxConnection]:
        yield OutboxConnection(self.directory)


class BackgroundSender:
    """Sends a batch's messages over its one connection from a thread of its own, so the next
    message is made while this one is on the wire (the thread mostly waits on the socket,
    which releases the GIL). Results come back in order from `finish()`: (key, None) when
    sent, (key, the exception) when not. After a ConnectionFailure every later message
    fails the same way at once, and `lost` tells the producer to stop making them."""

    def __init__(self, connection, depth: int = 32):
        self._connection = connection
        self._queue: queue.Queue = queue.Queue(depth)
        self._results: list[tuple[object, Exception | None]] = []
        self.lost: ConnectionFailure | None = None
        self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            key, message, recipient = job
            try:
                self._connection.send(message, recipient)
            except ConnectionFailure as exc:
                self.lost = exc
                self._results.append((key, exc))
            except Exception as exc:  # reported to the caller with its message
                self._results.append((key, exc))
            else:
                self._results.append((key, None))

    def submit(self, key, message: EmailMessage, recipient: str) -> None:
        self._queue.put((key, message, recipient))

    def finish(self) -> list[tuple[object, Exception | None]]:
        self._queue.put(None)
        self._thread.join()
        return self._results


def outbox_name(message: EmailMessage) -> str:
    message_id = (message.get("Message-ID") or "").strip("<> ")
    local = message_id.split("@", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in local).strip(".")
    if not safe:
        safe = os.urandom(8).hex()
    return safe[:120]


def transport_from_config(config, instance_path: str) -> SmtpTransport | OutboxTransport:
    """SMTP when MAIL_URL is set, otherwise the outbox/ folder (the embedded default)."""
    url = config.get("MAIL_URL")
    if not url:
        return OutboxTransport(Path(instance_path) / "outbox")
    return SmtpTransport(parse_mail_url(url), config["MAIL_FROM"])
