"""What Lambda hands a stream handler, for the local stand-ins that call handlers in-process.

The stream runner (delivery) and the failures tooling (replay) both call the app's handlers the way
Lambda does: the handler found by its Chalice handler string, an event `{"Records": [...]}` whose
records have Lambda's shape, and a context with the attributes powertools and Chalice read.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FUNCTION_PREFIX = "jianghu-"


def function_name(handler_name: str) -> str:
    """The Lambda function name of a stream handler (`tally_answer_votes` -> `jianghu-tally_answer_votes`)."""
    return f"{FUNCTION_PREFIX}{handler_name}"


@dataclass
class LambdaContext:
    """The attributes powertools and Chalice read from a real Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    region: str = "us-east-1"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def resolve_handler(handler_string: str) -> Callable:
    """The function behind a Chalice handler string (`chalicelib.streams.advice.tally_answer_votes`)."""
    module_name, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(int(value.timestamp()))
    return float(value)


def lambda_record(record: dict, stream_arn: str, region: str) -> dict:
    """A `get_records` record as Lambda delivers it.

    The Streams API (and moto) leave out `eventSourceARN`, and boto3 turns the creation time into a
    datetime; Lambda sends the ARN and the time as epoch seconds.
    """
    record = dict(record)
    dynamodb = dict(record["dynamodb"])
    dynamodb["ApproximateCreationDateTime"] = _epoch(dynamodb.get("ApproximateCreationDateTime", time.time()))
    record["dynamodb"] = dynamodb
    record["eventSourceARN"] = stream_arn
    record["awsRegion"] = region
    record.setdefault("eventVersion", "1.1")
    record.setdefault("eventSource", "aws:dynamodb")
    return record


def invoke(handler: Callable, records: list[dict], context: LambdaContext) -> tuple[Any, dict[str, BaseException]]:
    """Call `handler` with the event Lambda would send; return its response and each failed record's error.

    The errors (`sequence number -> exception`) are what the handler's records raised, collected
    through `record_failures`; an exception the handler itself raises propagates.
    """
    from chalicelib.streams.events import record_failures

    errors: dict[str, BaseException] = {}
    token = record_failures.set(errors)
    try:
        response = handler({"Records": records}, context)
    finally:
        record_failures.reset(token)
    return response, errors
