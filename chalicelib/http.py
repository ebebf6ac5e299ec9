"""The route wrapper every feature uses: auth, rate limit, body and page parsing, error mapping.

A feature declares a route once with `Api.route(...)`; the same declaration feeds Chalice's
router and the OpenAPI document (`chalicelib.openapi`), so the two cannot drift. Views receive a
`RequestContext` plus their path parameters and return a model, a dict, a `Page`, or None (204).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response

from chalicelib.auth import Caller, bearer_token, verify_token
from chalicelib.errors import AccountDeleted, BadRequest, DomainError, Forbidden, NotFound, to_response
from chalicelib.pagination import Page, PageRequest, page_request

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})

#: Origins a browser app may call from when the stage names none (`CORS_ORIGINS` unset): the usual
#: local development servers. Every deployed stage sets `CORS_ORIGINS` in `.chalice/config.json`.
LOCAL_CORS_ORIGINS = (
    "http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173", "http://127.0.0.1:5173",
    "http://localhost:8080", "http://127.0.0.1:8080",
)
CORS_ALLOW_HEADERS = "Authorization,Content-Type,X-Correlation-Id"
CORS_EXPOSE_HEADERS = "X-Correlation-Id,Retry-After"
CORS_MAX_AGE_SECONDS = 600


def cors_origins() -> frozenset[str]:
    """The stage's allowed origins: `CORS_ORIGINS`, comma-separated (empty: none), else the local ones."""
    raw = os.environ.get("CORS_ORIGINS")
    if raw is None:
        return frozenset(LOCAL_CORS_ORIGINS)
    return frozenset(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def cors_headers(origin: str | None) -> dict[str, str]:
    """The headers a response carries for a request from `origin`: the origin echoed when it is
    allowed, nothing else then (a browser refuses the response); `Vary: Origin` always, for caches."""
    headers = {"Vary": "Origin"}
    if origin and origin in cors_origins():
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    return headers


def preflight_headers(origin: str | None, methods: list[str]) -> dict[str, str]:
    headers = cors_headers(origin)
    if "Access-Control-Allow-Origin" in headers:
        headers.update({
            "Access-Control-Allow-Methods": ",".join([*sorted(methods), "OPTIONS"]),
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        })
    return headers


def with_cors(response: Response, request) -> Response:
    headers = getattr(request, "headers", None) or {}
    response.headers = {**cors_headers(headers.get("origin")), **(response.headers or {})}
    return response


@dataclass(frozen=True)
class Query:
    """A query parameter as the OpenAPI document declares it; the view still checks the value.

    A plain description string in `query=` declares an optional free string (of the pattern `_run`
    checks); a `Query` also says whether it is required and, for a closed set, its values.
    """

    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    max_length: int = 0  # > 0: free text (any characters, up to this many; the view checks it)
    pattern: str = ""  # free text: what the document says a searchable value contains (the view decides)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    view_name: str
    summary: str
    tag: str
    body: type | None = None
    response: Any = None  # a model class, a `schemas.LazyModel` or a `schemas.base.Deferred` (`resolve_model`)
    status: int = 200
    public: bool = False
    group: str | None = None  # the Cognito group a caller must be in (else 403), checked before the body
    paginated: bool = False
    query: dict[str, str | Query] = field(default_factory=dict)
    # Error answers besides those every route of its kind has (see `chalicelib.openapi`): a status
    # (its default Code, e.g. 403 ForbiddenError) or a named Code (e.g. "SoldOut", a 409).
    errors: tuple[int | str, ...] = ()
    # answers an erased account's remaining tokens too (DELETE /me asked again: the same job)
    after_erasure: bool = False


ROUTES: list[RouteSpec] = []
#: Paths that have their preflight `OPTIONS` view (one per path, whichever feature declares it first).
_PREFLIGHT_PATHS: set[str] = set()


def _register_preflight(blueprint: Blueprint, path: str) -> None:
    """`OPTIONS path`: no token (no authorizer when deployed, no check here), the path's methods.

    A Lambda view rather than Chalice's `cors=True` mock integration, which can only name one origin:
    this one echoes the request's `Origin` when it is on the stage's list.
    """
    if path in _PREFLIGHT_PATHS:
        return
    _PREFLIGHT_PATHS.add(path)

    def preflight(**path_params: str) -> Response:
        request = blueprint.current_request
        methods = sorted({spec.method for spec in ROUTES if spec.path == path})
        return Response(body="", status_code=204,
                        headers=preflight_headers((request.headers or {}).get("origin"), methods))

    preflight.__name__ = "preflight_" + re.sub(r"\W+", "_", path).strip("_")
    blueprint.route(path, methods=["OPTIONS"])(preflight)


@dataclass
class RequestContext:
    caller: Caller | None
    body: Any
    query: dict[str, str]
    page: PageRequest | None
    headers: Any

    @property
    def user(self) -> Caller:
        assert self.caller is not None, "public routes have no caller"
        return self.caller

    def require_group(self, group: str) -> Caller:
        if not self.user.in_group(group):
            raise Forbidden(f"Only members of the {group} group may do this")
        return self.user


@functools.lru_cache(maxsize=1)
def cognito_authorizer():
    """API Gateway's authorizer, attached only when the deploy path names the pool.

    `chalice local` and the local stack skip it (they only decode tokens); the app's own check in
    `_authenticate` is what guards every route everywhere.
    """
    pool_arn = os.environ.get("API_AUTHORIZER_POOL_ARN")
    if not pool_arn:
        return None
    from chalice import CognitoUserPoolAuthorizer

    return CognitoUserPoolAuthorizer("jianghu-users", provider_arns=[pool_arn])


def _authenticate(request) -> Caller:
    return verify_token(bearer_token(request.headers.get("authorization")))


def _parse_body(model: type, request) -> Any:
    from pydantic import ValidationError

    raw = request.raw_body or b""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from None


def describe_validation_error(exc) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        if error.get("type") == "json_invalid":
            parts.append("body: must be a JSON object")
            continue
        message = error.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        parts.append(f"{location or 'body'}: {message}")
    return "; ".join(parts) or "Invalid request body"


def resolve_model(model: Any) -> Any:
    """A route's model class: given as the class, or as a `schemas.LazyModel` / `schemas.base.Deferred`
    loaded or made on first use."""
    return model if model is None or isinstance(model, type) else model.resolve()


def _serialise(model: type | None, result: Any) -> Any:
    if model is None or result is None:
        return result
    if isinstance(result, model):
        return result.model_dump(mode="json")
    return model.model_validate(result).model_dump(mode="json")


def _respond(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if spec.status in (200, 204) else spec.status)
    model = resolve_model(spec.response)
    if isinstance(result, Page):
        body = {
            "items": [_serialise(model, item) for item in result.items],
            "next_cursor": result.next_cursor,
        }
    else:
        body = _serialise(model, result)
    return Response(body=body, status_code=spec.status, headers={"Content-Type": "application/json"})


def _page_scope(spec: RouteSpec, path_params: dict, query: dict, caller: Caller | None) -> str:
    """Cursors are bound to the list they page through and to who asked: route, path values,
    filters and caller, so a cursor handed to someone else, or moved to another list, is a 400."""
    bound = [spec.path, f"caller={caller.user_id if caller else ''}"]
    bound += [f"{k}={v}" for k, v in sorted(path_params.items())]
    bound += [f"{k}={query.get(k, '')}" for k in sorted(spec.query)]
    return "|".join(bound)


class Api:
    """One feature's routes: a Chalice blueprint plus the specs the OpenAPI document reads."""

    def __init__(self, import_name: str, tag: str):
        self.blueprint = Blueprint(import_name)
        self.tag = tag

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type | None = None,
        response: Any = None,
        status: int = 200,
        public: bool = False,
        group: str | None = None,
        paginated: bool = False,
        query: dict[str, str | Query] | None = None,
        errors: tuple[int | str, ...] = (),
        after_erasure: bool = False,
    ) -> Callable:
        def decorator(view: Callable) -> Callable:
            spec = RouteSpec(
                method=method,
                path=path,
                view_name=view.__name__,
                summary=summary,
                tag=self.tag,
                body=body,
                response=response,
                status=status,
                public=public,
                group=group,
                paginated=paginated,
                query=dict(query or {}),
                errors=errors,
                after_erasure=after_erasure,
            )
            ROUTES.append(spec)
            blueprint = self.blueprint

            @functools.wraps(view)
            def chalice_view(**path_params: str) -> Response:
                request = blueprint.current_request
                try:
                    return with_cors(_respond(spec, _run(spec, view, request, path_params)), request)
                except DomainError as error:
                    return with_cors(to_response(error), request)

            route_kwargs: dict[str, Any] = {"methods": [method]}
            if not public and cognito_authorizer() is not None:
                route_kwargs["authorizer"] = cognito_authorizer()
            blueprint.route(path, **route_kwargs)(chalice_view)
            _register_preflight(blueprint, path)
            return view

        return decorator


MAX_PATH_ID_LENGTH = 128


def _check_path_ids(path_params: dict) -> None:
    """IDs this service mints are short: a longer one names nothing (404), and never reaches
    DynamoDB, where a key over 2 KB would be an error rather than a miss."""
    for name, value in path_params.items():
        if not 0 < len(value) <= MAX_PATH_ID_LENGTH:
            raise NotFound(f"No such {name.removesuffix('_id').replace('_', ' ')}")


def _run(spec: RouteSpec, view: Callable, request, path_params: dict) -> Any:
    caller = None if spec.public else _authenticate(request)
    _check_path_ids(path_params)
    if spec.group and caller is not None and not caller.in_group(spec.group):
        raise Forbidden(f"Only members of the {spec.group} group may do this")
    query = dict(request.query_params or {})
    if caller is not None and spec.method in WRITE_METHODS:
        from chalicelib.services.profiles import ensure_caller_profile
        from chalicelib.services.rate_limits import consume_write

        # A user the sign-up trigger missed gets a profile at their first write of a minute. A token
        # with a name was issued after the app named them, which it does only once they have one.
        try:
            first_write = consume_write(caller.user_id)
        except AccountDeleted:
            if not spec.after_erasure:
                raise
            first_write = False
        if first_write and not caller.display_name:
            ensure_caller_profile(caller)
    for name, declared in spec.query.items():
        value = query.get(name)
        if isinstance(declared, Query) and declared.max_length:
            continue
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.:#-]{1,128}", value):
            raise BadRequest(f"{name}: not a valid value")
    ctx = RequestContext(
        caller=caller,
        body=_parse_body(resolve_model(spec.body), request) if spec.body is not None else None,
        query=query,
        page=page_request(query, _page_scope(spec, path_params, query, caller)) if spec.paginated else None,
        headers=request.headers,
    )
    return view(ctx, **path_params)
