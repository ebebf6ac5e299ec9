"""Waiting on the clock itself, for tests whose order is the order of creation times."""

from __future__ import annotations

import time


def next_millisecond() -> None:
    """Return as soon as the millisecond clock has moved on, so anything created from now on has a later
    creation time (IDs sort by their millisecond) than anything created before the call."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        time.sleep(0)
