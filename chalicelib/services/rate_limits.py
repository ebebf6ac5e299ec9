"""Per-user write limits: one conditional counter update per write request."""

from __future__ import annotations

import time

from chalicelib.config import get_settings
from chalicelib.errors import AccountDeleted, TooManyRequests
from chalicelib.models.effects import RateBucket

WRITE_WINDOW_SECONDS = 60
#: How long an erased account's tombstone lasts: its last ID or access token (60 min) has expired by then.
TOMBSTONE_SECONDS = 3600 + 2 * WRITE_WINDOW_SECONDS


class OverLimit(Exception):
    """The window's count is at its limit; `retry_after` seconds until the next window."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def count_in_window(name: str, window_seconds: int, limit: int, now: float) -> int:
    """One more in the fixed window of `window_seconds` that `now` falls in, under `limit`: one
    conditional counter update (the item expires a window later). Returns the count now; raises
    `OverLimit` when the window is full."""
    from pynamodb.exceptions import UpdateError

    window = int(now // window_seconds)
    bucket = RateBucket(f"{name}#{window}")
    try:
        bucket.update(
            actions=[RateBucket.count.add(1), RateBucket.expires_at.set((window + 2) * window_seconds)],
            condition=(RateBucket.count.does_not_exist() | (RateBucket.count < limit))
            & RateBucket.deleted_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            # the rare refusal reads the item once: an erased account's window is its tombstone
            if is_tombstone(RateBucket.get(bucket.bucket, consistent_read=True)):
                raise AccountDeleted() from None
            raise OverLimit(max(1, window_seconds - int(now % window_seconds))) from None
        raise
    return int(bucket.count)  # the update returns the item as it now is


def consume_write(user_id: str, now: float | None = None) -> bool:
    """Count one write in the caller's current minute; 429 with Retry-After once over the limit.

    Returns True for the caller's first write of the minute (the update's own return value, no
    extra call): the request path creates a missing profile then, so a user the sign-up trigger
    missed exists for others from their first write on, at one conditional put a minute at most.
    With the limit off (0) every write counts as a first.
    """
    limit = get_settings().write_limit_per_minute
    if limit <= 0:
        return True
    try:
        return count_in_window(write_bucket_name(user_id), WRITE_WINDOW_SECONDS, limit,
                               time.time() if now is None else now) == 1
    except OverLimit as over:
        from aws_lambda_powertools.metrics import MetricUnit

        from chalicelib.observability import metrics

        metrics.add_metric(name="WritesThrottled", unit=MetricUnit.Count, value=1)
        raise TooManyRequests(
            f"At most {limit} writes a minute; try again in {over.retry_after} s",
            headers={"Retry-After": str(over.retry_after)},
        ) from None


# -- the tombstone of an erased account -------------------------------------------------------------
def write_bucket_name(user_id: str) -> str:
    return f"writes#{user_id}"


def write_bucket_key(user_id: str, now: float) -> str:
    """The write-limit item of the window `now` falls in."""
    return f"{write_bucket_name(user_id)}#{int(now // WRITE_WINDOW_SECONDS)}"


def is_tombstone(bucket: RateBucket | None) -> bool:
    return bucket is not None and bucket.deleted_at is not None


def tombstone(user_id: str, now: float) -> int:
    """Mark every write window of the next `TOMBSTONE_SECONDS` as the erased account's: each write of
    its remaining tokens then fails the condition its counter update already carries (no extra call on
    the ordinary path), and `/me` reads the current window in the batch it already makes. Idempotent
    (a re-put writes the same items); returns the items written (62: three BatchWriteItem calls)."""
    first = int(now // WRITE_WINDOW_SECONDS)
    last = int((now + TOMBSTONE_SECONDS) // WRITE_WINDOW_SECONDS)
    with RateBucket.batch_write() as batch:
        for window in range(first, last + 1):
            batch.save(RateBucket(f"{write_bucket_name(user_id)}#{window}", count=0, deleted_at=int(now),
                                  expires_at=(window + 2) * WRITE_WINDOW_SECONDS))
    return last - first + 1
