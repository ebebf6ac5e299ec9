"""The rules of a post's poll, in plain Python: its size, when it closes, which votes count, its tally."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MIN_OPTIONS, MAX_OPTIONS = 2, 4
MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 168, 24


def closes_at(created: datetime, hours: int) -> datetime:
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValueError(f"closes_in_hours must be from {MIN_HOURS} to {MAX_HOURS}")
    return created + timedelta(hours=hours)


def is_closed(closes_at_iso: str, now_iso: str) -> bool:
    """ISO 8601 UTC strings of one format compare in time order."""
    return now_iso >= closes_at_iso


def option_in_range(option: Any, option_count: int) -> bool:
    return isinstance(option, int) and not isinstance(option, bool) and 0 <= option < option_count


@dataclass(frozen=True)
class OptionCount:
    text: str
    product_id: str | None
    votes: int


@dataclass(frozen=True)
class Tally:
    """A poll as one reader sees it at `now`: the counts, whether it has closed, their own vote."""

    options: tuple[OptionCount, ...]
    closes_at: str
    closed: bool
    my_vote: int | None


def tally(options: Iterable[tuple[str, str | None, int | None]], closes_at_iso: str, now_iso: str,
          my_vote: int | None) -> Tally:
    """`options` as (text, product id, votes so far); an option nobody has voted for counts 0."""
    return Tally(
        options=tuple(OptionCount(text, product_id, int(votes or 0)) for text, product_id, votes in options),
        closes_at=closes_at_iso,
        closed=is_closed(closes_at_iso, now_iso),
        my_vote=my_vote,
    )
