"""pybabel extractors for the built-in routines (coach/routines/builtin.json) and the plans
(coach/routines/plans.json), named in
coach/translations/babel.cfg: every text a person reads becomes a msgid, with a comment
saying which routine and field it is, so a translator sees where it will be shown.

Evidence sentences carry their citations: translators keep author, year, journal and pages
exactly as written (a test checks every one).
"""
from __future__ import annotations

import json

CITATION_NOTE = "Keep every citation (authors, year, journal, volume:page) exactly as written."


def routines(fileobj, keywords, comment_tags, options):
    """Babel's extractor interface: yields (lineno, funcname, message, comments)."""
    raw = json.loads(fileobj.read().decode("utf-8"))
    for key, text in raw["standard_cautions"].items():
        yield 0, None, text, [f"standard caution: {key}"]
    for routine in raw["routines"]:
        slug = routine["slug"]
        for field in ("name", "goal", "summary", "evidence"):
            if routine.get(field):
                notes = [f"routine {slug}: {field}"] + ([CITATION_NOTE] if field == "evidence" else [])
                yield 0, None, routine[field], notes
        for caution in routine.get("cautions", []):
            yield 0, None, caution, [f"routine {slug}: caution"]
        for number, phase in enumerate(routine.get("phases", []), 1):
            if phase.get("cue"):
                yield 0, None, phase["cue"], [f"routine {slug}: cue of phase {number} ({phase['action']})"]
        for block in routine.get("blocked_by", []):
            yield 0, None, block["reason"], [f"routine {slug}: screening reason ({block['answer']})"]


def plans(fileobj, keywords, comment_tags, options):
    """The plans' texts: name, summary, evidence, cautions and each week's step."""
    raw = json.loads(fileobj.read().decode("utf-8"))
    for plan in raw["plans"]:
        slug = plan["slug"]
        for field in ("name", "summary", "evidence"):
            notes = [f"plan {slug}: {field}"] + ([CITATION_NOTE] if field == "evidence" else [])
            yield 0, None, plan[field], notes
        for caution in plan.get("cautions", []):
            yield 0, None, caution, [f"plan {slug}: caution"]
        for week in plan.get("weeks", []):
            yield 0, None, week["text"], [f"plan {slug}: week {week['week']}"]
