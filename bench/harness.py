"""The bench's world: in-process moto with the template deployed, real Cognito users, and a
botocore event hook that counts every DynamoDB API call a request makes.

The hook is added to botocore's built-in handlers when this module is imported, so every botocore
session created afterwards (boto3's, and the one PynamoDB creates for each connection and thread)
carries it: model calls, low-level `Connection` calls, batch and transaction calls alike. Import
this module before anything creates a DynamoDB client.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import botocore.handlers

# Operations that read by walking a table or index rather than by key.
SCANS = frozenset({"Scan"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


@dataclass
class CallLog:
    """DynamoDB calls seen while a recording is active: names in order, and items written."""

    operations: list[str] = field(default_factory=list)
    items_written: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return len(self.operations)

    @property
    def scans(self) -> int:
        return sum(1 for name in self.operations if name in SCANS)

    def summary(self) -> dict:
        return {"dynamodb_calls": self.calls, "scans": self.scans, "items_written": self.items_written}

    def by_operation(self) -> dict[str, int]:
        return dict(Counter(self.operations))

    def seconds_by_operation(self) -> dict[str, float]:
        """Wall time spent inside each API's calls (moto's work included, as a real round trip would be)."""
        return {name: round(value, 3) for name, value in sorted(self.seconds.items())}


_active: list[CallLog] = []
_lock = threading.Lock()
_started = threading.local()


def _written(operation: str, params: dict) -> int:
    if operation in WRITES:
        return 1
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in (params.get("RequestItems") or {}).values())
    if operation == "TransactWriteItems":
        return sum(1 for item in params.get("TransactItems") or [] if "ConditionCheck" not in item)
    return 0


def _count_call(params=None, model=None, **kwargs) -> None:
    """`before-parameter-build.dynamodb`: emitted once per API call (retries are not new calls)."""
    if not _active or model is None:
        return
    with _lock:
        for log in _active:
            log.operations.append(model.name)
            log.items_written += _written(model.name, params or {})
    _started.at = time.perf_counter()


def _time_call(model=None, **kwargs) -> None:
    """`after-call.dynamodb`: the end of the call `_count_call` saw start."""
    started = getattr(_started, "at", None)
    if not _active or model is None or started is None:
        return
    _started.at = None
    elapsed = time.perf_counter() - started
    with _lock:
        for log in _active:
            log.seconds[model.name] = log.seconds.get(model.name, 0.0) + elapsed


for _hook in (("before-parameter-build.dynamodb", _count_call), ("after-call.dynamodb", _time_call)):
    if _hook not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(_hook)


@contextlib.contextmanager
def settled_heap():
    """Time a block from a collected heap whose existing objects the collector then leaves alone.

    In-process moto keeps every item of every table as Python objects: millions of them, which in
    AWS live in DynamoDB, not in the function. A full collection walks them all (0.3 s here) and
    lands at random in whichever timed block crosses the allocation threshold. `gc.freeze()` moves
    what exists now out of the collector's sight for the block, so each block pays only for the
    objects it makes itself. Used for both sides of a comparison alike.
    """
    import gc

    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def recording():
    """Count the DynamoDB calls made inside the block (recordings may nest)."""
    log = CallLog()
    with _lock:
        _active.append(log)
    try:
        yield log
    finally:
        with _lock:
            _active.remove(log)


# -- the moto world ----------------------------------------------------------------------------------
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STAGE": "bench",
    "TABLE_PREFIX": "jianghu-bench",
    "WRITE_LIMIT_PER_MINUTE": "100000",  # the limit is checked (one UpdateItem per write) but never hit
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


def prepare_environment() -> None:
    """What `tests/conftest.py` sets before the app is imported: fake credentials, quiet powertools."""
    os.environ.update(ENVIRONMENT)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)


def moto_world(stack_name: str = "jianghu-bench"):
    """mock_aws with infra/template.yaml deployed and the app configured for it; yields an AwsEnv."""
    from tests.support.aws import moto_world as world

    return world(stack_name)


@dataclass
class World:
    """What a scenario needs: the test client, a user factory and the stream runner."""

    client: object
    users: object
    streams: object
    aws: object


@contextlib.contextmanager
def bench_world():
    """A complete world for `bench/run.py` (the test suite builds the same from its fixtures)."""
    from chalice.test import Client

    from tests.support.users import UserFactory

    with moto_world() as aws:
        from app import app
        from chalicelib.local.stream_runner import StreamRunner

        with Client(app, stage_name="test") as client:
            streams = StreamRunner(app, aws.session, failures_queue_url=aws.outputs["StreamFailuresQueueUrl"])
            yield World(client=client, users=UserFactory(aws), streams=streams, aws=aws)
