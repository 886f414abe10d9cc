"""Where to find help: a small, configurable directory of crisis lines by country.

Shown with the care card (api.md: mood rated 2 or lower in 3 of the last 5 sessions) and
wherever the front end offers help. The built-in list holds an international directory,
shown for every country, and a few national lines that are well established. An operator can
replace it with a JSON file named by `COACH_CRISIS_LINES` (a setting: coach/config.py):

    {"international": [LINE, ...],
     "countries": {"DE": {"emergency": "112", "lines": [LINE, ...]}, ...}}
    LINE = {"name", "description", "phone"?, "sms"?, "url"? (https), "hours"?}

A file that cannot be read or is not valid is logged and the built-in list is used: a typo
in a configuration file must never hide help from someone who needs it.
"""
from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .i18n import DEFAULT as DEFAULT_LANGUAGE
from .i18n import N_, translate

log = logging.getLogger(__name__)

ALIASES = {"UK": "GB"}  # what people type for the United Kingdom

FIND_A_HELPLINE = {
    "name": "Find A Helpline",
    "description": N_("Free, confidential support lines in many countries, searchable by country and topic."),
    "url": "https://findahelpline.com",
}

BUILTIN = {
    "international": [FIND_A_HELPLINE],
    "countries": {
        "US": {"emergency": "911", "lines": [{
            "name": "988 Suicide & Crisis Lifeline",
            "description": N_("Free, confidential support by call or text, for anyone in distress."),
            "phone": "988", "sms": "988", "url": "https://988lifeline.org", "hours": "24/7",
        }]},
        "CA": {"emergency": "911", "lines": [{
            "name": "9-8-8 Suicide Crisis Helpline",
            "description": N_("Free support by call or text, in English and French."),
            "phone": "988", "sms": "988", "url": "https://988.ca", "hours": "24/7",
        }]},
        "GB": {"emergency": "999", "lines": [{
            "name": "Samaritans",
            "description": N_("Free, confidential listening for anyone who is struggling."),
            "phone": "116 123", "url": "https://www.samaritans.org", "hours": "24/7",
        }]},
        "IE": {"emergency": "112", "lines": [{
            "name": "Samaritans",
            "description": N_("Free, confidential listening for anyone who is struggling."),
            "phone": "116 123", "url": "https://www.samaritans.org", "hours": "24/7",
        }]},
        "DE": {"emergency": "112", "lines": [{
            "name": "TelefonSeelsorge",
            "description": N_("Free, anonymous listening when things are hard (also 0800 111 0 222 and 116 123)."),
            "phone": "0800 111 0 111", "url": "https://www.telefonseelsorge.de", "hours": "24/7",
        }]},
        "AT": {"emergency": "112", "lines": [{
            "name": "TelefonSeelsorge",
            "description": N_("Free, anonymous listening when things are hard."),
            "phone": "142", "hours": "24/7",
        }]},
        "CH": {"emergency": "112", "lines": [{
            "name": "Die Dargebotene Hand / La Main Tendue",
            "description": N_("Anonymous listening and support."),
            "phone": "143", "hours": "24/7",
        }]},
        "FR": {"emergency": "112", "lines": [{
            "name": "3114 – numéro national de prévention du suicide",
            "description": N_("Free listening by trained professionals, for you or someone close to you."),
            "phone": "3114", "url": "https://3114.fr", "hours": "24/7",
        }]},
        "NL": {"emergency": "112", "lines": [{
            "name": "113 Zelfmoordpreventie",
            "description": N_("Free, anonymous support if you are thinking about suicide (also 0800-0113)."),
            "phone": "113", "url": "https://www.113.nl", "hours": "24/7",
        }]},
        "AU": {"emergency": "000", "lines": [{
            "name": "Lifeline",
            "description": N_("Crisis support for anyone having a difficult time."),
            "phone": "13 11 14", "url": "https://www.lifeline.org.au", "hours": "24/7",
        }]},
        "NZ": {"emergency": "111", "lines": [{
            "name": "1737, Need to talk?",
            "description": N_("Free call or text to talk with a trained counsellor."),
            "phone": "1737", "sms": "1737", "url": "https://1737.org.nz", "hours": "24/7",
        }]},
    },
}

WORDS = {
    "title": N_("You don't have to carry this alone"),
    "body": N_(
        "If things feel heavy at the moment, talking can help: with someone you trust, your "
        "doctor, or a support line. The people on these lines listen without judging, and "
        "calling is free."
    ),
    "not_treatment": N_(
        "This app is a coach for breathing and cold-water practice. It is not treatment and "
        "cannot tell how you are doing; it can sit alongside real help, not replace it."
    ),
    "emergency": N_(
        "If you are in danger or thinking about harming yourself, call your local emergency "
        "number now."
    ),
}


class LineSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(required=True, validate=validate.Length(1, 400))
    phone = fields.String(validate=validate.Length(1, 40))
    sms = fields.String(validate=validate.Length(1, 40))
    url = fields.Url(schemes={"https"}, validate=validate.Length(max=300))
    hours = fields.String(validate=validate.Length(1, 80))

    @validates_schema
    def _reachable(self, data, **kwargs):
        if not any(data.get(k) for k in ("phone", "sms", "url")):
            raise ValidationError("A line needs a phone number, a text number or a web address.")


class CountrySchema(Schema):
    emergency = fields.String(validate=validate.Length(1, 20))
    lines = fields.List(fields.Nested(LineSchema), load_default=list, validate=validate.Length(max=20))


class DirectorySchema(Schema):
    international = fields.List(fields.Nested(LineSchema), load_default=list, validate=validate.Length(max=20))
    countries = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")),
        values=fields.Nested(CountrySchema),
        load_default=dict,
    )


def _validated(raw: dict) -> dict:
    directory = DirectorySchema().load(raw)
    if not directory["international"]:
        directory["international"] = [FIND_A_HELPLINE]  # there is always somewhere to turn
    return directory


BUILTIN_DIRECTORY = _validated(BUILTIN)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict:
    try:
        return _validated(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        log.error("COACH_CRISIS_LINES file %s is not usable (%s); using the built-in list", path, exc)
        return BUILTIN_DIRECTORY


def directory(path: str | None) -> dict:
    """The directory from `path` (re-read when the file changes), else the built-in one."""
    if not path:
        return BUILTIN_DIRECTORY
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        log.error("COACH_CRISIS_LINES file %s is not usable (%s); using the built-in list", path, exc)
        return BUILTIN_DIRECTORY
    return _load(path, mtime)


@lru_cache(maxsize=1)
def _tzdata_table(name: str) -> str:
    return (files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")


def known_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from the tz database's own table)."""
    return frozenset(
        line.split("\t", 1)[0] for line in _tzdata_table("iso3166.tab").splitlines() if line and not line.startswith("#")
    )


def country_of_zone(zone_name: str) -> str | None:
    """The country an IANA zone belongs to (tz database zone.tab), or None (e.g. UTC)."""
    for line in _tzdata_table("zone.tab").splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2] == zone_name:
                return parts[0]
    return None


def normalise_country(code: str) -> str | None:
    """Upper-cased ISO code (UK → GB), or None if it is not a country code."""
    code = ALIASES.get(code.strip().upper(), code.strip().upper())
    return code if code in known_countries() else None


def _in(language: str, lines: list[dict]) -> list[dict]:
    """Lines with their descriptions in `language`: the built-in ones are catalogue msgids;
    an operator's own (COACH_CRISIS_LINES) stay as written unless the catalogue knows them.
    Names, numbers and hours are never translated: they are what a person dials or searches."""
    return [{**line, "description": translate(language, line["description"])} for line in lines]


def resources(country: str | None, timezone: str, path: str | None, language: str = DEFAULT_LANGUAGE) -> dict:
    """Crisis lines for `country` (an ISO code already normalised), or for the country of
    the user's time zone when none is given (a guess the front end lets the person change);
    the words and descriptions in `language`."""
    guessed = country is None
    if guessed:
        country = country_of_zone(timezone)
    found = directory(path)
    entry = found["countries"].get(country or "", {})
    return {
        "country": country,
        "country_guessed": guessed,
        "emergency": entry.get("emergency"),
        "lines": _in(language, entry.get("lines", [])),
        "international": _in(language, found["international"]),
        "words": {key: translate(language, text) for key, text in WORDS.items()},
    }
