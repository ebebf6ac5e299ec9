"""The OpenAPI 3 document, built from the same route declarations Chalice serves."""

from __future__ import annotations

import functools
import re

from chalicelib.http import MAX_PATH_ID_LENGTH, ROUTES, RouteSpec
from chalicelib.schemas.base import ErrorOut, page_of

_STATUS_TEXT = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Invalid input", 401: "Missing or invalid token",
    403: "Not allowed", 404: "Unknown resource", 409: "Conflict with current state",
    429: "Too many writes", 503: "A dependency is unavailable",
}


def _schema_ref(model, components: dict) -> dict:
    from pydantic.json_schema import models_json_schema

    refs, definitions = models_json_schema([(model, "serialization")], ref_template="#/components/schemas/{model}")
    components.update(definitions.get("$defs", {}))
    return refs[(model, "serialization")]


def _request_schema(model, components: dict) -> dict:
    from pydantic.json_schema import models_json_schema

    refs, definitions = models_json_schema([(model, "validation")], ref_template="#/components/schemas/{model}")
    components.update(definitions.get("$defs", {}))
    return refs[(model, "validation")]


def _operation(spec: RouteSpec, components: dict) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_ID_LENGTH}}
        for name in re.findall(r"\{([^}]+)\}", spec.path)
    ]
    for name, description in spec.query.items():
        parameters.append({"name": name, "in": "query", "required": False, "description": description,
                           "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:#-]{1,128}$"}})
    if spec.paginated:
        parameters += [
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
        ]
    operation: dict = {
        "operationId": spec.view_name,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": {},
    }
    if spec.public:
        operation["security"] = []
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _request_schema(spec.body, components)}},
        }
    success: dict = {"description": _STATUS_TEXT.get(spec.status, "OK")}
    if spec.response is not None:
        model = page_of(spec.response) if spec.paginated else spec.response
        success["content"] = {"application/json": {"schema": _schema_ref(model, components)}}
    elif spec.path != "/openapi.json":
        success = {"description": "No Content"}
    elif spec.path == "/openapi.json":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    status = spec.status if spec.response is not None or spec.path == "/openapi.json" else 204
    operation["responses"][str(status)] = success
    error_ref = {"content": {"application/json": {"schema": _schema_ref(ErrorOut, components)}}}
    codes = set(spec.errors)
    if spec.body is not None or spec.paginated or spec.query or "{" in spec.path:
        codes.add(400)
    if "{" in spec.path:
        codes.add(404)  # an id that names nothing
    if not spec.public:
        codes.update({401, 503})
    if spec.method in ("POST", "PUT", "DELETE") and not spec.public:
        codes.add(429)
    for code in sorted(codes):
        operation["responses"][str(code)] = {"description": _STATUS_TEXT[code], **error_ref}
    return operation


@functools.lru_cache(maxsize=1)
def build_document() -> dict:
    components: dict = {}
    paths: dict = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jianghu",
            "version": "1.0.0",
            "description": "The social layer of the marketplace: feed, advice, points, coupons and ratings.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "cognito": {"type": "apiKey", "in": "header", "name": "Authorization",
                            "description": "A Cognito IdToken, optionally prefixed with 'Bearer '."}
            },
        },
        "security": [{"cognito": []}],
    }
