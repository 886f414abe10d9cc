"""The built-in routines: data in `builtin.json`, validated when the app starts.

`load_catalogue()` checks every built-in against the same schema that validates a custom
routine (plus evidence and screening), and stops the app with a `CatalogueError` naming the
routine and the field if one is wrong. It runs once at import (so `BUILTIN_SLUGS` is a plain
constant) and again from `create_app`.
"""
from __future__ import annotations

import copy
import json
from importlib.resources import files

from marshmallow import ValidationError

from .schema import (
    BREATH_HOLDS,
    CAUTION_MAX,
    STANDARD_CAUTION_KEYS,
    BuiltinRoutineSchema,
    fast_breathing,
    total_seconds,
)

DATA = files(__package__) / "builtin.json"
# The contract (api.md) names these; the catalogue may hold more, never fewer.
REQUIRED_SLUGS = frozenset(
    {
        "resonance",
        "extended-exhale",
        "box",
        "4-7-8",
        "cyclic-sighing",
        "humming",
        "power-breathing",
        "cold-face",
        "cold-shower",
        "cold-plunge",
    }
)
RESONANCE = "resonance"


class CatalogueError(RuntimeError):
    """The built-in routines file is wrong; the app must not start with it."""


def standard_cautions_needed(routine: dict) -> set[str]:
    """The standard cautions a routine must carry, by what it asks the body to do."""
    actions = {p["action"] for p in routine["phases"]}
    needed = set()
    if actions & BREATH_HOLDS or fast_breathing(routine["phases"]):
        needed.add("breath_hold")  # its text: never hold the breath or breathe fast in or near water
    if "cold" in actions or routine["kind"] in ("cold", "combined"):
        needed.add("cold")
    return needed


def apply_standard_cautions(routine: dict, standard: dict[str, str], extra_keys=()) -> list[str]:
    """The routine's cautions with the standard ones it needs in front, each once."""
    keys = standard_cautions_needed(routine) | set(extra_keys)
    texts = [standard[k] for k in STANDARD_CAUTION_KEYS if k in keys]
    return texts + [c for c in routine["cautions"] if c not in texts]


def _read(source) -> dict:
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"The built-in routines file {source} cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - {"_about"} != {"standard_cautions", "routines"}:
        raise CatalogueError(f"{source} must be an object with `standard_cautions` and `routines`.")
    standard = raw["standard_cautions"]
    if not isinstance(standard, dict) or set(standard) != set(STANDARD_CAUTION_KEYS) or not all(
        isinstance(t, str) and 0 < len(t) <= CAUTION_MAX for t in standard.values()
    ):
        raise CatalogueError(
            f"{source}: `standard_cautions` must give a text (at most {CAUTION_MAX} characters) "
            f"for exactly {', '.join(STANDARD_CAUTION_KEYS)}."
        )
    if not isinstance(raw["routines"], list):
        raise CatalogueError(f"{source}: `routines` must be a list.")
    return raw


def _validated(item, index: int, standard: dict[str, str]) -> dict:
    label = item.get("slug") if isinstance(item, dict) else None
    label = f"'{label}'" if isinstance(label, str) else f"number {index + 1}"
    try:
        routine = BuiltinRoutineSchema().load(item)
    except ValidationError as exc:
        raise CatalogueError(f"Built-in routine {label} is not valid: {exc.messages}") from exc
    routine["cautions"] = apply_standard_cautions(routine, standard, routine.pop("standard_cautions"))
    routine["builtin"] = True
    routine["total_seconds"] = total_seconds(routine["phases"], routine["cycles"])
    return routine


def load_catalogue(source=None) -> dict[str, dict]:
    """Read and validate the built-ins; raises CatalogueError. Returns {slug: routine}."""
    global _CATALOGUE, _STANDARD
    source = source or DATA
    raw = _read(source)
    standard = raw["standard_cautions"]
    catalogue: dict[str, dict] = {}
    for index, item in enumerate(raw["routines"]):
        routine = _validated(item, index, standard)
        if routine["slug"] in catalogue:
            raise CatalogueError(f"Built-in routine '{routine['slug']}' appears twice.")
        catalogue[routine["slug"]] = routine
    missing = REQUIRED_SLUGS - set(catalogue)
    if missing:
        raise CatalogueError(f"Built-in routines missing: {', '.join(sorted(missing))}.")
    if [p["action"] for p in catalogue[RESONANCE]["phases"]] != ["inhale", "exhale"]:
        raise CatalogueError("Built-in routine 'resonance' must be one inhale and one exhale (it is re-planned per user).")
    _CATALOGUE, _STANDARD = catalogue, standard
    return copy.deepcopy(catalogue)


def builtin(slug: str) -> dict | None:
    """A built-in routine (a copy), or None. `resonance` is its plan at 6.0 breaths a minute;
    use service.get_routine for a user's own plan."""
    routine = _CATALOGUE.get(slug)
    return copy.deepcopy(routine) if routine is not None else None


def rules(slug: str) -> tuple[bool, list[dict]] | None:
    """(requires_screening, blocked_by) of a built-in, or None: what the safety checks read on
    every session, without copying the whole routine. Read-only."""
    routine = _CATALOGUE.get(slug)
    return None if routine is None else (bool(routine.get("requires_screening")), routine.get("blocked_by") or [])


def builtins() -> list[dict]:
    """Every built-in, in catalogue order (copies)."""
    return copy.deepcopy(list(_CATALOGUE.values()))


def standard_cautions() -> dict[str, str]:
    """{key: text} of the standard cautions (breath_hold, cold, slow_breathing)."""
    return dict(_STANDARD)


_CATALOGUE: dict[str, dict] = {}
_STANDARD: dict[str, str] = {}
load_catalogue()
BUILTIN_SLUGS: tuple[str, ...] = tuple(_CATALOGUE)
