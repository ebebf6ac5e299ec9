"""The OpenAPI 3.1 document, built from the same route declarations Chalice serves.

It says what the code enforces: request bodies from the pydantic models that parse them (their
`required`, bounds, patterns and enums), responses from the models that serialise them (every field
present, so every field required), each route's error `Code` values per status, `Retry-After` on
429 and 503, timestamps as `date-time`, one `Label` enum, and `links` from what a write returns
to the routes that take its ids. `python -m chalicelib.openapi` writes docs/api.md.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections import defaultdict
from typing import TYPE_CHECKING

from chalicelib.http import MAX_PATH_ID_LENGTH, ROUTES, WRITE_METHODS, Query, RouteSpec, resolve_model

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

_STATUS_TEXT = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Invalid input", 401: "Missing or invalid token",
    403: "Not allowed", 404: "Unknown resource", 409: "Conflict with current state",
    429: "Too many writes", 503: "Busy or a dependency is unavailable: try again after Retry-After",
}

#: The Code of each status when a service raises the plain error (`chalicelib.errors`).
DEFAULT_CODES = {
    400: "BadRequestError", 401: "UnauthorizedError", 403: "ForbiddenError", 404: "NotFoundError",
    409: "ConflictError", 429: "TooManyRequestsError", 503: "ServiceUnavailableError",
}
#: Codes that name a specific refusal, with their status. A route lists the ones it can answer in
#: `errors=`; tests/unit/test_openapi.py checks every code a service raises is here and on a route.
NAMED_CODES = {
    "InsufficientPoints": 409, "SoldOut": 409, "LimitReached": 409, "Expired": 409,
    "AlreadyUsed": 409, "MinimumSpendNotMet": 409, "AlreadyReviewed": 409, "AlreadyVoted": 409,
    "PollClosed": 409, "OwnerCannotLeave": 409, "OwnStore": 403, "Busy": 503,
    "HasAnswers": 409, "AnswerAccepted": 409, "Ended": 409,
    "AlreadyReported": 409, "Suspended": 403, "AccountDeleted": 401,
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}

ULID_PATTERN = "^[0-9A-HJKMNP-TV-Z]{26}$"
#: What the path parameters look like. IDs this service mints are ULIDs; user ids are Cognito's
#: `sub` (a UUID). Anything else names nothing (404), except `label`, which is checked (400).
_ULID = {"type": "string", "pattern": ULID_PATTERN, "description": "A ULID this service issued"}
_USER_ID = {"type": "string", "pattern": "^[0-9A-Za-z-]{1,128}$", "description": "A user's id (Cognito sub)"}


def _label_schema() -> dict:
    from chalicelib.domain.labels import LABEL_IDS

    return {"type": "string", "enum": list(LABEL_IDS), "description": "A label id from GET /labels"}


def _path_parameter_schema(name: str) -> dict:
    if name == "label":
        return _label_schema()
    if name in ("user_id", "merchant_id"):
        return dict(_USER_ID)
    if name.endswith("_id"):
        return dict(_ULID)
    return {"type": "string", "minLength": 1, "maxLength": MAX_PATH_ID_LENGTH}


def _is_timestamp(name: str) -> bool:
    return name.endswith("_at") or name == "since"


# --------------------------------------------------------------------------------------------------
# Schemas


def _model_schema(model, mode: JsonSchemaMode, components: dict) -> dict:
    from pydantic.json_schema import models_json_schema

    refs, definitions = models_json_schema([(model, mode)], ref_template="#/components/schemas/{model}")
    components.update(definitions.get("$defs", {}))
    return refs[(model, mode)]


def _mark_timestamps(schema: dict) -> None:
    """Times are ISO 8601 UTC strings (`domain.ids.iso`): `format: date-time` on every `*_at`."""
    for name, prop in schema.get("properties", {}).items():
        if not _is_timestamp(name):
            continue
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == "string":
                option["format"] = "date-time"


def _share_label_enum(node, label: dict):
    """Every inline copy of the label catalogue becomes a reference to one `Label` schema, so
    clients get one enum type rather than one per field."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("enum") == label["enum"]:
            return {"$ref": "#/components/schemas/Label"}
        return {key: _share_label_enum(value, label) for key, value in node.items()}
    if isinstance(node, list):
        return [_share_label_enum(item, label) for item in node]
    return node


def _error_response(status: int, codes: set[str], components: dict) -> dict:
    """The error shape with the Codes this status can carry here, as a component per set of Codes
    (`ErrorBusyOrServiceUnavailable`), so clients get one type per refusal, not per route."""
    name = "Error" + "Or".join(code.removesuffix("Error") for code in sorted(codes))
    components.setdefault(name, {
        "title": name,
        "type": "object",
        "required": ["Code", "Message"],
        "properties": {
            "Code": {"type": "string", "enum": sorted(codes)},
            "Message": {"type": "string"},
        },
    })
    response: dict = {
        "description": _STATUS_TEXT[status],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


# --------------------------------------------------------------------------------------------------
# Operations


def error_codes(spec: RouteSpec) -> dict[int, set[str]]:
    """Every error status a route can answer, with the Codes it can carry."""
    codes: dict[int, set[str]] = defaultdict(set)
    for error in spec.errors:
        if isinstance(error, int):
            codes[error].add(DEFAULT_CODES[error])
        else:
            codes[NAMED_CODES[error]].add(error)
    if spec.body is not None or spec.paginated or spec.query:
        codes[400].add(DEFAULT_CODES[400])
    if "{" in spec.path:
        codes[404].add(DEFAULT_CODES[404])  # an id that names nothing
    if spec.group:
        codes[403].add(DEFAULT_CODES[403])
    if not spec.public:
        codes[401].add(DEFAULT_CODES[401])
        codes[503].add(DEFAULT_CODES[503])  # the token keys are unreachable
    if spec.method in WRITE_METHODS and not spec.public:
        codes[429].add(DEFAULT_CODES[429])  # the per-user write limit
        codes[403].add("Suspended")  # a suspended account's writes (services.rate_limits)
        codes[401].add("AccountDeleted")  # the account's tombstone (services.rate_limits)
        codes[503].add("Busy")  # every write retries optimistic conflicts a bounded number of times
    return dict(codes)


def _query_parameters(spec: RouteSpec) -> list[dict]:
    parameters = []
    for name, declared in spec.query.items():
        query = declared if isinstance(declared, Query) else Query(declared)
        schema: dict = {"type": "string", "pattern": "^[A-Za-z0-9_.:#-]{1,128}$"}
        if name == "label":
            schema = _label_schema()
        elif query.enum:
            schema = {"type": "string", "enum": list(query.enum)}
        elif query.max_length:
            schema = {"type": "string", "minLength": 1, "maxLength": query.max_length}
            if query.pattern:
                schema["pattern"] = query.pattern
        parameters.append({"name": name, "in": "query", "required": query.required,
                           "description": query.description, "schema": schema})
    if spec.paginated:
        parameters += [
            {"name": "limit", "in": "query", "required": False, "description": "Items a page (1-100)",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            {"name": "cursor", "in": "query", "required": False,
             "description": "The `next_cursor` of the previous page, as it was (opaque and signed; "
                            "bound to this list and caller)",
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"}},
        ]
    return parameters


def path_parameters(path: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", path)


def success_status(spec: RouteSpec) -> int:
    return spec.status if spec.response is not None or spec.path == "/openapi.json" else 204


def _operation(spec: RouteSpec, components: dict) -> dict:
    from chalicelib.schemas.base import page_of

    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_parameter_schema(name)}
        for name in path_parameters(spec.path)
    ] + _query_parameters(spec)
    operation: dict = {
        "operationId": spec.view_name,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": {},
    }
    if spec.public:
        operation["security"] = []
    if spec.group:
        operation["x-required-group"] = spec.group
        operation["description"] = f"Only members of the Cognito group `{spec.group}` (else 403)."
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _model_schema(resolve_model(spec.body), "validation",
                                                                     components)}},
        }
    status = success_status(spec)
    success: dict = {"description": _STATUS_TEXT.get(status, "OK")}
    if spec.response is not None:
        response = resolve_model(spec.response)
        model = page_of(response) if spec.paginated else response
        success["content"] = {"application/json": {"schema": _model_schema(model, "serialization", components)}}
    elif spec.path == "/openapi.json":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    operation["responses"][str(status)] = success
    for code, names in sorted(error_codes(spec).items()):
        operation["responses"][str(code)] = _error_response(code, names, components)
    return operation


#: Ids a write returns that other routes take in their path: what stateful clients (and fuzzers)
#: chain on. User ids are left out: the ones a write returns are the caller's own.
_LINKED_IDS = ("post_id", "group_id", "question_id", "answer_id", "product_id", "review_id", "campaign_id",
               "merchant_id")


def _response_properties(operation: dict, status: int, components: dict) -> set[str]:
    content = operation["responses"].get(str(status), {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    resolved = components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
    return set(resolved.get("properties", {})) & set(resolved.get("required", []))


def _add_links(operations: list[tuple[RouteSpec, dict]], components: dict) -> None:
    """Links from each write's answer to every operation whose path ids that answer holds."""
    for source, operation in operations:
        if source.method not in ("POST", "PUT"):
            continue
        status = success_status(source)
        returned = _response_properties(operation, status, components) & set(_LINKED_IDS)
        links = {}
        for target, target_operation in operations:
            needed = path_parameters(target.path)
            if target is source or not needed or not set(needed) <= returned:
                continue
            links[target.view_name] = {
                "operationId": target_operation["operationId"],
                "parameters": {name: f"$response.body#/{name}" for name in needed},
            }
        if links:
            operation["responses"][str(status)]["links"] = links


@functools.lru_cache(maxsize=1)
def build_document() -> dict:
    components: dict = {}
    paths: dict = {}
    operations = []
    for spec in ROUTES:
        operation = _operation(spec, components)
        operations.append((spec, operation))
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    _add_links(operations, components)
    for schema in components.values():
        _mark_timestamps(schema)
    label = _label_schema()
    paths = _share_label_enum(paths, label)
    components = _share_label_enum(components, label)
    components["Label"] = {"title": "Label", **label}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jianghu",
            "version": "1.0.0",
            "description": "The social layer of the marketplace: feed, advice, points, coupons and ratings. "
                           "Errors are `{\"Code\", \"Message\"}`; each response lists the Codes it can carry.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "cognito": {"type": "apiKey", "in": "header", "name": "Authorization",
                            "description": "A Cognito IdToken, optionally prefixed with 'Bearer '."}
            },
        },
        "security": [{"cognito": []}],
    }


# --------------------------------------------------------------------------------------------------
# docs/api.md


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(document: dict) -> str:
    """A route-by-route table of the document: what a client author reads first."""
    lines = [
        "# Jianghu HTTP API",
        "",
        "Generated from `/openapi.json` by `make docs` (do not edit by hand; a test checks it is current).",
        "Every route takes `Authorization: <Cognito IdToken>` unless marked public. Errors are",
        "`{\"Code\", \"Message\"}`; 429 and 503 carry `Retry-After`. Lists take `?limit=` (1-100, default 20)",
        "and `?cursor=` and answer `{\"items\": [...], \"next_cursor\"}`. Request and response fields, their",
        "bounds and enums are in the document itself.",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            by_tag[operation["tags"][0]].append((method.upper(), path, operation))
    for tag, operations in by_tag.items():
        lines += [f"## {tag}", "",
                  "| Method | Path | Summary | Auth | Body | Success | Errors (Codes) |",
                  "|---|---|---|---|---|---|---|"]
        for method, path, operation in operations:
            if operation.get("security") == []:
                auth = "public"
            else:
                auth = f"group `{operation['x-required-group']}`" if "x-required-group" in operation else "token"
            body = "-"
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
                body = f"`{ref.rsplit('/', 1)[-1]}`" if ref else "JSON"
            responses = operation["responses"]
            success = ", ".join(code for code in responses if code.startswith("2"))
            errors = []
            for code, response in responses.items():
                if code.startswith("2"):
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                names = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]["Code"]["enum"]
                errors.append(f"{code} {' / '.join(names)}")
            lines.append(f"| {method} | `{path}` | {_cell(operation['summary'])} | {auth} | {body} | {success} | "
                         f"{'; '.join(errors)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import app  # noqa: F401  (registers every route)

    document = build_document()
    if argv and argv[0] == "--json":
        print(json.dumps(document, indent=2))
        return 0
    target = argv[0] if argv else "docs/api.md"
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(render_markdown(document))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
