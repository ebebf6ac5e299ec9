"""Per-user write limits: one conditional counter update per write request."""

from __future__ import annotations

import time

from chalicelib.config import get_settings
from chalicelib.errors import TooManyRequests
from chalicelib.models.effects import RateBucket


def consume_write(user_id: str, now: float | None = None) -> bool:
    """Count one write in the caller's current minute; 429 with Retry-After once over the limit.

    Returns True for the caller's first write of the minute (the update's own return value, no
    extra call): the request path creates a missing profile then, so a user the sign-up trigger
    missed exists for others from their first write on, at one conditional put a minute at most.
    With the limit off (0) every write counts as a first.
    """
    from pynamodb.exceptions import UpdateError

    limit = get_settings().write_limit_per_minute
    if limit <= 0:
        return True
    now = time.time() if now is None else now
    minute = int(now // 60)
    bucket = RateBucket(f"writes#{user_id}#{minute}")
    try:
        bucket.update(
            actions=[RateBucket.count.add(1), RateBucket.expires_at.set((minute + 2) * 60)],
            condition=RateBucket.count.does_not_exist() | (RateBucket.count < limit),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            from aws_lambda_powertools.metrics import MetricUnit

            from chalicelib.observability import metrics

            metrics.add_metric(name="WritesThrottled", unit=MetricUnit.Count, value=1)
            retry_after = max(1, 60 - int(now % 60))
            raise TooManyRequests(
                f"At most {limit} writes a minute; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            ) from None
        raise
    return int(bucket.count) == 1  # the update returns the item as it now is
