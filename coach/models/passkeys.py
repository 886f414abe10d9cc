"""Passkeys (WebAuthn credentials) and the challenges of their ceremonies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Passkey(db.Model):
    """One registered credential: its public key and the last sign counter it showed."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential id as the browser spells it (base64url): how a sign-in finds its key.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The authenticator's counter is unsigned 32-bit: more than an SQL integer holds.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # WebAuthn's user.id for this account (random, base64url); every passkey of a user
    # carries the same one, so an authenticator keeps one passkey per account.
    user_handle: Mapped[str] = mapped_column(String(128))
    transports: Mapped[list[str] | None] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasskeyChallenge(db.Model):
    """A challenge handed out with ceremony options: used once, until `expires_at`.

    A registration challenge belongs to the signed-in user who asked for it; a sign-in
    challenge belongs to no one until an assertion over it names its passkey.
    """

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the challenge bytes: a lookup key, and nothing to replay from a leak.
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))  # "register" | "login"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # For a registration: the user.id the options named, kept for the new passkey.
    user_handle: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
