"""Event-source settings of the stream handlers that need other than the default, and why.

Chalice's `on_dynamodb_record` takes the batch size (passed by `events.dynamodb_stream`); the
parallelization factor goes on the event source mapping (`infra/deploy.py` after `chalice
deploy`, `infra/packaging.py` in `make package`), and the timeout is each function's
`lambda_timeout` in `.chalice/config.json` (a test keeps the two equal).

Fan-out. One step (a post's first, run by `fan_out_posts`, or any later one, by `continue_fan_out`;
a deleted post's removal steps the same way) writes or deletes about 1,000 feed entries: ~46
DynamoDB calls, 40 of them BatchWriteItem. `bench/fanout.py` measures the seconds a step takes
(`fanout.seconds_per_step` in bench/results.json); the issue's model of AWS latencies put it at
~0.65 s, so the default batch of 100 records (100 steps of different jobs, ~65 s) overran the
30 s timeout, and the retried batch overran again. Now a batch holds at most `batch_size` steps,
`STEP_SECONDS` x batch size stays under a third of the timeout (`tests/unit/test_stream_settings.py`
pins it from the measured figure), and `parallelization_factor` lets 10 batches of one stream
shard run at once (records of one job, one partition key, still in order), so throughput grows
10x while each invocation shrinks 10x.
"""

from __future__ import annotations

from dataclasses import dataclass

# The slowest a fan-out step may take for the settings below to hold with margin (seconds): at
# least the bench's measured step time, and the step's calls at `AWS_CALL_SECONDS` each.
STEP_SECONDS = 1.5
AWS_CALL_SECONDS = 0.025  # a DynamoDB call's p99 in-region (a BatchWriteItem of 25 small items included)
TIMEOUT_MARGIN = 3  # a batch's expected work is at most a third of its function's timeout


@dataclass(frozen=True)
class StreamHandlerSettings:
    batch_size: int = 100  # records per invocation (Chalice's default for these handlers)
    parallelization_factor: int = 1  # concurrent batches per stream shard (1-10)
    timeout_seconds: int = 30  # the function's timeout (.chalice/config.json `lambda_timeout`)


DEFAULT = StreamHandlerSettings()

#: Handlers whose work per record is a fan-out step; every other handler keeps `DEFAULT`.
HANDLER_SETTINGS: dict[str, StreamHandlerSettings] = {
    "fan_out_posts": StreamHandlerSettings(batch_size=10, parallelization_factor=10, timeout_seconds=60),
    "continue_fan_out": StreamHandlerSettings(batch_size=10, parallelization_factor=10, timeout_seconds=60),
}


def settings_of(handler: str) -> StreamHandlerSettings:
    return HANDLER_SETTINGS.get(handler, DEFAULT)
