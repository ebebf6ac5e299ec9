from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from chalicelib.schemas.base import Label, RequestModel, ResponseModel
from chalicelib.schemas.posts import not_blank

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(not_blank)]
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


class MembershipOut(ResponseModel):
    group_id: str
    member: bool
    role: str | None = None
