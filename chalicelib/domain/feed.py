"""The rules of the home feed and of polls, in plain Python.

Post ids are ULIDs, so every source a feed reads (the reader's fanned-out entries, each followed
large account's own posts) is already ordered by post id, newest last. Merging them newest-first
therefore needs only one boundary: the smallest post id shown so far. A cursor holding that id is
exact across any number of sources: nothing older is skipped, nothing shown is repeated.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem maximum
BACKFILL_POSTS = 20  # following someone copies their newest 20 posts into the follower's feed
POLL_MIN_OPTIONS, POLL_MAX_OPTIONS = 2, 4
POLL_MIN_HOURS, POLL_MAX_HOURS, POLL_DEFAULT_HOURS = 1, 168, 24


# -- fan-out ----------------------------------------------------------------------------------------
def fans_out(follower_count: int, pull_threshold: int) -> bool:
    """Push to followers' feeds unless the author has more followers than the threshold."""
    return follower_count <= pull_threshold


def chunks(items: Sequence[T], size: int = BATCH_WRITE_LIMIT) -> list[list[T]]:
    if size < 1:
        raise ValueError("size must be positive")
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def unique_by(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """First occurrence wins; DynamoDB refuses a batch naming the same key twice."""
    seen: set[Hashable] = set()
    kept = []
    for item in items:
        marker = key(item)
        if marker in seen:
            continue
        seen.add(marker)
        kept.append(item)
    return kept


def backoff_seconds(attempt: int, *, base: float = 0.05, cap: float = 2.0, jitter: float = 0.5) -> float:
    """Exponential backoff for unprocessed batch items; `jitter` in [0, 1) scales the random part."""
    delay = min(cap, base * 2.0 ** max(attempt - 1, 0))
    return delay * (0.5 + jitter / 2)


def fanout_readers(follower_ids: Iterable[str], author_id: str, blockers: set[str]) -> list[str]:
    """Who gets a post: followers, minus the author and anyone who has blocked the author."""
    return unique_by((f for f in follower_ids if f != author_id and f not in blockers), key=lambda f: f)


# -- the audience: a user's followers in hash buckets -------------------------------------------------
AUDIENCE_BUCKETS = 256  # per user; ~40 bytes an id: a 400 KB item holds ~10,000, so ~2.5M followers


def audience_bucket(follower_id: str) -> int:
    """The bucket a follower's id lives in: stable across processes and deploys (not `hash()`)."""
    return zlib.crc32(follower_id.encode("utf-8")) % AUDIENCE_BUCKETS


def buckets_per_step(follower_count: int, followers_per_step: int) -> int:
    """How many buckets one fan-out step reads so that it carries about `followers_per_step` ids."""
    if follower_count <= followers_per_step:
        return AUDIENCE_BUCKETS
    return max(1, -(-AUDIENCE_BUCKETS * followers_per_step // follower_count))


def reader_author(reader_id: str, author_id: str) -> str:
    return f"{reader_id}#{author_id}"


# -- upkeep: expiry and the pull list ----------------------------------------------------------------
FEED_ENTRY_TTL_SECONDS = 30 * 24 * 3600  # an entry expires (DynamoDB TTL) 30 days after it was written
PULL_LIST_PREFIX = "~pull#"  # "~" sorts above every ULID character (0-9, A-Z)


def entry_expires_at(now_epoch: int, ttl_seconds: int = FEED_ENTRY_TTL_SECONDS) -> int:
    """Epoch second after which a feed entry is gone: DynamoDB's TTL deletes it, reads skip it first."""
    return now_epoch + ttl_seconds


def is_expired(expires_at: int | float | None, now_epoch: int) -> bool:
    """TTL deletion lags (up to days), so a read treats an entry past its time as already gone."""
    return expires_at is not None and int(expires_at) <= now_epoch


def pull_list_key(reader_id: str) -> str:
    """Sort key of the reader's list of followed large accounts, in the reader's own feed partition.

    It sorts above every post id, so the first page's newest-first Query returns it first, in the
    same call. The reader id in it keeps each list in its own partition of the by_post index
    instead of every reader's list sharing one.
    """
    return f"{PULL_LIST_PREFIX}{reader_id}"


def is_pull_list_key(post_id: str) -> bool:
    return post_id.startswith(PULL_LIST_PREFIX)


def entries_upper_bound() -> str:
    """Every feed entry's post id sorts below this; the pull list does not."""
    return "~"


# -- reading ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedPosition:
    """Where `reader` is in their feed: below `before`, `served` entries shown, `pull` authors merged."""

    reader: str
    before: str | None
    served: int
    pull: tuple[str, ...]

    def to_cursor(self) -> dict[str, Any]:
        return {"r": self.reader, "b": self.before, "n": self.served, "p": list(self.pull)}

    @classmethod
    def from_cursor(cls, data: dict[str, Any] | None, reader: str) -> FeedPosition | None:
        """A cursor is one reader's: another reader's (or another list's) is refused."""
        if not data:
            return None
        owner, before, served, pull = data.get("r"), data.get("b"), data.get("n"), data.get("p")
        if owner != reader:
            raise ValueError("not this reader's feed cursor")
        if not (_is_id(before) and type(served) is int and served >= 0 and isinstance(pull, list)):
            raise ValueError("not a feed cursor")
        if not all(_is_id(author) for author in pull):
            raise ValueError("not a feed cursor")
        return cls(reader=reader, before=before, served=served, pull=tuple(pull))


def _is_id(value) -> bool:
    """A post or user id as this service writes them: a short string (a DynamoDB key within limits)."""
    return isinstance(value, str) and 0 < len(value) <= 128


def page_size(requested: int, served: int, window: int) -> int:
    """A feed shows its newest `window` entries and no more."""
    return max(0, min(requested, window - served))


@dataclass(frozen=True)
class MergedPage:
    post_ids: list[str]
    has_more: bool


def merge_newest_first(sources: Iterable[Iterable[str]], limit: int) -> MergedPage:
    """Merge post-id lists from several sources, newest first, each post once.

    Each source must hold (at least) its `limit + 1` newest ids below the current boundary; then
    `has_more` is exact: some source held more than this page shows.
    """
    merged = sorted({post_id for source in sources for post_id in source}, reverse=True)
    return MergedPage(post_ids=merged[:limit], has_more=len(merged) > limit)


def next_position(page: MergedPage, current: FeedPosition, window: int) -> FeedPosition | None:
    if not page.has_more or not page.post_ids:
        return None
    served = current.served + len(page.post_ids)
    if served >= window:
        return None
    return FeedPosition(reader=current.reader, before=page.post_ids[-1], served=served, pull=current.pull)


# -- polls ------------------------------------------------------------------------------------------
def poll_closes_at(created: datetime, hours: int) -> datetime:
    if not POLL_MIN_HOURS <= hours <= POLL_MAX_HOURS:
        raise ValueError(f"closes_in_hours must be from {POLL_MIN_HOURS} to {POLL_MAX_HOURS}")
    return created + timedelta(hours=hours)


def poll_is_closed(closes_at_iso: str, now_iso: str) -> bool:
    """ISO 8601 UTC strings of one format compare in time order."""
    return now_iso >= closes_at_iso


def option_in_range(option: Any, option_count: int) -> bool:
    return isinstance(option, int) and not isinstance(option, bool) and 0 <= option < option_count
