"""Structured logs: one JSON object per line, with the request id where there is one."""
from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime, timezone

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr at `level` (the COACH_LOG_LEVEL setting), once per process,
    unless logging was set up already."""
    level = level.upper()
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the request log says it better


_EMAIL = re.compile(r"[^\s@:()]+@[^\s@:()]+")


def _pseudonym(match: re.Match) -> str:
    return "email#" + hashlib.sha256(match.group(0).lower().encode()).hexdigest()[:12]


class RedactEmails(logging.Filter):
    """Replaces every email address in a record's message by a short hash, so a rate-limit
    line (Flask-Limiter logs the key, which for a login limit holds the address) can still
    be matched to others without naming the person."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message:
            record.msg, record.args = _EMAIL.sub(_pseudonym, message), ()
        return True


def redact_limiter() -> None:
    """Once per process: Flask-Limiter's logger passes through RedactEmails."""
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, RedactEmails) for f in limiter_log.filters):
        limiter_log.addFilter(RedactEmails())
