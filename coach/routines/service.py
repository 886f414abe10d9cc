"""Routines as a user sees them: the built-ins (resonance planned at their rate) and their own.

Every function returns plain dicts in the contract's shape (plus `blocked_by`, for the safety
checks): {slug, name, kind, goal, summary, evidence, cautions, phases, cycles, total_seconds,
builtin, requires_screening, blocked_by}. Bodies passed to create/update are already loaded by
`schema.RoutineSchema` / `RoutineUpdateSchema`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import dialect
from ..accounts.data_version import note_data_changed
from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..models import CustomRoutine, User
from . import catalogue, risk
from .planning import plan_resonance
from .schema import total_seconds
from .texts import localise, standard_caution_texts

MAX_CUSTOM_ROUTINES = 100
# What a custom routine stores; slug is its own column, the rest is derived on reading.
STORED_FIELDS = ("name", "kind", "goal", "summary", "evidence", "cautions", "phases", "cycles")


class RoutineError(Exception):
    """Base of the service's refusals; each maps to one HTTP status in the API."""


class BuiltinReadOnly(RoutineError):
    pass


class NotFound(RoutineError):
    pass


class SlugTaken(RoutineError):
    pass


class SlugMismatch(RoutineError):
    """A PUT body naming another slug than the URL's: routines are not renamed (sessions
    and reminders name them by slug)."""


class TooManyRoutines(RoutineError):
    pass


def _builtin_for(user: User, slug: str) -> dict | None:
    routine = catalogue.builtin(slug)
    if routine is not None and slug == catalogue.RESONANCE:
        routine = plan_resonance(routine, user.resonance_bpm)
    return routine


def _from_row(row: CustomRoutine) -> dict:
    definition = row.definition
    routine = {"slug": row.slug, **{k: definition[k] for k in STORED_FIELDS}}
    # Standard cautions are added on reading, so a custom routine always shows today's wording.
    routine["cautions"] = catalogue.apply_standard_cautions(routine, catalogue.standard_cautions())
    routine["total_seconds"] = total_seconds(routine["phases"], routine["cycles"])
    routine["builtin"] = False
    # Screened like the built-in it resembles (holds over 15 s, fast breathing, cold).
    routine["requires_screening"], routine["blocked_by"] = risk.custom_rules(routine)
    return routine


def _own_row(user: User, slug: str) -> CustomRoutine | None:
    return db.session.scalar(select(CustomRoutine).where(CustomRoutine.user_id == user.id, CustomRoutine.slug == slug))


def _definition(body: dict) -> dict:
    """The stored part of a loaded body. Standard cautions a client sent back (say after a
    GET) are dropped: they are added on reading, with the current wording."""
    standard = standard_caution_texts()  # in any language: the client may show a translation
    definition = {k: body[k] for k in STORED_FIELDS}
    definition["cautions"] = [c for c in body["cautions"] if c not in standard]
    definition["phases"] = [dict(p) for p in body["phases"]]
    return definition


def list_routines(user: User, kind: str | None = None, language: str = DEFAULT_LANGUAGE) -> list[dict]:
    """Built-ins in catalogue order, then the user's own in the order they were made;
    texts in `language`."""
    routines = [_builtin_for(user, slug) for slug in catalogue.BUILTIN_SLUGS]
    rows = db.session.scalars(
        select(CustomRoutine).where(CustomRoutine.user_id == user.id).order_by(CustomRoutine.id)
    )
    routines += [_from_row(row) for row in rows if row.slug not in catalogue.BUILTIN_SLUGS]
    return [localise(r, language) for r in routines if kind is None or r["kind"] == kind]


def get_routine(user: User, slug: str, language: str = DEFAULT_LANGUAGE) -> dict | None:
    """One routine the user may use, or None (unknown, or someone else's); texts in `language`."""
    routine = _builtin_for(user, slug)
    if routine is None:
        row = _own_row(user, slug)
        routine = _from_row(row) if row is not None else None
    return localise(routine, language) if routine is not None else None


def routine_exists(user: User, slug: str) -> bool:
    if slug in catalogue.BUILTIN_SLUGS:
        return True
    return db.session.scalar(
        select(func.count()).select_from(CustomRoutine).where(CustomRoutine.user_id == user.id, CustomRoutine.slug == slug)
    ) > 0


def create_custom(user: User, body: dict, now: datetime, language: str = DEFAULT_LANGUAGE) -> dict:
    slug = body["slug"]
    if slug in catalogue.BUILTIN_SLUGS or _own_row(user, slug) is not None:
        raise SlugTaken(slug)
    dialect.lock_row(User.__table__, user.id)  # simultaneous creates are counted one after another
    count = db.session.scalar(select(func.count()).select_from(CustomRoutine).where(CustomRoutine.user_id == user.id))
    if count >= MAX_CUSTOM_ROUTINES:
        db.session.rollback()  # let the lock go at once
        raise TooManyRoutines(MAX_CUSTOM_ROUTINES)
    row = CustomRoutine(user_id=user.id, slug=slug, definition=_definition(body), created_at=now, updated_at=now)
    db.session.add(row)
    note_data_changed(user)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same slug created at the same moment by another request
        db.session.rollback()
        raise SlugTaken(slug) from exc
    return localise(_from_row(row), language)


def update_custom(user: User, slug: str, body: dict, now: datetime, language: str = DEFAULT_LANGUAGE) -> dict:
    """Replace the user's own routine `slug` with `body` (a full definition)."""
    if slug in catalogue.BUILTIN_SLUGS:
        raise BuiltinReadOnly(slug)
    row = _own_row(user, slug)
    if row is None:
        raise NotFound(slug)
    if body.get("slug") not in (None, slug):
        raise SlugMismatch(slug)
    row.definition = _definition(body)
    row.updated_at = now
    note_data_changed(user)
    db.session.commit()
    return localise(_from_row(row), language)


def delete_custom(user: User, slug: str) -> None:
    if slug in catalogue.BUILTIN_SLUGS:
        raise BuiltinReadOnly(slug)
    row = _own_row(user, slug)
    if row is None:
        raise NotFound(slug)
    db.session.delete(row)
    note_data_changed(user)
    db.session.commit()
