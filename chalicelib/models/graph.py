from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
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
