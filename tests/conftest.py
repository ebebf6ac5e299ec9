"""Shared fixtures: an in-process AWS (moto) built from `infra/template.yaml`, real Cognito users
and tokens, Chalice's test client, and the real stream runner to carry writes to the handlers.
"""

from __future__ import annotations

import os

# The environment must be in place before the app is imported.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    STAGE="test",
    TABLE_PREFIX="jianghu-test",
    WRITE_LIMIT_PER_MINUTE="100000",
    POWERTOOLS_LOG_LEVEL="CRITICAL",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_DEV="false",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest  # noqa: E402

from tests.support.aws import AwsEnv, moto_world, reset_tables  # noqa: E402
from tests.support.users import UserFactory  # noqa: E402

STACK_NAME = "jianghu-test"


@pytest.fixture(scope="session")
def aws() -> AwsEnv:
    """One moto world per test session: the template deployed, Cognito pool and all."""
    with moto_world(STACK_NAME) as world:
        yield world


@pytest.fixture
def tables(aws: AwsEnv) -> AwsEnv:
    """Empty tables (and empty streams) for every test, as created from the template."""
    reset_tables(aws)
    return aws


@pytest.fixture
def users(tables: AwsEnv) -> UserFactory:
    return UserFactory(tables)


@pytest.fixture
def client(tables: AwsEnv):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as test_client:
        yield test_client


def _checked_runner(request, runner):
    """A record set aside is a stream effect that failed three times: unless the test says it expects
    that (`@pytest.mark.sets_aside_records`), it fails the test, with the errors, rather than passing
    silently on whatever the effect left undone."""
    yield runner
    if runner.set_aside and request.node.get_closest_marker("sets_aside_records") is None:
        errors = [f"{item.get('handler', '?')}: {item.get('error', '?')}" for item in runner.set_aside]
        pytest.fail("stream records were set aside: " + "; ".join(errors[:5]), pytrace=False)


@pytest.fixture
def streams(request, tables: AwsEnv):
    """The real stream runner over the moto streams; call `.drain()` to deliver what was written."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    runner = StreamRunner(app, tables.session, failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])
    yield from _checked_runner(request, runner)


@pytest.fixture
def chaos_streams(request, tables: AwsEnv):
    """Like `streams`, but every batch split at random and delivered twice."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    runner = StreamRunner(app, tables.session, chaos=True, seed=7,
                          failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])
    yield from _checked_runner(request, runner)


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    """One in-process DynamoDB request at a time, like `SerialisedDynamoDB` in the local stack
    (moto is not thread-safe): threaded race tests then test the service, not moto's own races."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    process = BotocoreStubber.process_request

    def serialised(self, request):
        target = request.headers.get("X-Amz-Target") or b""
        if not (target.decode() if isinstance(target, bytes) else target).startswith("DynamoDB_"):
            return process(self, request)
        with lock:
            return process(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", serialised)
