"""A routine's texts in a person's language.

The routines stay data: builtin.json holds them in English, and each text (name, goal,
summary, evidence, cautions, phase cues, screening reasons) is its own msgid in the gettext
catalogues (extracted by coach/i18n/extract.py), so one structure (phases, seconds, rules)
serves every language and a translation can never change what a routine asks of the body.
A text the catalogue lacks stays English. A custom routine is the user's own words: only the
standard cautions added to it are translated.
"""
from __future__ import annotations

from ..i18n import DEFAULT, SUPPORTED, translate
from . import catalogue

TEXT_FIELDS = ("name", "goal", "summary", "evidence")


def localise(routine: dict, language: str) -> dict:
    """`routine` (as the routines service gives it) with its texts in `language` (a new dict)."""
    if language == DEFAULT:
        return routine
    out = dict(routine)
    if routine.get("builtin"):
        for name in TEXT_FIELDS:
            if routine.get(name):
                out[name] = translate(language, routine[name])
        out["cautions"] = [translate(language, c) for c in routine["cautions"]]
        out["phases"] = [{**p, "cue": translate(language, p["cue"])} if p.get("cue") else dict(p) for p in routine["phases"]]
    else:
        standard = set(catalogue.standard_cautions().values())
        out["cautions"] = [translate(language, c) if c in standard else c for c in routine["cautions"]]
    return out


def standard_caution_texts() -> set[str]:
    """Every wording of the standard cautions, in every language: what a client may send
    back (after a GET in German, say) that is not the user's own caution."""
    return {translate(language, text) for language in SUPPORTED for text in catalogue.standard_cautions().values()}
