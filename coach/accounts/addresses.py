"""Email addresses: checked by email-validator for their syntax only, one spelling per account.

No DNS look-up (the confirmation link is what proves an address), no quoted local parts, no
control characters (a vertical tab in a quoted local part once reached the weekly email's
To header), and ASCII only: the mail sender speaks no SMTPUTF8, so an address it could never
reach is refused at sign-up rather than silently never mailed.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


class BadAddress(ValueError):
    """The text is not an address the coach can mail; str() says why, in plain words."""


def normalise_email(email: str) -> str:
    """The stored spelling (lower case: uniqueness is case-insensitive on every database)."""
    return email.strip().lower()


def checked_address(text: str) -> str:
    """The normalised address, or BadAddress."""
    candidate = text.strip()
    if len(candidate) > MAX_LENGTH:
        raise BadAddress(f"An email address has at most {MAX_LENGTH} characters.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate):
        raise BadAddress("An email address cannot contain control characters.")
    try:
        valid = validate_email(
            candidate, check_deliverability=False, allow_smtputf8=False, allow_quoted_local=False,
            allow_domain_literal=False, allow_display_name=False,
        )
    except EmailNotValidError as exc:
        raise BadAddress(f"Not a valid email address: {exc}") from exc
    return normalise_email(valid.normalized)
