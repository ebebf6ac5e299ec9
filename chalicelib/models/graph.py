from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.domain.sharded_lists import shard_key, shard_keys, shard_of
from chalicelib.models.base import BaseModel, table_meta

#: Partitions of one account's followers index: a surge of 1,000 follows a second on one account
#: puts ~250 WCU/s on each (SPEC "Double-11 rules"); a followers page reads them all in parallel.
FOLLOWER_SHARDS = 4


def followers_key(followee_id: str, follower_id: str) -> str:
    """The followers-index partition of one follow: `<followee_id>#<shard of the follower>`."""
    return shard_key(followee_id, shard_of(follower_id, FOLLOWER_SHARDS))


def followers_keys(followee_id: str) -> list[str]:
    """Every followers-index partition of one account, shard 0 first."""
    return shard_keys(followee_id, FOLLOWER_SHARDS)


class FollowersIndex(GlobalSecondaryIndex):
    """An account's followers, newest first within each of its `FOLLOWER_SHARDS` partitions."""

    class Meta:
        index_name = "by_followee_shard"
        projection = AllProjection()

    followee_shard = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Follow(BaseModel):
    """`follower_id` follows `followee_id`. The item's stream drives counts and notifications.

    `followee_shard` (`followers_key`) is set from the two ids whenever both are given: the
    followers index spreads one account's follows over `FOLLOWER_SHARDS` partitions.
    """

    Meta = table_meta("Follows")
    follower_id = UnicodeAttribute(hash_key=True)
    followee_id = UnicodeAttribute(range_key=True)
    followee_shard = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    followers = FollowersIndex()

    def __init__(self, hash_key: Any = None, range_key: Any = None, _user_instantiated: bool = True,
                 **attributes: Any) -> None:
        super().__init__(hash_key, range_key, _user_instantiated=_user_instantiated, **attributes)
        if _user_instantiated and self.followee_shard is None and hash_key is not None and range_key is not None:
            self.followee_shard = followers_key(range_key, hash_key)


class FollowerBucket(BaseModel):
    """One slice of a user's followers: the ids whose hash lands in `bucket` (see `domain.feed`).

    Keyed by shard (`audience_key` = "<user_id>#<shard>", a contiguous run of buckets) and bucket:
    one account's follows spread over `AUDIENCE_SHARDS` partition keys, and a fan-out step reads a
    range of buckets with one Query per shard it touches instead of a thousand Follow items. Kept
    by the Follows stream with set ADD / DELETE, which are idempotent and commute between followers.
    The table is AudienceBuckets (its key schema changed from the user id alone, so its name did too:
    CloudFormation cannot replace a table that keeps its name).
    """

    Meta = table_meta("AudienceBuckets")
    audience_key = UnicodeAttribute(hash_key=True)
    bucket = NumberAttribute(range_key=True)
    follower_ids = UnicodeSetAttribute(null=True)


class BlockedByIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_blocked"
        projection = KeysOnlyProjection()

    blocked_id = UnicodeAttribute(hash_key=True)
    blocker_id = UnicodeAttribute(range_key=True)


class Block(BaseModel):
    Meta = table_meta("Blocks")
    blocker_id = UnicodeAttribute(hash_key=True)
    blocked_id = UnicodeAttribute(range_key=True)
    created_at = UnicodeAttribute()
    blocked_by = BlockedByIndex()


def follower_ids_page(followee_id: str, limit: int, position: dict | None) -> tuple[list[str], dict | None]:
    """Up to `limit` of `followee_id`'s follower ids for a walk over all of them (a job's step), and
    the position of the next page, or None after the last. The shards are walked one after the
    other; a page that uses a shard up goes on in the next (one Query per shard it touches, at most
    `FOLLOWER_SHARDS`). `position` is `{"shard": n, "after": <LastEvaluatedKey or None>}`, JSON as
    it is (a job keeps it in its cursor).
    """
    shard = int(position["shard"]) if position else 0
    after = position.get("after") if position else None
    partitions = followers_keys(followee_id)
    follower_ids: list[str] = []
    while True:
        page = Follow.followers.query(partitions[shard], limit=limit - len(follower_ids), last_evaluated_key=after,
                                      attributes_to_get=["follower_id", "followee_id"])
        follower_ids += [follow.follower_id for follow in page]
        after = page.last_evaluated_key
        if after is None:
            if shard + 1 == len(partitions):
                return follower_ids, None
            shard += 1
        if len(follower_ids) >= limit:
            return follower_ids, {"shard": shard, "after": after}


def all_follower_ids(followee_id: str) -> list[str]:
    """Every follower of `followee_id` (a repair tool's read, never on a request or stream path)."""
    return [follow.follower_id for key in followers_keys(followee_id)
            for follow in Follow.followers.query(key, attributes_to_get=["follower_id", "followee_id"])]
