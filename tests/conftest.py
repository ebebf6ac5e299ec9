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


@pytest.fixture
def streams(tables: AwsEnv):
    """The real stream runner over the moto streams; call `.drain()` to deliver what was written."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    return StreamRunner(app, tables.session, failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])


@pytest.fixture
def chaos_streams(tables: AwsEnv):
    """Like `streams`, but every batch split at random and delivered twice."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    return StreamRunner(app, tables.session, chaos=True, seed=7,
                        failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])
