"""A weekly summary as an email: Jinja templates (autoescaped HTML, plain text), CSS inlined
with css-inline for mail clients that ignore <style>, and the headers RFC 8058 asks for."""
from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import urlsplit

import css_inline
from flask import Flask
from flask_babel import force_locale

from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..routines import screening
from ..unsubscribe import TokenMaker
from .content import DigestView, RoutineBook, build_view
from .gather import WeekFigures


@dataclass(frozen=True)
class Recipient:
    """Who a summary is for, as plain values (read before the claim is committed)."""

    user_id: int
    email: str
    created_at: datetime  # with the email, names the account in the unsubscribe link
    answers: dict[str, bool] | None  # screening answers: a refused routine is never suggested
    language: str = DEFAULT_LANGUAGE  # what the summary is written in

    @classmethod
    def of(cls, user) -> Recipient:
        return cls(user.id, user.email, user.created_at, screening.answers_of(user), user.language)


class Composer:
    """Everything a batch needs to turn figures into messages, set up once per batch."""

    def __init__(self, app: Flask):
        env = app.jinja_env
        self._html = env.get_template("digest/email.html")
        self._text = env.get_template("digest/email.txt")
        self._inliner = css_inline.CSSInliner(load_remote_stylesheets=False)
        self._from_header = _address(app.config["MAIL_FROM"])
        self.public_url = app.config["COACH_PUBLIC_URL"].rstrip("/")
        self.host = urlsplit(self.public_url).hostname or "localhost"
        self._token = TokenMaker(app.config["SECRET_KEY"])

    def unsubscribe_url(self, user_id: int, email: str, created_at: datetime) -> str:
        return f"{self.public_url}/unsubscribe/{self._token(user_id, email, created_at)}"

    def view(self, recipient: Recipient, figures: WeekFigures, book: RoutineBook) -> DigestView:
        url = self.unsubscribe_url(recipient.user_id, recipient.email, recipient.created_at)
        return build_view(
            figures, book, answers=recipient.answers, app_url=f"{self.public_url}/", unsubscribe_url=url, language=recipient.language
        )

    def html(self, view: DigestView) -> str:
        with force_locale(view.language):  # the templates' own words (`_`) in the reader's language
            return self._inliner.inline(self._html.render(v=view))

    def text(self, view: DigestView) -> str:
        with force_locale(view.language):
            return self._text.render(v=view).strip() + "\n"

    def message_id(self, user_id: int, iso_week: str) -> str:
        """The same for every attempt at one user's week, so a mail client would fold a
        duplicate into one message even if one ever slipped through."""
        return f"<digest-{user_id}-{iso_week}@{self.host}>"

    def message(self, *, user_id: int, email: str, iso_week: str, view: DigestView, now: datetime) -> EmailMessage:
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["Subject"] = _header_text(view.subject)
        msg["From"] = self._from_header
        msg["To"] = email
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = self.message_id(user_id, iso_week)
        msg["List-Unsubscribe"] = f"<{view.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        msg["MIME-Version"] = "1.0"
        msg["Content-Type"] = "multipart/alternative"
        msg.set_payload([_text_part(self.text(view), "plain"), _text_part(self.html(view), "html")])
        return msg


# Headers are kept as written (compat32 rules) rather than re-parsed and re-folded by the
# modern policy: that one turns a long List-Unsubscribe URL into an RFC 2047 encoded word,
# which mail clients do not decode there (one-click unsubscribe would break), and costs about
# a millisecond a message. Non-ASCII text is encoded explicitly below. No header is folded
# below RFC 5322's hard limit of 998, so the URL stays on the List-Unsubscribe line itself.
# Lines end in CRLF as SMTP wants; the outbox writes LF.
MAIL_POLICY = policy.compat32.clone(linesep="\r\n", mangle_from_=False, max_line_length=998)


def _header_text(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _text_part(body: str, subtype: str) -> MIMEPart:
    """A UTF-8 text part, quoted-printable (readable, 7-bit safe; encoded in C by binascii)."""
    part = MIMEPart(policy=MAIL_POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"))
    return part
