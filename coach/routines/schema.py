"""The one schema a routine definition must pass.

`RoutineSchema` validates a custom routine on `POST`/`PUT /api/routines`; `BuiltinRoutineSchema`
is the same schema plus the fields only the built-in catalogue carries (evidence with a citation,
screening), and validates every built-in at start-up. So a built-in can never be something a
user could not have written, and the limits live in one place.
"""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..fields import FullMatch, JSONBoolean

ACTIONS = ("inhale", "hold", "exhale", "hold_empty", "sigh_inhale", "cold", "rest", "prepare")
BREATH_HOLDS = frozenset({"hold", "hold_empty"})
# One breath (in and out) this short or shorter is fast breathing: 20 or more a minute.
FAST_BREATH_SECONDS = 3.0
BREATHING_ACTIONS = frozenset({"inhale", "exhale", "hold", "hold_empty", "sigh_inhale"})
KINDS = ("breathing", "cold", "combined")
SCREENING_ANSWERS = (
    "heart_condition",
    "arrhythmia",
    "high_blood_pressure",
    "pregnancy",
    "epilepsy",
    "raynauds",
    "respiratory",
    "panic_disorder",
)
# Texts kept once in builtin.json and added by rule (see catalogue.apply_standard_cautions).
STANDARD_CAUTION_KEYS = ("breath_hold", "cold", "slow_breathing")

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,47}$"
MIN_PHASE_SECONDS = 0.5
MAX_PHASE_SECONDS = 600
MAX_PHASES = 40
MAX_TOTAL_SECONDS = 60 * 60
# In a routine with cold water, a hold may be a pause at the top of a breath, never a breath
# hold: the cold-shock response and the diving reflex together upset the heart's rhythm
# (Shattock & Tipton 2012), and breath holds in or near water cause drownings (evidence.md).
MAX_HOLD_WITH_COLD_SECONDS = 2.0

NAME_MAX, GOAL_MAX, SUMMARY_MAX, EVIDENCE_MAX = 60, 120, 600, 2000
CUE_MAX, CAUTION_MAX, CUSTOM_CAUTIONS_MAX, REASON_MAX = 120, 400, 10, 300
CITATION_YEAR = re.compile(r"\b(19|20)\d\d\b")


def tenths(seconds: float) -> int:
    """A duration on the 0.1 s grid as a whole number of tenths, so sums are exact."""
    return round(seconds * 10)


def total_seconds(phases: list[dict], cycles: int) -> float:
    return sum(tenths(p["seconds"]) for p in phases) * cycles / 10


# White space as OpenAPI's (ECMAScript) `\S` sees it. Python's str.strip() also strips the
# control characters \x1c–\x1f, which would refuse text the documented pattern accepts.
ECMA_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _not_blank(value: str) -> None:
    if not value.strip(ECMA_SPACE):
        raise ValidationError("Must not be blank.")


def text(max_length: int, metadata: dict | None = None, **kwargs) -> fields.String:
    # OpenAPI states "not blank" as a pattern: at least one character that is not white space.
    metadata = {"pattern": r"\S", **(metadata or {})}
    return fields.String(validate=[validate.Length(max=max_length), _not_blank], metadata=metadata, **kwargs)


class Seconds(fields.Float):
    """A JSON number of seconds on a 0.1 s grid (strings and booleans are refused)."""

    default_error_messages = {
        "invalid": "Not a valid number of seconds.",
        "grid": "Use at most one decimal place (0.1 s steps), e.g. 4.5.",
    }

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            raise self.make_error("invalid")
        seconds = super()._deserialize(value, attr, data, **kwargs)
        if abs(seconds) < 1e9:  # the range validator reports anything larger
            exact = Decimal(repr(seconds))
            if exact != exact.quantize(Decimal("0.1")):
                raise self.make_error("grid")
        return seconds


class PhaseSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    seconds = Seconds(
        required=True,
        validate=validate.Range(
            MIN_PHASE_SECONDS, MAX_PHASE_SECONDS, error="A phase lasts from {min:g} to {max:g} seconds."
        ),
        metadata={"description": "0.5–600 s in 0.1 s steps", "example": 4.5},
    )
    cue = fields.String(
        load_default="",
        validate=validate.Length(max=CUE_MAX),
        metadata={"description": "What the pacer says or shows during the phase"},
    )
    open_ended = JSONBoolean(
        load_default=False,
        metadata={
            "description": "Only for hold and hold_empty: the person ends the phase (a tap); "
            "`seconds` is its nominal length, used for planning and totals."
        },
    )

    @validates_schema
    def _open_ended_only_on_holds(self, data, **kwargs):
        if data.get("open_ended") and data.get("action") not in BREATH_HOLDS:
            raise ValidationError("Only hold and hold_empty phases can be open-ended.", "open_ended")


class RoutineSchema(Schema):
    """A routine definition as a person writes it (a custom routine)."""

    slug = fields.String(
        required=True,
        validate=FullMatch(SLUG_PATTERN, error="Use 2–48 lower-case letters, digits and dashes, starting with a letter or digit."),
        metadata={"example": "evening-wind-down"},
    )
    name = text(NAME_MAX, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    goal = text(GOAL_MAX, required=True, metadata={"description": "What it is for, in a few plain words"})
    summary = text(SUMMARY_MAX, required=True, metadata={"description": "How it goes, in plain words"})
    evidence = fields.String(load_default="", validate=validate.Length(max=EVIDENCE_MAX))
    cautions = fields.List(
        text(CAUTION_MAX),
        load_default=list,
        validate=validate.Length(max=CUSTOM_CAUTIONS_MAX),
        metadata={"description": "Your own notes of caution; the standard ones are added by the server"},
    )
    phases = fields.List(
        fields.Nested(PhaseSchema),
        required=True,
        validate=validate.Length(1, MAX_PHASES, error="A routine has from {min} to {max} phases."),
    )
    cycles = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(1, MAX_TOTAL_SECONDS * 2),
        metadata={"description": "How many times the phases repeat; phases × cycles ≤ 60 minutes"},
    )

    @validates_schema
    def _whole_routine(self, data, **kwargs):
        phases, cycles = data["phases"], data["cycles"]
        total = total_seconds(phases, cycles)
        if total > MAX_TOTAL_SECONDS:
            raise ValidationError(
                f"The whole routine (phases × cycles) would take {total / 60:.1f} minutes; the limit is 60 minutes.",
                "_schema",
            )
        actions = {p["action"] for p in phases}
        kind = data["kind"]
        if kind == "breathing" and "cold" in actions:
            raise ValidationError("A breathing routine has no cold phase; use kind cold or combined.", "kind")
        if kind in ("cold", "combined") and "cold" not in actions:
            raise ValidationError(f"A {kind} routine needs at least one cold phase.", "kind")
        if kind == "combined" and not actions & BREATHING_ACTIONS:
            raise ValidationError("A combined routine needs breathing phases as well as cold ones.", "kind")
        if "cold" in actions and any(
            p["action"] in BREATH_HOLDS and (p["open_ended"] or p["seconds"] > MAX_HOLD_WITH_COLD_SECONDS)
            for p in phases
        ):
            raise ValidationError(
                "Breath holds and cold water must not be combined: in a routine with cold phases a hold "
                f"may be a pause of at most {MAX_HOLD_WITH_COLD_SECONDS:g} s.",
                "phases",
            )


class RoutineUpdateSchema(RoutineSchema):
    """PUT body: the slug is the URL's; if the body repeats it, it must match (checked by the service)."""

    slug = fields.String(load_default=None, validate=FullMatch(SLUG_PATTERN))


class BlockSchema(Schema):
    answer = fields.String(required=True, validate=validate.OneOf(SCREENING_ANSWERS))
    reason = text(REASON_MAX, required=True)


def _cites_a_year(value: str) -> None:
    if not CITATION_YEAR.search(value):
        raise ValidationError("The evidence must cite its source with a year, e.g. (Laborde et al. 2021).")


class BuiltinRoutineSchema(RoutineSchema):
    """A built-in: honest evidence with a citation, screening rules, standard cautions by key."""

    evidence = fields.String(required=True, validate=[validate.Length(1, EVIDENCE_MAX), _cites_a_year])
    cautions = fields.List(text(CAUTION_MAX), load_default=list, validate=validate.Length(max=CUSTOM_CAUTIONS_MAX))
    standard_cautions = fields.List(
        fields.String(validate=validate.OneOf(STANDARD_CAUTION_KEYS)), load_default=list
    )
    requires_screening = fields.Boolean(required=True)
    # Screening answers that block this routine once the user has answered yes to them.
    blocked_by = fields.List(fields.Nested(BlockSchema), load_default=list)

    @validates_schema
    def _screened_routines_say_what_blocks_them(self, data, **kwargs):
        if data["requires_screening"] and not data["blocked_by"]:
            raise ValidationError("A routine that requires screening must list the answers that block it.", "blocked_by")
        answers = [b["answer"] for b in data["blocked_by"]]
        if len(answers) != len(set(answers)):
            raise ValidationError("Each screening answer may block a routine only once.", "blocked_by")


def fast_breathing(phases: list[dict]) -> bool:
    """An in-breath straight followed by an out-breath (the routine repeats, so the last
    phase is followed by the first) that together last FAST_BREATH_SECONDS or less."""
    n = len(phases)
    for i, p in enumerate(phases):
        after = phases[(i + 1) % n]
        if (n > 1 and p["action"] in ("inhale", "sigh_inhale") and after["action"] == "exhale"
                and p["seconds"] + after["seconds"] <= FAST_BREATH_SECONDS):
            return True
    return False
