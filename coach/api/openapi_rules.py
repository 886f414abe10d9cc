"""Rules that make the generated OpenAPI document say exactly what the API does.

1. Answers the app gives before a route runs, documented once for every operation.
flask-smorest's catch-all `default` response is switched off, so the OpenAPI document lists
every status an operation can answer: the route's own (its `alt_response`s), 401 from
`login_required`, 422 from `@blp.arguments`, and these, which come from app-wide machinery
(`coach/errors.py`, the JSON body parser, Flask-Limiter) and so are added here by rule:

- an operation with a JSON body: 400 (not well-formed JSON or not UTF-8), 413 (over 1 MiB);
- every write (POST, PUT, PATCH, DELETE): 415 (a body that is not JSON), 429 (rate limited);
- every operation: 422 for text with U+0000 or a lone surrogate (`input_guard`), where no other
  422 is stated.

2. A nullable nested object is "that object, or null". apispec writes the null branch for
OpenAPI 3.0 as `{"type": "object", "nullable": true}`, which admits *any* object (so the
document allowed `"post": {}` although `mood` is required); `enum: [null]` narrows it to null.
"""
from __future__ import annotations

from apispec import APISpec, BasePlugin
from flask_smorest import Api

WRITES = frozenset({"post", "put", "patch", "delete"})
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

RESPONSES = {
    "MalformedBody": (400, "The body is not well-formed JSON, or not UTF-8."),
    "BodyTooLarge": (413, "The body is over 1 MiB."),
    "NotJSON": (415, "A body was sent that is not JSON (Content-Type: application/json)."),
    "RateLimited": (429, "Too many requests from this account (or, before a token is verified, this address); "
                    "wait as long as Retry-After says."),
    "BadText": (422, "Text in the query or the body contains the NUL character (U+0000) or a lone surrogate."),
}
# Said once for the whole API, after the description create_app gives.
CONVENTIONS = """
Texts a person reads come in the account's `language` (en, de, es, fr); `?lang=` on any GET
overrides it for that call (any other value is ignored), and without a signed-in user the
best match of `Accept-Language` is used.
Unknown query parameters are ignored (a cache-buster or a newer client's extra does no harm),
unlike unknown body fields. No text anywhere in a request may contain the NUL character U+0000
or a lone surrogate such as "\\ud800" (422; 404 in a path). Ids in paths are integers from 1 to
2147483647, or UUIDs where stated; anything else answers 404.
"""
LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "The language of this answer's texts, instead of the account's: en, de, es or fr (anything else is ignored).",
    "schema": {"type": "string", "example": "de"},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


class CommonResponses(BasePlugin):
    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        for name, (code, description) in RESPONSES.items():
            response = {"description": description, "content": ERROR}
            if code == 429:
                response["headers"] = RETRY_AFTER
            spec.components.response(name, response)
        spec.components.parameter("Lang", "query", LANG)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("422", "BadText")
            if method == "get" and str(path).startswith("/api/"):
                operation.setdefault("parameters", []).append("Lang")
            if method not in WRITES:
                continue
            if "requestBody" in operation:
                responses.setdefault("400", "MalformedBody")
                responses.setdefault("413", "BodyTooLarge")
            responses.setdefault("415", "NotJSON")
            responses.setdefault("429", "RateLimited")


NULL_BRANCH = {"type": "object", "nullable": True}


def only_null_in_null_branch(self, field, ret, **kwargs) -> dict:
    """An apispec attribute function (runs after its own `field2nullable`)."""
    if NULL_BRANCH not in ret.get("anyOf", ()):
        return {}
    return {"anyOf": [{**NULL_BRANCH, "enum": [None]} if b == NULL_BRANCH else b for b in ret["anyOf"]]}


def install(api: Api) -> None:
    """Call before registering blueprints (their operations are documented as they register)."""
    api.DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all: every status is stated
    plugin = CommonResponses()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)
    api.ma_plugin.converter.add_attribute_function(only_null_in_null_branch)
    info = api.spec.options.setdefault("info", {})
    info["description"] = info.get("description", "") + CONVENTIONS
