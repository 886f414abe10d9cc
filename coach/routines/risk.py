"""What a person's own routine asks of the body, read from its phases, and so how it is
screened: like the built-in it resembles (issue 14). Breath holds over 15 s or fast breathing
are screened as power breathing is; cold as the cold plunge is (the app cannot tell a bowl
from a lake, so it takes the stricter one). Gentle routines need no screening."""
from __future__ import annotations

from . import catalogue
from .schema import BREATH_HOLDS, fast_breathing

LONG_HOLD_SECONDS = 15.0
LIKE_FAST_OR_HOLDING = "power-breathing"
LIKE_COLD = "cold-plunge"


def long_holds(phases: list[dict]) -> bool:
    return any(p["action"] in BREATH_HOLDS and p["seconds"] > LONG_HOLD_SECONDS for p in phases)


def cold(routine: dict) -> bool:
    return routine["kind"] in ("cold", "combined") or any(p["action"] == "cold" for p in routine["phases"])


def custom_rules(routine: dict) -> tuple[bool, list[dict]]:
    """(requires_screening, blocked_by) for a person's own routine: the rules of each built-in
    it resembles, merged (one entry per answer, the first built-in's reason)."""
    like = []
    if long_holds(routine["phases"]) or fast_breathing(routine["phases"]):
        like.append(LIKE_FAST_OR_HOLDING)
    if cold(routine):
        like.append(LIKE_COLD)
    blocked_by: dict[str, dict] = {}
    for slug in like:
        _, rules = catalogue.rules(slug)
        for rule in rules:
            blocked_by.setdefault(rule["answer"], dict(rule))
    return bool(like), list(blocked_by.values())
