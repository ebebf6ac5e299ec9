"""Circles: interest groups around a shopping style."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, OnePerUserSharded, table_meta


class GroupsByLabelIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_label"
        projection = AllProjection()

    label = UnicodeAttribute(hash_key=True)
    group_id = UnicodeAttribute(range_key=True)


class GroupsByMembersIndex(GlobalSecondaryIndex):
    """The circle directory, largest first: `directory_key` is "circles#{shard}"
    (`domain.circles.directory_key`), set when a circle is created and kept by the Groups stream
    (`services.circles`): absent while the circle is removed by moderation (a sparse index)."""

    class Meta:
        index_name = "by_members"
        projection = AllProjection()

    directory_key = UnicodeAttribute(hash_key=True)
    member_count = NumberAttribute(range_key=True)


class Group(BaseModel):
    Meta = table_meta("Groups")
    group_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    label = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    member_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    directory_key = UnicodeAttribute(null=True)
    by_label = GroupsByLabelIndex()
    by_members = GroupsByMembersIndex()


class MembershipsByUserIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    group_id = UnicodeAttribute(range_key=True)


#: Partitions one circle's members spread over: 1,000 joins a second on one circle put ~250 WCU/s
#: on each (SPEC "Double-11 rules"); a member list would read them all in one page, in parallel.
MEMBER_SHARDS = 4


class GroupMember(OnePerUserSharded, BaseModel):
    """`user_id`'s membership of `group_id`, keyed `<group_id>#<shard of user_id>` (`member_key`,
    `OnePerUserSharded`): one circle's members spread over `MEMBER_SHARDS` partitions; joining
    stays once per user."""

    SHARDS = MEMBER_SHARDS
    PARENT = "group_id"
    Meta = table_meta("GroupMembers")
    member_key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    group_id = UnicodeAttribute()
    role = UnicodeAttribute(default="member")  # owner | member
    joined_at = UnicodeAttribute()
    by_user = MembershipsByUserIndex()
