"""Strict JSON fields: a value of the JSON type the OpenAPI document states, nothing coerced.

marshmallow's own Boolean takes 0, 1, "yes" and "on", and its Float takes "5.5"; the document
says boolean and number, so anything else is refused with 422.
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate


class JSONNumber(fields.Float):
    """A JSON number (a string such as "5.5" is refused, unlike fields.Float)."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JSONBoolean(fields.Boolean):
    """A JSON true or false ("yes", 1 and the like are refused: an answer must be meant)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class FullMatch(validate.Regexp):
    """validate.Regexp that must match the whole value: Regexp uses re.match, where `$` also
    matches before a trailing newline ("box\\n" passed). The pattern still documents the
    field in OpenAPI (apispec reads any Regexp's pattern)."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
