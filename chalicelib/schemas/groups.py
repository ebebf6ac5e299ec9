from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, StringConstraints

from chalicelib.schemas.base import NOT_BLANK, Label, RequestModel, ResponseModel
from chalicelib.schemas.posts import not_blank

if TYPE_CHECKING:
    from chalicelib.models.groups import Group, GroupMember

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(not_blank), NOT_BLANK]
GroupDescription = Annotated[str, StringConstraints(max_length=2000)]


class CreateGroup(RequestModel):
    name: GroupName
    description: GroupDescription
    label: Label


class GroupOut(ResponseModel):
    group_id: str
    name: str
    description: str
    label: str
    owner_id: str
    member_count: int
    created_at: str
    is_member: bool
    role: str | None = None

    @classmethod
    def from_item(cls, group: Group, membership: GroupMember | None) -> GroupOut:
        """The circle as the caller sees it: with their membership, if any."""
        return cls(
            group_id=group.group_id,
            name=group.name,
            description=group.description,
            label=group.label,
            owner_id=group.owner_id,
            member_count=int(group.member_count or 0),
            created_at=group.created_at,
            is_member=membership is not None,
            role=membership.role if membership is not None else None,
        )


class MembershipOut(ResponseModel):
    group_id: str
    member: bool
    role: str | None = None
