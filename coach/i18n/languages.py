"""The languages the coach speaks, and the best one for an Accept-Language header."""
from __future__ import annotations

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

SUPPORTED: tuple[str, ...] = ("en", "de", "es", "fr")
DEFAULT = "en"  # also the language every msgid is written in: a missing translation shows it


def supported(value: object) -> str | None:
    """`value` as a supported language code ("de", "DE", "de-AT" → "de"), else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if code in SUPPORTED else None


def best_language(accept_language: str | None) -> str:
    """The supported language a browser's Accept-Language prefers most (by q, then order),
    matching a regional tag to its language (de-DE → de); `en` when none is supported."""
    if not accept_language:
        return DEFAULT
    # By preference (werkzeug sorts by q, keeping the header's order among equals), each tag
    # read as its language. Not LanguageAccept.best_match: it tries every exact match before
    # any regional one, so "es-MX, en;q=0.5" would give English to a Spanish speaker.
    for tag, quality in parse_accept_header(accept_language, LanguageAccept):
        language = supported(tag) if quality > 0 else None
        if language:
            return language
    return DEFAULT
