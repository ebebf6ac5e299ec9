"""Stage throttles sized from the Double-11 model (docs/scale.md "Stage throttles"): every route
the contract names a rate for passes that rate, and nothing asks for more than the account has."""

from __future__ import annotations

import json

import pytest

from infra.stages import ACCOUNT_DEFAULT_QUOTA, StageSettings, load_stage

# SPEC "Double-11 rules": requests a second on ONE item; a route carries every item's traffic.
CONTRACT_TARGETS = {
    ("POST", "/coupons/{campaign_id}/redeem"): 10_000,
    ("POST", "/posts/{post_id}/poll/votes"): 5_000,
    ("PUT", "/posts/{post_id}/poll/votes/me"): 5_000,  # a Round-2 client casts and changes with PUT
    ("PUT", "/users/{user_id}/follow"): 1_000,
    ("PUT", "/groups/{group_id}/members/me"): 1_000,
}
# Ours (docs/scale.md): a question surge on one label, an answer-vote storm on one answer.
MODEL_TARGETS = {
    ("POST", "/questions"): 500,
    ("PUT", "/answers/{answer_id}/vote"): 1_000,
}


@pytest.fixture(scope="module")
def prod() -> StageSettings:
    return load_stage("prod")


def _throttles(stage: StageSettings) -> dict[tuple[str, str], tuple[float, int]]:
    return {(t.method, t.path): (t.rate_limit, t.burst_limit) for t in stage.method_throttles}


@pytest.mark.parametrize("route", sorted({**CONTRACT_TARGETS, **MODEL_TARGETS}))
def test_a_route_with_a_target_rate_is_throttled_above_it_with_a_second_of_burst(prod, route):
    target = {**CONTRACT_TARGETS, **MODEL_TARGETS}[route]
    rate, burst = _throttles(prod)[route]
    assert rate >= target and burst >= target  # a one-second spike at the target rate passes the bucket


def test_every_throttled_route_is_a_route_of_the_app(prod):
    from app import app

    for throttle in prod.method_throttles:
        assert throttle.method in app.routes.get(throttle.path, {}), (throttle.method, throttle.path)


def test_prod_needs_a_raised_account_quota_and_stays_within_it(prod):
    # The flash routes alone pass API Gateway's default of 10,000 requests/s and 5,000 burst
    assert prod.account_rate_limit > ACCOUNT_DEFAULT_QUOTA[0] and prod.account_burst_limit > ACCOUNT_DEFAULT_QUOTA[1]
    flash = sum(rate for rate, _ in _throttles(prod).values())
    assert flash <= prod.account_rate_limit


def _stage_file(tmp_path, throttling: dict):
    path = tmp_path / "stages.json"
    path.write_text(json.dumps({"x": {"stack_name": "x", "api_throttling": throttling, "stream_failures": {
        "maximum_retry_attempts": 1, "maximum_record_age_seconds": 60, "bisect_batch_on_function_error": True}}}))
    return path


@pytest.mark.parametrize("throttling", [
    {"rate_limit": 20_000, "burst_limit": 100},  # over the default account quota
    {"rate_limit": 10, "burst_limit": 10, "methods": {"POST /redeem": {"rate_limit": 20_000, "burst_limit": 10}}},
    {"rate_limit": 10, "burst_limit": 10, "methods": {"FETCH /redeem": {"rate_limit": 1, "burst_limit": 1}}},
    {"rate_limit": 10, "burst_limit": 10, "methods": {"/redeem": {"rate_limit": 1, "burst_limit": 1}}},
    {"rate_limit": 10, "burst_limit": 0},
])
def test_a_throttle_api_gateway_could_not_honour_is_refused_before_deploying(tmp_path, throttling):
    with pytest.raises(ValueError):
        load_stage("x", _stage_file(tmp_path, throttling))


def test_a_raised_quota_allows_larger_throttles(tmp_path):
    throttling = {"rate_limit": 10, "burst_limit": 10, "account_quota": {"rate_limit": 30_000, "burst_limit": 20_000},
                  "methods": {"POST /redeem": {"rate_limit": 20_000, "burst_limit": 20_000}}}
    stage = load_stage("x", _stage_file(tmp_path, throttling))
    assert stage.method_throttles[0].encoded_path == "/~1redeem"
