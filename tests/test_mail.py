"""coach.mail: MAIL_URL parsing, SMTP (plain, STARTTLS, implicit TLS, login) against a real
loopback server, how failures are sorted, and the outbox default."""
from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest

from coach import mail
from tests.helpers.smtp import free_port, SmtpServer

FROM = "Coach <coach@coach.example>"


def message(to: str = "ann@example.com", n: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"Test {n}"
    msg["From"] = FROM
    msg["To"] = to
    msg["Message-ID"] = f"<test-{n}@coach.example>"
    msg.set_content(f"Hello number {n}\n")
    return msg


def smtp(url: str) -> mail.SmtpTransport:
    return mail.transport_from_config({"MAIL_URL": url, "MAIL_FROM": FROM}, "/nonexistent")


# --- MAIL_URL -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url, scheme, port",
    [("smtp://mx.example", "smtp", 25), ("smtp+starttls://mx.example", "smtp+starttls", 587), ("smtps://mx.example", "smtps", 465),
     ("SMTP://mx.example:2525", "smtp", 2525)],
)
def test_url_schemes_and_default_ports(url, scheme, port):
    settings = mail.parse_mail_url(url)
    assert (settings.scheme, settings.host, settings.port) == (scheme, "mx.example", port)
    assert settings.username is None and settings.password is None


def test_user_and_password_are_url_decoded():
    settings = mail.parse_mail_url("smtp+starttls://ann%40example.com:p%40ss%3Aw%2Frd%20x@mx.example:587?timeout=5")
    assert settings.username == "ann@example.com"
    assert settings.password == "p@ss:w/rd x"
    assert settings.timeout == 5.0


@pytest.mark.parametrize(
    "url, words",
    [("http://mx.example", "must start with"), ("smtp://", "no host"), ("smtp://mx.example:99999", "port"),
     ("smtp://mx.example?timeout=soon", "timeout"), ("smtp://mx.example?timeout=0", "timeout")],
)
def test_bad_urls_are_refused_with_a_reason_and_never_echo_the_password(url, words):
    with pytest.raises(ValueError, match=words) as info:
        mail.parse_mail_url(url.replace("://", "://user:hunter2@", 1) if "://" in url and url != "smtp://" else url)
    assert "hunter2" not in str(info.value)


def test_no_mail_url_means_the_outbox(tmp_path):
    transport = mail.transport_from_config({"MAIL_URL": None, "MAIL_FROM": FROM}, str(tmp_path))
    assert isinstance(transport, mail.OutboxTransport)
    assert transport.directory == tmp_path / "outbox"


# --- SMTP against a real server ------------------------------------------------------------

def test_plain_smtp_sends_every_message_over_one_connection(smtp_server):
    with smtp(smtp_server.url()).connect() as conn:
        for n in range(3):
            conn.send(message(n=n), "ann@example.com")
    assert len(smtp_server.received) == 3
    assert len({r.peer for r in smtp_server.received}) == 1
    got = smtp_server.received[0]
    assert got.mail_from == "coach@coach.example"  # the bare address from MAIL_FROM
    assert got.rcpt_tos == ["ann@example.com"]
    assert got.message["Subject"] == "Test 0"


def test_a_batch_with_nothing_to_send_opens_no_connection():
    # A closed port: opening a connection would fail, but nothing is sent, so nothing is opened.
    with smtp(f"smtp://127.0.0.1:{free_port()}").connect():
        pass


def test_starttls_with_login_from_the_url(certificate):
    server = SmtpServer(login=("ann@example.com", "p@ss:w/rd"), starttls=certificate.server_context()).start()
    try:
        url = server.url("smtp+starttls", "ann%40example.com:p%40ss%3Aw%2Frd", f"cafile={certificate.cert_path}")
        with smtp(url).connect() as conn:
            conn.send(message(), "bo@example.com")
        assert server.logins == [("ann@example.com", "p@ss:w/rd")]
        assert [r.rcpt_tos for r in server.received] == [["bo@example.com"]]
    finally:
        server.stop()


def test_starttls_verifies_the_certificate(certificate):
    server = SmtpServer(starttls=certificate.server_context()).start()
    try:
        with pytest.raises(mail.ConnectionFailure, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            with smtp(server.url("smtp+starttls")).connect() as conn:  # no cafile: the self-signed cert is not trusted
                conn.send(message(), "bo@example.com")
        assert server.received == []
    finally:
        server.stop()


def test_smtps_implicit_tls(certificate):
    server = SmtpServer(implicit_tls=certificate.server_context())
    try:
        server.start()
    except Exception as exc:  # pragma: no cover - depends on aiosmtpd's start-up probe
        pytest.skip(f"aiosmtpd could not start an implicit-TLS listener here: {exc}")
    try:
        with smtp(server.url("smtps", query=f"cafile={certificate.cert_path}")).connect() as conn:
            conn.send(message(), "bo@example.com")
        assert len(server.received) == 1
    finally:
        server.stop()


def test_a_wrong_password_is_a_connection_failure(certificate):
    server = SmtpServer(login=("ann", "right"), starttls=certificate.server_context()).start()
    try:
        url = server.url("smtp+starttls", "ann:wrong", f"cafile={certificate.cert_path}")
        with smtp(url).connect() as conn:
            with pytest.raises(mail.ConnectionFailure, match="535"):
                conn.send(message(), "bo@example.com")
        assert server.received == []
    finally:
        server.stop()


def test_refusals_are_sorted_and_the_connection_goes_on(smtp_server):
    smtp_server.handler.refuse["full@example.com"] = "452 4.2.2 Mailbox full, try later"
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user"
    with smtp(smtp_server.url()).connect() as conn:
        with pytest.raises(mail.TemporaryFailure) as temporary:
            conn.send(message("full@example.com", 1), "full@example.com")
        assert not isinstance(temporary.value, mail.ConnectionFailure)
        assert temporary.value.code == 452
        with pytest.raises(mail.PermanentFailure) as permanent:
            conn.send(message("gone@example.com", 2), "gone@example.com")
        assert permanent.value.code == 550 and "No such user" in str(permanent.value)
        conn.send(message("ok@example.com", 3), "ok@example.com")
    assert [r.rcpt_tos for r in smtp_server.received] == [["ok@example.com"]]


def test_a_refused_message_body_is_sorted_by_its_code(smtp_server):
    smtp_server.handler.refuse_data = "554 5.6.0 Message rejected"
    with smtp(smtp_server.url()).connect() as conn:
        with pytest.raises(mail.PermanentFailure):
            conn.send(message(), "ann@example.com")
        smtp_server.handler.refuse_data = "451 4.3.0 Try again"
        with pytest.raises(mail.TemporaryFailure):
            conn.send(message(), "ann@example.com")


def test_connection_refused_is_a_connection_failure_and_stays_one():
    with smtp(f"smtp://127.0.0.1:{free_port()}?timeout=2").connect() as conn:
        with pytest.raises(mail.ConnectionFailure):
            conn.send(message(n=1), "ann@example.com")
        with pytest.raises(mail.ConnectionFailure):  # no second attempt within the batch
            conn.send(message(n=2), "ann@example.com")


# --- the outbox ------------------------------------------------------------------------------

def test_outbox_writes_one_parseable_eml_per_message_id(tmp_path):
    transport = mail.OutboxTransport(tmp_path / "outbox")
    with transport.connect() as conn:
        conn.send(message(n=7), "ann@example.com")
        conn.send(message(n=7), "ann@example.com")  # the same Message-ID again: still one file
        conn.send(message(n=8), "ann@example.com")
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == ["test-7.eml", "test-8.eml"]  # and no temporary file left behind
    parsed = email.message_from_bytes((tmp_path / "outbox" / "test-7.eml").read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<test-7@coach.example>"
    assert parsed.get_content() == "Hello number 7\n"


def test_the_background_sender_reports_each_message_in_order(smtp_server):
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user"
    with smtp(smtp_server.url()).connect() as conn:
        sender = mail.BackgroundSender(conn, depth=2)
        for n, to in enumerate(["a@example.com", "gone@example.com", "b@example.com", "c@example.com"]):
            sender.submit(n, message(to, n), to)
        results = sender.finish()
    assert [key for key, _ in results] == [0, 1, 2, 3]
    assert [type(error).__name__ if error else None for _, error in results] == [None, "PermanentFailure", None, None]
    assert sender.lost is None and len(smtp_server.received) == 3


def test_the_background_sender_stops_at_a_lost_connection():
    with smtp(f"smtp://127.0.0.1:{free_port()}?timeout=2").connect() as conn:
        sender = mail.BackgroundSender(conn)
        for n in range(3):
            sender.submit(n, message(n=n), "ann@example.com")
        results = sender.finish()
    assert isinstance(sender.lost, mail.ConnectionFailure)
    assert all(isinstance(error, mail.ConnectionFailure) for _, error in results)
