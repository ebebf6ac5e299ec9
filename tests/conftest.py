"""Shared fixtures: an in-process AWS (moto) built from `infra/template.yaml`, real Cognito users
and tokens, Chalice's test client, and the real stream runner to carry writes to the handlers.
"""

from __future__ import annotations

import gzip
import os
import pathlib

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

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support.aws import AwsEnv, recreate_tables, serve_bytes  # noqa: E402
from tests.support.users import UserFactory  # noqa: E402

STACK_NAME = "jianghu-test"


@pytest.fixture(scope="session")
def aws(tmp_path_factory) -> AwsEnv:
    """One moto world per test session: the template deployed, Cognito pool and all."""
    import moto

    from chalicelib.auth import reset_jwks_cache
    from chalicelib.config import reset_settings
    from chalicelib.local.moto_patches import apply_all
    from chalicelib.local.template import deploy, stage_environment

    apply_all()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        outputs = deploy(session, stack_name=STACK_NAME)
        env = stage_environment(outputs, region="us-east-1", stack_name=STACK_NAME)
        # moto signs every token with one fixed key; serve its public half over HTTP, as Cognito does
        jwks_source = pathlib.Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
        with serve_bytes(gzip.decompress(jwks_source.read_bytes())) as jwks_url:
            env["JWKS_URL"] = jwks_url
            os.environ.update(env)
            reset_settings()
            reset_jwks_cache()
            yield AwsEnv(session=session, outputs=outputs, env=env)


@pytest.fixture
def tables(aws: AwsEnv) -> AwsEnv:
    """Empty tables (and fresh streams) for every test, created from the template."""
    recreate_tables(aws)
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
