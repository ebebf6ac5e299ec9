"""A deployed stage without its pool ids fails at first use with a message that says what to do."""

from __future__ import annotations

import pytest

from chalicelib import config


@pytest.fixture
def deployed_env(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "jianghu-dev")
    for name in ("AWS_ENDPOINT_URL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_abc")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client")
    config.reset_settings()
    yield monkeypatch
    config.reset_settings()


@pytest.mark.parametrize("missing", ["USER_POOL_ID", "USER_POOL_CLIENT_ID"])
def test_a_deployed_lambda_without_a_pool_id_fails_at_first_use(deployed_env, missing):
    deployed_env.setenv(missing, "")
    with pytest.raises(config.ConfigError, match=missing):
        config.get_settings()


def test_a_deployed_lambda_with_both_ids_loads(deployed_env):
    assert config.get_settings().user_pool_client_id == "client"


@pytest.mark.parametrize("local_marker", ["AWS_ENDPOINT_URL", "AWS_CHALICE_CLI_MODE"])
def test_local_runs_may_lack_the_pool(deployed_env, local_marker):
    deployed_env.setenv(local_marker, "http://127.0.0.1:5001" if local_marker == "AWS_ENDPOINT_URL" else "true")
    deployed_env.delenv("USER_POOL_ID")
    assert config.get_settings().user_pool_id == ""


def test_outside_lambda_the_pool_may_be_missing(deployed_env):
    deployed_env.delenv("AWS_LAMBDA_FUNCTION_NAME")
    deployed_env.delenv("USER_POOL_CLIENT_ID")
    assert config.get_settings().user_pool_client_id == ""
