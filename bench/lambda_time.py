"""The function's own CPU time per request, without the time spent inside DynamoDB calls.

On in-process moto a DynamoDB call runs moto's server side in this process; AWS runs it elsewhere
and the function waits for it. `cpu_outside_dynamodb()` counts process CPU time inside the block
and subtracts what was spent inside botocore's `_make_api_call` (serialising, moto, parsing), and
counts the calls, so that the cost model can bill a function as
`cpu_ms × (1,769 MB / memory) + calls × call latency` (Lambda gives one vCPU at 1,769 MB and a
share of it below). Botocore's own serialising and parsing are left out with moto: an underestimate
of a few tenths of a millisecond a call.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import botocore.client


@dataclass
class CpuClock:
    cpu_ms: float = 0.0
    calls: int = 0


_inside = [0.0, 0]


def _timed(original):
    def call(self, operation_name, params):
        started = time.process_time()
        try:
            return original(self, operation_name, params)
        finally:
            _inside[0] += time.process_time() - started
            _inside[1] += 1

    call.bench_timed = True  # type: ignore[attr-defined]
    return call


@contextlib.contextmanager
def cpu_outside_dynamodb() -> Iterator[CpuClock]:
    clock = CpuClock()
    original = botocore.client.BaseClient._make_api_call
    if not getattr(original, "bench_timed", False):
        botocore.client.BaseClient._make_api_call = _timed(original)  # type: ignore[method-assign]
    inside_before, calls_before = _inside
    started = time.process_time()
    try:
        yield clock
    finally:
        total = time.process_time() - started
        clock.cpu_ms = round((total - (_inside[0] - inside_before)) * 1000, 2)
        clock.calls = _inside[1] - calls_before
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def build_models() -> None:
    """Build every request and response model now (they are `defer_build`: a container's first
    request builds those it uses), so that a measured request is a warm container's."""
    from pydantic import BaseModel

    from chalicelib.http import ROUTES, resolve_model

    for spec in ROUTES:
        for model in (spec.body, resolve_model(spec.response)):
            if isinstance(model, type) and issubclass(model, BaseModel) and not model.__pydantic_complete__:
                model.model_rebuild()
