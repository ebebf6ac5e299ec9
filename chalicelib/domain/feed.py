"""The rules of the home feed, in plain Python.

Post ids are ULIDs, so every source a feed reads (the reader's fanned-out entries, each followed
large account's own posts) is already ordered by post id, newest last. Merging them newest-first
therefore needs only one boundary: the smallest post id shown so far. A cursor holding that id is
exact across any number of sources: nothing older is skipped, nothing shown is repeated.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.domain.ids import id_time_ms

T = TypeVar("T")

BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem maximum
BACKFILL_POSTS = 20  # following someone copies their newest 20 posts and activities into the follower's feed


# -- fan-out ----------------------------------------------------------------------------------------
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
# A bucket is a pure function of the follower id, so a leave needs no lookup. 512 buckets keep a
# bucket under ~1 KB (one write unit per follow) up to the keep limit (1.1 x the default threshold
# of 10,000: ~21 ids of ~37 bytes); the buckets are split over `AUDIENCE_SHARDS` partition keys so
# one account's follows do not all land on one key, yet a fan-out step (a contiguous range of
# buckets) reads one partition, two for a whole small audience.
AUDIENCE_BUCKETS = 512
AUDIENCE_SHARDS = 2
BUCKETS_PER_SHARD = AUDIENCE_BUCKETS // AUDIENCE_SHARDS
KEEP_FACTOR_PERCENT = 110  # an audience is no longer kept once its account passes 1.1 x the threshold
RETURN_FACTOR_PERCENT = 90  # a pull-mode account goes back to push below 0.9 x the threshold


def audience_bucket(follower_id: str) -> int:
    """The bucket a follower's id lives in: stable across processes and deploys (not `hash()`)."""
    return zlib.crc32(follower_id.encode("utf-8")) % AUDIENCE_BUCKETS


def audience_shard(bucket: int) -> int:
    """Shards are contiguous runs of buckets, so a range of buckets spans as few as possible."""
    return bucket // BUCKETS_PER_SHARD


def audience_key(user_id: str, shard: int) -> str:
    """The partition key of one shard of a user's audience."""
    return f"{user_id}#{shard}"


def shard_ranges(first: int, last: int) -> list[tuple[int, int, int]]:
    """(shard, first bucket, last bucket) for each shard that buckets `first`..`last` touch, in order."""
    if not 0 <= first <= last < AUDIENCE_BUCKETS:
        raise ValueError("bucket range out of bounds")
    ranges = []
    bucket = first
    while bucket <= last:
        shard = audience_shard(bucket)
        end = min(last, (shard + 1) * BUCKETS_PER_SHARD - 1)
        ranges.append((shard, bucket, end))
        bucket = end + 1
    return ranges


def buckets_per_step(follower_count: int, followers_per_step: int) -> int:
    """How many buckets one fan-out step reads so that it carries about `followers_per_step` ids."""
    if follower_count <= followers_per_step:
        return AUDIENCE_BUCKETS
    return max(1, -(-AUDIENCE_BUCKETS * followers_per_step // follower_count))


# -- push or pull, and whether the audience is kept (hysteresis around the threshold) --------------
KEPT, DROPPED, BUILDING = "kept", "dropped", "building"  # the state of an account's audience
PUSH, PULL, LIST, REBUILD, RETURN = "push", "pull", "list", "rebuild", "return"  # what a post does
JOIN, DROP, SKIP = "join", "drop", "skip"  # what a follow does to the audience


@dataclass(frozen=True)
class Reach:
    """What the feed knows of an author: followers, whether served by pull, the audience's state.

    `pull_mode`: every follower's pull list names the author (set by the threshold-crossing job).
    `audience`: KEPT (buckets complete), DROPPED (no longer kept: the account passed the keep
    limit) or BUILDING (a rebuild job is refilling them from the Follow items).
    """

    follower_count: int
    pull_mode: bool = False
    audience: str = KEPT


def keep_limit(threshold: int) -> int:
    return threshold * KEEP_FACTOR_PERCENT // 100


def return_limit(threshold: int) -> int:
    return threshold * RETURN_FACTOR_PERCENT // 100


def audience_on_follow(reach: Reach, threshold: int) -> str:
    """JOIN the follower into the buckets, DROP the audience (stop keeping it), or SKIP.

    Kept up to `keep_limit` (1.1 x threshold), past which a bucket would grow with every follow;
    once dropped it stays dropped until a rebuild (so an account hovering at the limit does not
    flip). Joins during a rebuild go into the buckets being refilled.
    """
    if reach.audience == DROPPED:
        return SKIP
    if reach.audience == KEPT and reach.follower_count > keep_limit(threshold):
        return DROP
    return JOIN


def served_by_pull(reach: Reach, threshold: int) -> bool:
    """Does a new follower get the author through their pull list (not copied entries)?

    Whenever a post might not be fanned out to them: the author is in pull mode, above the
    threshold, or their audience is not complete. So every follower is in the audience or has the
    author in their pull list, and a threshold-crossing job over the audience reaches everyone else.
    """
    return reach.pull_mode or reach.follower_count > threshold or reach.audience != KEPT


def post_plan(reach: Reach, threshold: int) -> str:
    """What a new post of this author does. A post never fans out from an incomplete audience.

    PUSH: fan out. LIST: the author crosses into pull mode (a job lists them in every follower's
    pull list; the post is merged at read time). PULL: merged at read time. RETURN: back to push
    (pull mode cleared) and fan out, the audience being complete. REBUILD: back under the return
    limit with a dropped audience: a job rebuilds it from the Follow items, the post is pulled.
    Pull mode starts above `threshold` and ends only below `return_limit` (0.9 x threshold).
    """
    if reach.audience == BUILDING:
        return PULL
    if reach.pull_mode:
        if reach.follower_count < return_limit(threshold):
            return RETURN if reach.audience == KEPT else REBUILD
        return PULL
    if reach.follower_count > threshold or reach.audience == DROPPED:
        return LIST
    return PUSH


# -- upkeep: expiry and the pull list ----------------------------------------------------------------
FEED_ENTRY_TTL_SECONDS = 30 * 24 * 3600  # an entry expires (DynamoDB TTL) 30 days after it was written
PULL_LIST_PREFIX = "~pull#"  # "~" sorts above every ULID character (0-9, A-Z)


def entry_expires_at(now_epoch: int, ttl_seconds: int = FEED_ENTRY_TTL_SECONDS) -> int:
    """Epoch second after which a feed entry is gone: DynamoDB's TTL deletes it, reads skip it first."""
    return now_epoch + ttl_seconds


def post_entries_expire_at(post_id: str, ttl_seconds: int = FEED_ENTRY_TTL_SECONDS) -> int:
    """Every feed entry of a post expires `ttl_seconds` after the post (its ULID's time), however late
    it was written (a backfill): a post past that age is in no feed, so its deletion walks none."""
    return id_time_ms(post_id) // 1000 + ttl_seconds


def is_expired(expires_at: int | float | None, now_epoch: int) -> bool:
    """TTL deletion lags (up to days), so a read treats an entry past its time as already gone."""
    return expires_at is not None and int(expires_at) <= now_epoch


def pull_list_key(reader_id: str) -> str:
    """Sort key of the reader's list of followed large accounts, in the reader's own feed partition.

    It sorts above every post id, so the first page's newest-first Query returns it first, in the
    same call.
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
    """Where `reader` is in their feed: below `before`, `served` entries shown; `pulls`: whether the
    feed merges large accounts (their list stays server-side, in the reader's pull-list item)."""

    reader: str
    before: str | None
    served: int
    pulls: bool

    def to_cursor(self) -> dict[str, Any]:
        return {"r": self.reader, "b": self.before, "n": self.served, "p": self.pulls}

    @classmethod
    def from_cursor(cls, data: dict[str, Any] | None, reader: str) -> FeedPosition | None:
        """A cursor is one reader's: another reader's (or another list's) is refused."""
        if not data:
            return None
        owner, before, served, pulls = data.get("r"), data.get("b"), data.get("n"), data.get("p")
        if owner != reader:
            raise ValueError("not this reader's feed cursor")
        if not (_is_id(before) and type(served) is int and served >= 0 and type(pulls) is bool):
            raise ValueError("not a feed cursor")
        return cls(reader=reader, before=before, served=served, pulls=pulls)


def _is_id(value: object) -> bool:
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
    return FeedPosition(reader=current.reader, before=page.post_ids[-1], served=served, pulls=current.pulls)


# -- an author's recent posts (what a feed merges for the large accounts a reader follows) ----------
RECENT_POSTS_KEPT = 40  # an author's recent-posts item lists their newest 40 home posts (two pages)...
RECENT_POSTS_TRIM_AT = 50  # ...and is trimmed back to 40 once it passes 50: one trim per 10 posts


def recent_to_drop(post_ids: Iterable[str]) -> list[str]:
    """The oldest ids a recent-posts item drops: none until it passes the trim mark, then all but the newest."""
    ordered = sorted(post_ids)
    if len(ordered) <= RECENT_POSTS_TRIM_AT:
        return []
    return ordered[:-RECENT_POSTS_KEPT]


def recent_below(post_ids: Iterable[str], floor: str | None, before: str | None, count: int) -> list[str] | None:
    """The newest `count` of an author's posts below `before`, from their recent-posts item; None
    when the item cannot tell (a Query of the author's posts must).

    Every post newer than `floor` (the newest id a trim dropped; None: nothing dropped) is listed,
    so ids between `floor` and `before` are exact; the item answers when it has `count` of them, or
    when nothing was ever dropped (then fewer is all there is).
    """
    listed = sorted((p for p in post_ids if (floor is None or p > floor) and (before is None or p < before)),
                    reverse=True)
    if len(listed) >= count or floor is None:
        return listed[:count]
    return None
