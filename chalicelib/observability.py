"""The shared powertools Logger and Metrics, a lazily built Tracer, and the middleware wiring them.

Tests keep them quiet through the environment (POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_DISABLED,
POWERTOOLS_METRICS_DISABLED), set in `tests/conftest.py` and the local stack. The Tracer pulls in
the X-Ray SDK (about half a second of import), so it is built only when a stage turns tracing on
(`POWERTOOLS_TRACE_DISABLED=false`, with `"xray": true` in the stage config).
"""

from __future__ import annotations

import functools
import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = "jianghu"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Jianghu", service=SERVICE)


def tracing_enabled() -> bool:
    """On in Lambda when the stage asks for it; never locally, where there is no X-Ray daemon."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in ("0", "false", "no")


@functools.lru_cache(maxsize=1)
def get_tracer():
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@functools.lru_cache(maxsize=1)
def _tracing_middleware():
    from chalice import ConvertToMiddleware

    return ConvertToMiddleware(get_tracer().capture_lambda_handler)


def trace(event, get_response):
    """Chalice middleware: trace the invocation when the stage has tracing on, else pass through."""
    if not tracing_enabled():
        return get_response(event)
    return _tracing_middleware()(event, get_response)


def correlate(request, get_response):
    """Chalice middleware: one correlation id per request, on every log line and on the response.

    A client's `X-Correlation-Id` is kept (so a trace spans client and service); otherwise API
    Gateway's request id, or a fresh one where there is none (`chalice local`).
    """
    import uuid

    context = request.context or {}
    correlation_id = (
        request.headers.get("x-correlation-id") or context.get("requestId") or str(uuid.uuid4())
    )[:128]
    logger.set_correlation_id(correlation_id)
    response = get_response(request)
    response.headers["X-Correlation-Id"] = correlation_id
    return response


def register(app) -> None:
    """Inject Lambda context and a correlation id into every log line, flush metrics, trace."""
    from chalice import ConvertToMiddleware

    app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context), "http")
    app.register_middleware(correlate, "http")
    app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context), "dynamodb")
    app.register_middleware(
        ConvertToMiddleware(metrics.log_metrics(raise_on_empty_metrics=False)), "all"
    )
    app.register_middleware(trace, "all")
