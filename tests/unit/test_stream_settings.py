"""The fan-out handlers' event-source settings hold against the measured step time (no clock here:
the figures are bench/results.json's, the rest is arithmetic)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from chalicelib.streams.settings import (
    AWS_CALL_SECONDS,
    DEFAULT,
    HANDLER_SETTINGS,
    STEP_SECONDS,
    TIMEOUT_MARGIN,
    settings_of,
)

ROOT = Path(__file__).resolve().parents[2]
FANOUT = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))["fanout"]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
FAN_OUT_HANDLERS = ("fan_out_posts", "continue_fan_out")


def test_the_step_time_the_settings_assume_covers_the_measured_and_the_modelled_step():
    # measured on moto by bench/fanout.py, and modelled as its calls at an AWS call's p99 latency
    assert FANOUT["seconds_per_step"] <= STEP_SECONDS
    assert FANOUT["calls_per_step"] * AWS_CALL_SECONDS <= STEP_SECONDS


def test_the_other_fan_out_steps_make_no_more_calls_than_a_push_step():
    from chalicelib.services import fanout

    # a removal step deletes as many entries as a push step writes; a threshold-crossing step
    # makes one transaction per follower plus the job's own reads and writes
    assert fanout.REMOVAL_PAGE_SIZE <= fanout.FANOUT_PAGE_SIZE
    # a removal step reads its page of followers shard after shard (one Query per followers shard
    # it touches), deletes them 25 a call, then reads and moves its job
    from chalicelib.models.graph import FOLLOWER_SHARDS

    assert FOLLOWER_SHARDS + math.ceil(fanout.REMOVAL_PAGE_SIZE / 25) + 2 <= FANOUT["calls_per_step"]
    assert fanout.PULL_LIST_PAGE_SIZE + 6 <= FANOUT["calls_per_step"]


@pytest.mark.parametrize("handler", FAN_OUT_HANDLERS)
def test_fan_out_at_threshold_minus_one_finishes_within_the_configured_timeout_with_margin(handler):
    from chalicelib.config import get_settings
    from chalicelib.services import fanout

    settings = settings_of(handler)
    # Every record a fan-out handler gets runs at most one step: a post's first (fan_out_posts) or
    # the step its job is at (continue_fan_out); so an invocation runs at most `batch_size` steps
    steps_per_invocation = settings.batch_size
    assert steps_per_invocation * STEP_SECONDS * TIMEOUT_MARGIN <= settings.timeout_seconds
    # And a whole fan-out at threshold - 1 is a chain of steps, each well inside one invocation
    followers = get_settings().fanout_pull_threshold - 1
    steps = math.ceil(followers / fanout.FANOUT_PAGE_SIZE)
    assert steps == 10
    assert STEP_SECONDS * TIMEOUT_MARGIN <= settings.timeout_seconds
    # (the default settings did not hold: 100 steps of a measured step overran a 30 s timeout)
    assert DEFAULT.batch_size * STEP_SECONDS > DEFAULT.timeout_seconds


@pytest.mark.parametrize("handler", FAN_OUT_HANDLERS)
def test_the_functions_timeout_and_batch_size_are_what_the_settings_say(handler):
    import app

    assert CONFIG["lambda_functions"][handler]["lambda_timeout"] == HANDLER_SETTINGS[handler].timeout_seconds
    sources = {source.name: source for source in app.app.event_sources}
    assert sources[handler].batch_size == HANDLER_SETTINGS[handler].batch_size
    assert 1 <= HANDLER_SETTINGS[handler].parallelization_factor <= 10  # Lambda's range


def test_every_handler_with_its_own_settings_exists():
    import app

    names = {source.name for source in app.app.event_sources}
    assert set(HANDLER_SETTINGS) <= names
    assert set(HANDLER_SETTINGS) <= set(CONFIG["lambda_functions"])
