"""Checks on every API request's input that no schema can make, before any route runs.

- Text with U+0000 (NUL), or with a lone surrogate (JSON's "\ud800" escape, which is no
  character and cannot be encoded as UTF-8): PostgreSQL cannot store or compare NUL, and no
  database driver can encode a lone surrogate, so either used to be a 500. In the body or the
  query it is refused with 422 naming the top-level field; in the path it names nothing: 404.
- JSON nested so deeply that Python's parser gives up (a RecursionError, not a ValueError)
  is malformed JSON to us: 400, as for any body that cannot be read.
"""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import abort

from .. import server_paths
from ..i18n import N_

NUL = "\x00"
MESSAGE = N_("Text must be valid Unicode, without the NUL character (U+0000).")


def json_body():
    """The request's JSON body, or None when there is none or it cannot be read."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _bad_text(text: str) -> bool:
    if NUL in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def contains_bad_text(value) -> bool:
    stack = [value]  # a loop, not recursion: the body may be nested as deep as the parser allows
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _name(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode().replace(NUL, "\\u0000")


def check_request():
    if not request.path.startswith(server_paths.API):
        return None
    if any(contains_bad_text(v) for v in (request.view_args or {}).values()):
        abort(404, message=_("Not found."))
    errors = {_name(k): [MESSAGE] for k, values in request.args.lists() if contains_bad_text([k, *values])}
    if request.is_json and (request.content_length or request.headers.get("Transfer-Encoding")):
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            abort(400, message=_("The JSON body is nested too deeply."))
        if isinstance(body, dict):
            errors.update({_name(k): [MESSAGE] for k, v in body.items() if contains_bad_text([k, v])})
        elif contains_bad_text(body):
            errors["_schema"] = [MESSAGE]
    if errors:
        abort(422, message=_(MESSAGE), messages=errors)
    return None
