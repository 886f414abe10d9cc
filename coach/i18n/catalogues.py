"""The gettext catalogues (coach/translations/<lang>/LC_MESSAGES/messages.po) and translation
by an explicit language.

The `.po` files are the source (committed); the `.mo` files are built from them (`make`
runs `pybabel compile` at install) and are not committed. So that a clean clone, a test run
or an edited `.po` never runs on a missing or stale binary, `compile_catalogues()` (called by
`create_app`) rebuilds any `.mo` older than its `.po`, writing through a temporary file so
that workers starting together never read a half-written one.

Every msgid is the English text itself: a text missing from a catalogue is shown in English
(gettext's fallback), never as a key.
"""
from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .languages import DEFAULT, SUPPORTED, supported

log = logging.getLogger(__name__)

DIRECTORY = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def N_(text: str) -> str:
    """Marks a text for extraction (pybabel -k N_) where it is defined; it is translated
    where it is used, in the language asked for then."""
    return text


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular and plural pair for extraction (pybabel -k NP_:1,2); translated
    where it is used, with translate_plural."""
    return singular, plural


def po_path(language: str, directory: Path = DIRECTORY) -> Path:
    return directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _stale(po: Path, mo: Path) -> bool:
    try:
        return mo.stat().st_mtime_ns < po.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def _compile(po: Path, mo: Path, language: str) -> None:
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as target:
            write_mo(target, catalog)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_catalogues(directory: Path = DIRECTORY) -> list[str]:
    """Compile every `.po` whose `.mo` is missing or older; returns the languages compiled.
    Fuzzy entries are left out, as `pybabel compile` does (a test refuses them anyway)."""
    compiled = []
    for language in SUPPORTED:
        po = po_path(language, directory)
        mo = po.with_suffix(".mo")
        if language != DEFAULT and po.exists() and _stale(po, mo):
            _compile(po, mo, language)
            compiled.append(language)
    if compiled and directory == DIRECTORY:
        _translations.cache_clear()
    return compiled


@lru_cache(maxsize=len(SUPPORTED))
def _translations(language: str) -> NullTranslations:
    """Loaded once per process; compiled first if the .mo is missing or stale (a process
    that never made an app, say a script calling a service)."""
    if language == DEFAULT:
        return NullTranslations()
    po = po_path(language)
    mo = po.with_suffix(".mo")
    try:
        if po.exists() and _stale(po, mo):
            _compile(po, mo, language)
    except OSError as exc:  # a read-only install without its .mo: English, and say so
        log.error("cannot compile the %s catalogue %s (%s): texts fall back to English", language, po, exc)
    if not mo.exists():
        log.error("no compiled catalogue for %s at %s: texts fall back to English", language, mo)
        return NullTranslations()
    return Translations.load(str(DIRECTORY), [language], DOMAIN)


def translations(language: str | None) -> NullTranslations:
    """The catalogue of `language` (an unsupported or missing one: English)."""
    return _translations(supported(language) or DEFAULT)


def translate(language: str | None, text: str, **values) -> str:
    """`text` (an English msgid) in `language`, with %(name)s placeholders filled from `values`."""
    result = translations(language).gettext(text) if text else text
    return result % values if values else result


def translate_plural(language: str | None, singular: str, plural: str, n: int, **values) -> str:
    """The singular or plural form for `n` by the language's own plural rule; `num` is `n`."""
    return translations(language).ngettext(singular, plural, n) % {"num": n, **values}
