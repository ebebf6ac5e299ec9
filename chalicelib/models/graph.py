from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class FollowersIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_followee"
        projection = AllProjection()

    followee_id = UnicodeAttribute(hash_key=True)
    follower_id = UnicodeAttribute(range_key=True)


class Follow(BaseModel):
    """`follower_id` follows `followee_id`. The item's stream drives counts and notifications."""

    Meta = table_meta("Follows")
    follower_id = UnicodeAttribute(hash_key=True)
    followee_id = UnicodeAttribute(range_key=True)
    created_at = UnicodeAttribute()
    followers = FollowersIndex()


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
