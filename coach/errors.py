"""The one error shape: {code, status, message, errors} for every 4xx (and the rare 5xx).

flask-smorest's shape, with `errors` flattened to {field: [messages]} as api.md shows it,
and a plain-words `message` always present so the front end can show a sentence.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, request
from flask_limiter import RateLimitExceeded
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from .i18n import N_

log = logging.getLogger(__name__)

MESSAGES = {
    400: N_("The request could not be read."),
    401: N_("Please log in again."),
    403: N_("That is not allowed."),
    404: N_("Not found."),
    405: N_("That method is not allowed here."),
    409: N_("That conflicts with something that already exists."),
    413: N_("The request is too large (the limit is 1 MiB)."),
    415: N_("Send the body as JSON (Content-Type: application/json)."),
    422: N_("Some fields are not valid."),
    429: N_("That was a lot of requests in a short time. Please wait a little and try again."),
    500: N_("Something went wrong on our side."),
}

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _flatten(messages):
    """webargs nests messages by location ({"json": {...}}); the contract keys them by field."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict = {}
    for location, value in messages.items():
        if location in {"json", "query", "querystring", "path", "view_args", "headers", "form"} and isinstance(value, dict):
            flat.update(value)
        else:
            flat[location] = value
    return flat


def error_body(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    """`message` in the request's language (coach/i18n/selection.py): a route's own message is
    already translated, any other English text is looked up here (gettext leaves a text it
    does not know, a translated one included, as it is). `status` and `errors` keys stay as
    they are: the reason phrase and field names are for programs."""
    body = {
        "code": code,
        "status": HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error",
        "message": gettext(message or MESSAGES.get(code, HTTPStatus(code).phrase)),
    }
    if errors:
        body["errors"] = errors
    return body


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = _flatten(data["messages"]) if "messages" in data else None
    message = data.get("message")
    if message is None and error.description and code not in (404, 405, 500) and error.description != type(error).description:
        message = error.description
    if isinstance(error, RateLimitExceeded) and not error.limit.error_message:
        message = None  # the limiter's own words would be "120 per 1 minute"
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if hasattr(error, "get_headers"):
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
    return response


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    response = jsonify(error_body(500))
    response.status_code = 500
    return response


def require_json_body():
    """415 for a write to /api/ whose body is not JSON (a body-less call is fine)."""
    if request.method not in BODY_METHODS or not request.path.startswith("/api/"):
        return None
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType()
    return None


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.before_request(require_json_body)
