"""The cost model's arithmetic (bench/cost_model.py): Lambda memory as Chalice resolves it, billed
time from measured CPU and calls, the lines adding up, and today's design priced the same way."""

from __future__ import annotations

import json

import pytest

from bench import cost_model


def test_the_memory_is_what_chalice_gives_the_prod_functions():
    from chalice.config import Config

    config = json.loads(cost_model.CHALICE_CONFIG.read_text(encoding="utf-8"))
    api, streams = cost_model.lambda_memory_mb("prod")
    assert api == Config(chalice_stage="prod", function_name="api_handler", config_from_disk=config).lambda_memory_size
    assert streams == Config(chalice_stage="prod", function_name="count_likes",
                             config_from_disk=config).lambda_memory_size


def test_billed_time_stretches_the_cpu_part_with_less_memory_but_not_the_waits():
    op = {"request_cpu_ms": 10.0, "request_calls": 2}
    at_full = cost_model.api_seconds(op, cost_model.VCPU_MB)
    at_half = cost_model.api_seconds(op, cost_model.VCPU_MB // 2)
    assert at_full == pytest.approx((10 + 2 * cost_model.DYNAMODB_CALL_MS) / 1000)
    assert at_half == pytest.approx((21 + 2 * cost_model.DYNAMODB_CALL_MS) / 1000, abs=0.0015)
    assert cost_model.api_seconds(op, 4096) == at_full  # no more than one vCPU's worth
    assert cost_model.api_seconds({"wcu": 0}, 512) == cost_model.API_SECONDS_UNMEASURED


def test_the_lines_add_up_and_an_operation_a_design_lacks_costs_nothing(monkeypatch):
    monkeypatch.setattr(cost_model, "MIX", {"read": 10, "like": 1})
    units = {"read": {"wcu": 0, "rcu": 2, "request_cpu_ms": 5, "request_calls": 2},
             "like": {"wcu": 4, "rcu": 0.5, "stream_invocations": 1, "new_bytes": 200}}
    model = cost_model.monthly_per_1000_dau(units, (512, 1024))
    assert model["per_1000_dau"] == pytest.approx(sum(model["dollars"].values()), abs=0.05)
    requests = 11 * 1000 * cost_model.DAYS_PER_MONTH
    assert model["monthly_volume"]["api_requests"] == requests
    assert model["dollars"]["api_gateway"] == pytest.approx(requests * 3.5e-6, abs=0.005)
    assert model["with_http_api"] == pytest.approx(
        model["per_1000_dau"] - model["dollars"]["api_gateway"] + requests * 1e-6, abs=0.015)  # two roundings
    without_likes = cost_model.monthly_per_1000_dau({"read": units["read"]}, (512, 1024))
    assert without_likes["monthly_volume"]["api_requests"] == 10 * 1000 * cost_model.DAYS_PER_MONTH
    assert without_likes["dollars"]["dynamodb_writes"] == 0


def test_todays_design_is_priced_by_the_same_model_with_its_own_memory():
    units, memory = cost_model.today_design()
    assert memory == (1024, 1024)
    assert "like_post" not in units and "read_feed_page" in units
    results = json.loads(cost_model.RESULTS.read_text(encoding="utf-8"))
    details = json.loads(cost_model.DETAILS.read_text(encoding="utf-8"))
    entry = cost_model.cost_entry(details["operation_units"])
    assert entry["today_per_1000_dau"] == results["cost"]["today_per_1000_dau"]
    assert entry["per_1000_dau"] == results["cost"]["per_1000_dau"]
    assert entry["target_per_1000_dau"] == round(0.6 * entry["today_per_1000_dau"], 2)


def test_logs_cost_nothing_per_invocation_once_lambdas_own_lines_are_at_warn():
    units = {"read_feed_page": {"wcu": 0, "rcu": 2, "request_cpu_ms": 5, "request_calls": 2}}
    prod = cost_model.stage_lambda_logging("prod")
    assert prod is not None and prod["SystemLogLevel"] == "WARN"
    assert cost_model.monthly_per_1000_dau(units, (512, 1024), lambda_logging=prod)["dollars"]["cloudwatch_logs"] == 0
    defaults = cost_model.monthly_per_1000_dau(units, (512, 1024), lambda_logging=None)
    requests = cost_model.MIX["read_feed_page"] * 1000 * cost_model.DAYS_PER_MONTH
    assert defaults["dollars"]["cloudwatch_logs"] == pytest.approx(
        requests * cost_model.LOG_BYTES_PER_INVOCATION / 1e9 * 0.5, abs=0.005)
