"""The shared powertools Logger, Metrics and Tracer, and the middleware that wires them in.

Tests keep them quiet through the environment (POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_DISABLED,
POWERTOOLS_METRICS_DISABLED), set in `tests/conftest.py` and the local stack.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "jianghu"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Jianghu", service=SERVICE)
tracer = Tracer(service=SERVICE)


def register(app) -> None:
    """Inject Lambda context and a correlation id into every log line, flush metrics, trace."""
    from aws_lambda_powertools.logging import correlation_paths
    from chalice import ConvertToMiddleware

    app.register_middleware(
        ConvertToMiddleware(
            logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        ),
        "http",
    )
    app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context), "dynamodb")
    app.register_middleware(
        ConvertToMiddleware(metrics.log_metrics(raise_on_empty_metrics=False)), "all"
    )
    app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler), "all")
