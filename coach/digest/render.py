"""A weekly summary as an email: Jinja templates (autoescaped HTML, plain text), CSS inlined
with css-inline for mail clients that ignore <style>, and the headers RFC 8058 asks for."""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import css_inline
from flask import Flask

from ..unsubscribe import TokenMaker
from .content import DigestView, RoutineBook, build_view
from .gather import WeekFigures


class Composer:
    """Everything a batch needs to turn figures into messages, set up once per batch."""

    def __init__(self, app: Flask):
        env = app.jinja_env
        self._html = env.get_template("digest/email.html")
        self._text = env.get_template("digest/email.txt")
        self._inliner = css_inline.CSSInliner(load_remote_stylesheets=False)
        self.mail_from = app.config["MAIL_FROM"]
        self.public_url = app.config["COACH_PUBLIC_URL"].rstrip("/")
        self.host = urlsplit(self.public_url).hostname or "localhost"
        self._token = TokenMaker(app.config["SECRET_KEY"])

    def unsubscribe_url(self, user_id: int, email: str, created_at: datetime) -> str:
        return f"{self.public_url}/unsubscribe/{self._token(user_id, email, created_at)}"

    def view(self, user_id: int, email: str, created_at: datetime, figures: WeekFigures, book: RoutineBook) -> DigestView:
        url = self.unsubscribe_url(user_id, email, created_at)
        return build_view(figures, book, app_url=f"{self.public_url}/", unsubscribe_url=url)

    def html(self, view: DigestView) -> str:
        return self._inliner.inline(self._html.render(v=view))

    def text(self, view: DigestView) -> str:
        return self._text.render(v=view).strip() + "\n"

    def message_id(self, user_id: int, iso_week: str) -> str:
        """The same for every attempt at one user's week, so a mail client would fold a
        duplicate into one message even if one ever slipped through."""
        return f"<digest-{user_id}-{iso_week}@{self.host}>"

    def message(self, *, user_id: int, email: str, iso_week: str, view: DigestView, now: datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = view.subject
        msg["From"] = self.mail_from
        msg["To"] = email
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = self.message_id(user_id, iso_week)
        msg["List-Unsubscribe"] = f"<{view.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        msg.set_content(self.text(view))
        msg.add_alternative(self.html(view), subtype="html")
        return msg
