"""The circle directory: every circle, most members first (`GET /groups` without a label).

Kept in the Groups table's sparse `by_members` index (`domain.circles`): a circle carries its
`directory_key` from creation; the Groups stream effect `list_circle` sets it on circles that lack
it (created before the directory) and drops it while moderation has the circle removed
(`removed_at`), so a removed circle leaves the directory and its restore brings it back. The order
is `member_count`, which the GroupMembers stream keeps; DynamoDB keeps the index.
"""

from __future__ import annotations

from chalicelib.auth import Caller
from chalicelib.domain.changes import REMOVE, Change
from chalicelib.domain.circles import directory_partitions, wanted_directory_key
from chalicelib.pagination import Page, PageRequest

REMOVED_AT = "removed_at"


def list_circle(change: Change) -> None:
    """Groups stream effect: the circle's directory key matches what it should be now (idempotent:
    the fix is read from the item as it is, and a record whose image already agrees writes nothing)."""
    from chalicelib.models.base import update_if
    from chalicelib.models.groups import Group
    from chalicelib.services.search import current_image

    if change.kind == REMOVE:
        return  # a deleted circle's index entry goes with it
    group_id = str(change.keys.get("group_id") or change.item["group_id"])
    image = change.new or {}
    if image.get("directory_key") == wanted_directory_key(group_id, REMOVED_AT in image):
        return
    current = current_image(Group, group_id)
    if current is None:
        return
    wanted = wanted_directory_key(group_id, REMOVED_AT in current)
    if current.get("directory_key") == wanted:
        return
    action = Group.directory_key.set(wanted) if wanted else Group.directory_key.remove()
    update_if(Group(group_id), actions=[action], condition=Group.group_id.exists())


def list_directory(caller: Caller, page: PageRequest) -> Page:
    """Largest circles first: one Query per directory shard (4, in parallel), merged, then ONE
    BatchGetItem of the caller's memberships."""
    from chalicelib.models.base import batch_get
    from chalicelib.models.groups import Group, GroupMember
    from chalicelib.models.sharded import ShardedList, read_sharded_page
    from chalicelib.services.groups import group_view

    keys = directory_partitions()
    listing = ShardedList(model=Group, shard_partitions=[{"directory_key": key} for key in keys],
                          key_names=frozenset({"group_id", "directory_key", "member_count"}),
                          order_key=lambda group: int(group.member_count))

    def query_shard(shard: int, start: dict | None, limit: int):
        return Group.by_members.query(keys[shard], scan_index_forward=False, limit=limit, last_evaluated_key=start)

    groups, next_cursor = read_sharded_page(listing, query_shard, page)
    membership_keys: list = [(GroupMember, *GroupMember.key(group.group_id, caller.user_id)) for group in groups]
    memberships: list = batch_get(membership_keys) if groups else []
    items = [group_view(group, membership) for group, membership in zip(groups, memberships, strict=True)]
    return Page(items=items, next_cursor=next_cursor)
