"""What the account emails say (confirmation, address change, password reset), as multipart
messages in the style of the weekly summary (the same policy, headers and look)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

import css_inline
from flask import Flask

from ..digest.render import MAIL_POLICY, _address, _header_text, _text_part
from . import links
from .addresses import normalise_email


@dataclass(frozen=True)
class View:
    subject: str
    heading: str
    paragraphs: list[str]
    button: str
    url: str  # opens the app (`/#/confirm?token=…`)
    fallback_url: str  # the server page: works without the app
    after: list[str] = field(default_factory=list)


class AccountMail:
    """Set up once per batch: templates, the CSS inliner, the sender and the link maker."""

    def __init__(self, app: Flask):
        env = app.jinja_env
        self._html = env.get_template("account/email.html")
        self._text = env.get_template("account/email.txt")
        self._inliner = css_inline.CSSInliner(load_remote_stylesheets=False)
        self._from_header = _address(app.config["MAIL_FROM"])
        self._secret = app.config["SECRET_KEY"]
        self.public_url = app.config["COACH_PUBLIC_URL"].rstrip("/")
        self.host = urlsplit(self.public_url).hostname or "localhost"

    def _urls(self, screen: str, page: str, token: str) -> tuple[str, str]:
        return f"{self.public_url}/#/{screen}?token={quote(token)}", f"{self.public_url}/{page}/{token}"

    def confirm(self, user_id: int, address: str, nonce: str, now: datetime, *, change: bool) -> View:
        token = links.make(self._secret, links.CONFIRM, user_id, nonce, links.tag(normalise_email(address)), now)
        url, fallback = self._urls("confirm", "confirm", token)
        if change:
            return View(
                subject="Confirm your new email address",
                heading="Confirm your new email address",
                paragraphs=[f"You asked the Vagal-tone coach to use {address} from now on.",
                            "Your address changes when you confirm it with the button below."],
                button="Confirm this address", url=url, fallback_url=fallback,
                after=["The link works once, for 7 days. If you did not ask for this, ignore this email: nothing changes."],
            )
        return View(
            subject="Confirm your email address",
            heading="Welcome. Please confirm your email address",
            paragraphs=["You signed up for the Vagal-tone coach with this address.",
                        "Confirm it, and the coach can send your weekly summary and, if you ever need it, "
                        "a link to choose a new password."],
            button="Confirm my address", url=url, fallback_url=fallback,
            after=["The link works once, for 7 days. If you did not sign up, ignore this email: "
                   "nothing more will be sent to this address."],
        )

    def reset(self, user_id: int, nonce: str, password_tag: str, now: datetime) -> View:
        token = links.make(self._secret, links.RESET, user_id, nonce, password_tag, now)
        url, fallback = self._urls("reset", "reset", token)
        return View(
            subject="Choose a new password",
            heading="Choose a new password",
            paragraphs=["Someone (we hope you) asked to reset the password of your Vagal-tone coach account.",
                        "Choosing a new one signs you out on every device; your sessions and settings stay as they are."],
            button="Choose a new password", url=url, fallback_url=fallback,
            after=["The link works once, for one hour. If you did not ask for this, ignore this email: "
                   "your password stays as it is."],
        )

    def changed(self, user_id: int, old: str, new: str, nonce: str, now: datetime) -> View:
        token = links.make(self._secret, links.NOT_ME, user_id, nonce, links.tag(old, new), now)
        return View(
            subject="Your email address is being changed",
            heading="Your email address is being changed",
            paragraphs=[f"Someone signed in to your Vagal-tone coach account asked to use {new} instead of this address.",
                        "If that was you, there is nothing to do: the change happens when the new address is confirmed."],
            button="This wasn't me", url=f"{self.public_url}/not-me/{token}", fallback_url=f"{self.public_url}/not-me/{token}",
            after=["\u201cThis wasn't me\u201d keeps this address, signs the account out on every device and sends "
                   "you a link to choose a new password. It works for 30 days."],
        )

    def message(self, *, key: str, address: str, view: View, now: datetime) -> EmailMessage:
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["Subject"] = _header_text(view.subject)
        msg["From"] = self._from_header
        msg["To"] = address
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = f"<account-{key}@{self.host}>"  # the same for every attempt
        msg["Auto-Submitted"] = "auto-generated"
        msg["MIME-Version"] = "1.0"
        msg["Content-Type"] = "multipart/alternative"
        text = self._text.render(v=view).strip() + "\n"
        html = self._inliner.inline(self._html.render(v=view))
        msg.set_payload([_text_part(text, "plain"), _text_part(html, "html")])
        return msg


