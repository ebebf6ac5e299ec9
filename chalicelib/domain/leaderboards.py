"""Expert leaderboards kept in a sharded index: a label's scores spread over `LEADERBOARD_SHARDS`.

Every expert-score change rewrites the score's leaderboard entry, and since `score` is the index's
sort key that is a delete and a put: 2 write units on the label's index partition per change. One
partition per label takes 1,000 WCU/s, so 500 score changes a second in one label; a busy label on
Double-11 (10 million answerers) passes that. Four shards, by user, hold 2,000 changes a second per
label, and 4 is what a page may read at once (SPEC "Discovery"). Why not a stream-kept top-N item
instead: see docs/scale.md "Sharded indexes".
"""

from __future__ import annotations

from chalicelib.domain.sharded_lists import shard_key, shard_of

LEADERBOARD_SHARDS = 4


def leaderboard_key(label: str, user_id: str) -> str:
    """The `leaderboard` index partition a user's score in `label` is listed under."""
    return shard_key(label, shard_of(user_id, LEADERBOARD_SHARDS))


def leaderboard_partitions(label: str) -> list[str]:
    """Every shard's partition of the leaderboard of `label`, in shard order."""
    return [shard_key(label, shard) for shard in range(LEADERBOARD_SHARDS)]
