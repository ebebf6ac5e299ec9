"""Circles: interest groups around a shopping style. Only members post in them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.circles import directory_key
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.errors import Conflict, NotFound
from chalicelib.models.base import batch_get, delete_if, put_unless_present
from chalicelib.models.groups import Group, GroupMember
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.effects import Counter, sum_changes_once

if TYPE_CHECKING:
    from chalicelib.schemas.groups import GroupOut, MembershipOut
else:
    GroupOut, MembershipOut = lazy_models("chalicelib.schemas.groups", "GroupOut", "MembershipOut")

OWNER, MEMBER = "owner", "member"


def group_view(group: Group, membership: GroupMember | None) -> GroupOut:
    return GroupOut.from_item(group, membership)


def create_group(caller: Caller, name: str, description: str, label: str) -> GroupOut:
    """The circle and its owner's membership in one transaction; the owner is counted from the start.

    The GroupMembers stream keeps `member_count` for everyone who joins later (see
    `count_members`), so it skips the owner's own INSERT.
    """
    from chalicelib.models.transactions import Transaction

    now = now_iso()
    group_id = new_id()
    group = Group(group_id, name=name, description=description, label=label, owner_id=caller.user_id,
                  member_count=1, created_at=now, directory_key=directory_key(group_id))
    owner = GroupMember.of(group.group_id, caller.user_id, role=OWNER, joined_at=now)
    with Transaction() as transaction:
        transaction.put("circle", group, condition=Group.group_id.does_not_exist())
        transaction.put("owner", owner, condition=GroupMember.user_id.does_not_exist())
    return group_view(group, owner)


def _group_and_membership(group_id: str, user_id: str) -> tuple[Group, GroupMember | None]:
    group, membership = batch_get([(Group, group_id, None), (GroupMember, *GroupMember.key(group_id, user_id))])
    if group is None:
        raise NotFound(f"No circle {group_id}")
    return group, membership


def get_group(caller: Caller, group_id: str) -> GroupOut:
    return group_view(*_group_and_membership(group_id, caller.user_id))


def list_by_label(caller: Caller, label: str, page: PageRequest) -> Page:
    """Newest circles of a label first: one Query, and one batched read for the caller's memberships."""
    results = Group.by_label.query(label, scan_index_forward=False, limit=page.limit,
                                   last_evaluated_key=page.start_key(Group.by_label, label))
    groups = list(results)
    memberships = batch_get([(GroupMember, *GroupMember.key(group.group_id, caller.user_id)) for group in groups])
    items = [group_view(group, membership) for group, membership in zip(groups, memberships, strict=True)]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def list_mine(caller: Caller, page: PageRequest) -> Page:
    results = GroupMember.by_user.query(caller.user_id, limit=page.limit,
                                       last_evaluated_key=page.start_key(GroupMember.by_user, caller.user_id))
    memberships = list(results)
    groups = batch_get([(Group, membership.group_id, None) for membership in memberships])
    items = [group_view(group, membership) for group, membership in zip(groups, memberships, strict=True)
             if group is not None]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


def join(caller: Caller, group_id: str) -> MembershipOut:
    """Idempotent: joining a circle one already belongs to changes nothing."""
    _, membership = _group_and_membership(group_id, caller.user_id)
    if membership is None:  # a racing join of the same caller may put it first: answer with theirs
        membership = put_unless_present(GroupMember.of(group_id, caller.user_id, role=MEMBER,
                                                             joined_at=now_iso()))
    return MembershipOut(group_id=group_id, member=True, role=membership.role)


def leave(caller: Caller, group_id: str) -> MembershipOut:
    """Idempotent; the owner cannot leave their own circle (409)."""
    _, membership = _group_and_membership(group_id, caller.user_id)
    if membership is not None:
        if membership.role == OWNER:
            raise Conflict("The owner cannot leave their own circle", code="OwnerCannotLeave")
        delete_if(membership, GroupMember.role != OWNER)
    return MembershipOut(group_id=group_id, member=False, role=None)


def member_count_delta(change: Change) -> int:
    """How a GroupMembers change moves its circle's `member_count`: the owner's INSERT was counted
    when the circle was created, in the same transaction."""
    if change.kind == "INSERT" and change.item.get("role") == OWNER:
        return 0
    return change.count_delta


def member_count_moves(change: Change) -> list[tuple[Counter, str, int]]:
    delta = member_count_delta(change)
    if not delta:
        return []
    return [(Counter(Group, change.item["group_id"], "member_count"), change.effect_id("group-member-count"), delta)]


@per_batch
def count_members(changes: Sequence[Change]) -> BatchFailures:
    """GroupMembers stream: member_count moves exactly once per join and leave, summed per batch (one
    update of a circle per batch)."""
    return sum_changes_once(changes, member_count_moves)
