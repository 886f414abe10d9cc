"""Safety screening: a few yes/no questions that keep risky routines away from people they
could harm (evidence.md, Safety rules the app enforces).

Each routine says which answers block it and why (`blocked_by: [{answer, reason}]` in the
routine data); `requires_screening` routines are refused until the questions are answered
and none of their blocking answers is yes. This module only reads those rules: the wording of
each reason lives with the routine.

Stored on `User.screening` as `{"answers": {question: bool}, "answered_at": RFC 3339}`.
Answers missing a question asked today (the list grew) count as not answered yet.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, translate
from ..models import User
from . import catalogue, risk
from .schema import SCREENING_ANSWERS
from .service import list_routines

QUESTIONS: dict[str, str] = {
    "heart_condition": N_("Do you have a heart condition, such as heart disease or a past heart attack?"),
    "arrhythmia": N_("Have you been told you have an irregular heartbeat (arrhythmia)?"),
    "high_blood_pressure": N_("Do you have high blood pressure that is not well controlled?"),
    "pregnancy": N_("Are you pregnant?"),
    "epilepsy": N_("Do you have epilepsy, or have you had seizures?"),
    "raynauds": N_("Do you have Raynaud's or another circulation problem (fingers or toes that turn white or blue in the cold)?"),
    "respiratory": N_("Do you have asthma, COPD or another lung condition?"),
    "panic_disorder": N_("Do you have panic attacks or panic disorder?"),
}
assert tuple(QUESTIONS) == SCREENING_ANSWERS, "one question per screening answer, in the same order"

NEEDS_SCREENING = N_(
    "This routine asks a lot of the body, so we ask a few short health questions first. "
    "Please answer the safety questions; it takes a minute."
)
DOCTOR = N_("Please talk to your doctor before trying it.")
# Gentler routines to offer instead of a blocked one, best first; the first one the person
# may do is offered.
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "power-breathing": ("cyclic-sighing", "resonance"),
    "cold-plunge": ("cold-face", "extended-exhale"),
    "cold-shower": ("cold-face", "extended-exhale"),
    "cold-face": ("extended-exhale", "resonance"),
}
FALLBACK_ALTERNATIVES = ("extended-exhale", "resonance")


def answers_of(user: User) -> dict[str, bool] | None:
    """The user's answers, or None if they have not (fully) answered today's questions."""
    stored = user.screening
    if not isinstance(stored, dict):
        return None
    answers = stored.get("answers")
    if not isinstance(answers, dict) or any(not isinstance(answers.get(q), bool) for q in SCREENING_ANSWERS):
        return None
    return {q: answers[q] for q in SCREENING_ANSWERS}


def answered_at(user: User) -> datetime | None:
    stored = user.screening
    if answers_of(user) is None or not isinstance(stored.get("answered_at"), str):
        return None
    try:
        return datetime.fromisoformat(stored["answered_at"])
    except ValueError:
        return None


def _rules(routine: dict) -> tuple[bool, list[dict]]:
    """(requires_screening, blocked_by) of a routine; a built-in's come from the catalogue and
    a person's own from its phases, whatever the dict says, so a caller's copy can never
    loosen them."""
    builtin = catalogue.rules(routine["slug"]) if routine.get("builtin", True) else None
    if builtin is not None:
        return builtin
    return risk.custom_rules(routine)


def _kindly(reasons: list[str], language: str) -> str:
    """The reasons (English msgids) in `language`, ending with the advice to see a doctor
    unless a reason gives it already (read in English, the words the rule knows)."""
    unique = list(dict.fromkeys(r.strip() for r in reasons))
    text = " ".join(translate(language, r) for r in unique)
    if any("doctor" in r.lower() for r in unique):
        return text
    return f"{text} {translate(language, DOCTOR)}"


def verdict(routine: dict, answers: dict[str, bool] | None, language: str = DEFAULT_LANGUAGE) -> str | None:
    """None if the routine may be done with these answers, else the reason in plain words,
    in `language`."""
    requires, blocked_by = _rules(routine)
    if answers is None:
        return translate(language, NEEDS_SCREENING) if requires else None
    reasons = [b["reason"] for b in blocked_by if answers.get(b["answer"])]
    return _kindly(reasons, language) if reasons else None


def check(user: User, routine: dict) -> str | None:
    """The gate a session calls before it records `routine` (a routine dict as
    `routines.service.get_routine` returns it): None if allowed, else the reason (→ 403),
    in the user's own language (a write: no `?lang=` can ask for another)."""
    return verdict(routine, answers_of(user), user.language)


def _covered(routine: dict) -> bool:
    requires, blocked_by = _rules(routine)
    return requires or bool(blocked_by)


def status(user: User, language: str = DEFAULT_LANGUAGE) -> dict:
    """What GET /api/me/screening shows: the answers and every routine screening covers, as
    cleared (may be done now), blocked (with the reason and a gentler alternative) or, before
    the questions are answered, needs_screening."""
    answers = answers_of(user)
    routines = list_routines(user)
    by_slug = {r["slug"]: r for r in routines}
    cleared: list[str] = []
    blocked: list[dict] = []
    needs: list[str] = []
    for routine in routines:
        if not _covered(routine):
            continue
        reason = verdict(routine, answers, language)
        if reason is None:
            cleared.append(routine["slug"])
        elif answers is None:
            needs.append(routine["slug"])
        else:
            blocked.append({"slug": routine["slug"], "reason": reason})
    for item in blocked:
        item["alternative"] = _alternative(item["slug"], by_slug, answers)
    return {
        "answers": answers,
        "answered_at": answered_at(user),
        "cleared": cleared,
        "blocked": blocked,
        "needs_screening": needs,
        "questions": [{"key": key, "text": translate(language, text)} for key, text in QUESTIONS.items()],
    }


def _alternative(slug: str, by_slug: dict[str, dict], answers: dict[str, bool] | None) -> str | None:
    for candidate in ALTERNATIVES.get(slug, ()) + FALLBACK_ALTERNATIVES:
        routine = by_slug.get(candidate)
        if candidate != slug and routine is not None and verdict(routine, answers) is None:
            return candidate
    return None


def save_answers(user: User, answers: dict[str, bool], now: datetime, language: str = DEFAULT_LANGUAGE) -> dict:
    """Replace the user's answers (all questions, validated by the caller) and return `status`."""
    user.screening = {
        "answers": {q: bool(answers[q]) for q in SCREENING_ANSWERS},
        "answered_at": now.astimezone(timezone.utc).isoformat(),
    }
    db.session.commit()
    return status(user, language)
