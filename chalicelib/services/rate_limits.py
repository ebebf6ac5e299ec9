"""Per-user write limits, and suspension: one conditional counter update per write request.

Each counter is ONE item per user and kind (`writes#<user>`, `uploads#<user>`) holding the window it
counts and the count. A moderator's suspension is a flag on the writes item, so the update every write
already makes refuses a suspended user's writes in its own condition: no extra read, and no read on
reads at all. An erased account's tombstone is a flag on the same item (`deleted_at`), refused the same
way (401 `AccountDeleted`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import AccountDeleted, Forbidden, TooManyRequests
from chalicelib.models.base import get_or_none
from chalicelib.models.effects import RateBucket

SUSPENDED = "Suspended"
WRITE_WINDOW_SECONDS = 60
#: How long an erased account's tombstone lasts: its last ID or access token (60 min) has expired by then.
TOMBSTONE_SECONDS = 3600 + 2 * WRITE_WINDOW_SECONDS
#: Per process: the window each counter was last seen in, so a counter's first write of a window
#: goes straight to the update that opens it (one call, not a failed one first). Bounded.
_LAST_WINDOW: OrderedDict[str, int] = OrderedDict()
_LAST_WINDOW_SIZE = 10_000
_LAST_WINDOW_LOCK = threading.Lock()


class OverLimit(Exception):
    """The window's count is at its limit; `retry_after` seconds until the next window."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class AccountSuspended(Forbidden):
    """A moderator suspended the account: its writes are 403 `Suspended` until it is unsuspended."""

    def __init__(self) -> None:
        super().__init__("This account is suspended: it cannot write until a moderator lifts the suspension",
                         code=SUSPENDED)


def writes_bucket(user_id: str) -> str:
    return f"writes#{user_id}"


def _remember(name: str, window: int) -> None:
    with _LAST_WINDOW_LOCK:  # the local stack serves requests on threads
        _LAST_WINDOW[name] = window
        _LAST_WINDOW.move_to_end(name)
        while len(_LAST_WINDOW) > _LAST_WINDOW_SIZE:
            _LAST_WINDOW.popitem(last=False)


def count_in_window(name: str, window_seconds: int, limit: int, now: float) -> int:
    """One more in the fixed window of `window_seconds` that `now` falls in, under `limit` (0: none).

    One conditional update: a later write of the window adds 1 while under the limit; the first of a
    window sets the window and a count of 1. Either is refused on a suspended counter. Only a refusal
    (over the limit, suspended, or a guess of the window that another process made stale) costs a
    second call. Returns the count now; raises `OverLimit` when the window is full and
    `AccountSuspended` when the counter is suspended.
    """
    from pynamodb.exceptions import UpdateError

    window = int(now // window_seconds)
    expires_at = (window + 2) * window_seconds
    not_suspended = RateBucket.suspended.does_not_exist() & RateBucket.deleted_at.does_not_exist()
    same_window = (RateBucket.window == window) & not_suspended
    if limit > 0:
        same_window = same_window & (RateBucket.count < limit)
    new_window = (RateBucket.window.does_not_exist() | (RateBucket.window < window)) & not_suspended
    attempts: list[tuple[list[Any], Any]] = [
        ([RateBucket.count.add(1)], same_window),
        ([RateBucket.window.set(window), RateBucket.count.set(1), RateBucket.expires_at.set(expires_at)], new_window),
    ]
    if _LAST_WINDOW.get(name) != window:
        attempts.reverse()  # this process has not counted this window yet: most likely its first write
    bucket = RateBucket(name)
    for _ in range(3):
        for actions, condition in attempts:
            try:
                bucket.update(actions=actions, condition=condition)
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue
            _remember(name, window)
            return int(bucket.count)  # the update returns the item as it now is
        current = get_or_none(RateBucket, name, consistent_read=True)  # both refused: say why
        if current is None:
            continue
        if is_tombstone(current):
            raise AccountDeleted()
        if current.suspended:
            raise AccountSuspended()
        if current.window == window and limit > 0 and int(current.count or 0) >= limit:
            _remember(name, window)
            raise OverLimit(max(1, window_seconds - int(now % window_seconds)))
    raise OverLimit(1)  # the window moved under us three times: a clock skew between processes


def consume_write(user_id: str, now: float | None = None) -> bool:
    """Count one write in the caller's current minute; 429 with Retry-After once over the limit, 403
    `Suspended` for a suspended account.

    Returns True for the caller's first write of the minute (the update's own return value, no
    extra call): the request path creates a missing profile then, so a user the sign-up trigger
    missed exists for others from their first write on, at one conditional put a minute at most.
    With the limit off (0) writes are still counted, for the suspension check.
    """
    limit = get_settings().write_limit_per_minute
    try:
        return count_in_window(writes_bucket(user_id), WRITE_WINDOW_SECONDS, max(0, limit),
                               time.time() if now is None else now) == 1
    except OverLimit as over:
        from aws_lambda_powertools.metrics import MetricUnit

        from chalicelib.observability import metrics

        metrics.add_metric(name="WritesThrottled", unit=MetricUnit.Count, value=1)
        raise TooManyRequests(
            f"At most {limit} writes a minute; try again in {over.retry_after} s",
            headers={"Retry-After": str(over.retry_after)},
        ) from None


def suspension_actions(suspend: bool, now_iso: str, now: float) -> list:
    """The update of a user's writes counter that suspends (no TTL: it never expires) or lifts it."""
    if suspend:
        return [RateBucket.suspended.set(True), RateBucket.suspended_at.set(now_iso), RateBucket.expires_at.remove()]
    return [RateBucket.suspended.remove(), RateBucket.suspended_at.remove(),
            RateBucket.expires_at.set(int(now) + 120)]


# -- the tombstone of an erased account -------------------------------------------------------------
def is_tombstone(bucket: RateBucket | None) -> bool:
    return bucket is not None and bucket.deleted_at is not None


def tombstone(user_id: str, now: float) -> int:
    """Mark the account's writes counter as erased for `TOMBSTONE_SECONDS`: each write of its remaining
    tokens then fails the condition its counter update already carries (no extra call on the ordinary
    path), and `/me` reads the counter in the batch it already makes. Idempotent; returns the items
    written (one)."""
    RateBucket(writes_bucket(user_id)).update(actions=[
        RateBucket.deleted_at.set(int(now)), RateBucket.expires_at.set(int(now) + TOMBSTONE_SECONDS)])
    return 1
