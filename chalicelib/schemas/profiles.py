from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.domain.names import MAX_DISPLAY_NAME, check_display_name
from chalicelib.schemas.base import Labels, RequestModel, ResponseModel
from chalicelib.schemas.cards import UserCard

DisplayName = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_DISPLAY_NAME), AfterValidator(check_display_name)
]
Bio = Annotated[str, StringConstraints(max_length=500)]


class UpdateMe(RequestModel):
    display_name: DisplayName
    bio: Bio | None = None
    labels: Labels | None = None


class ExpertLevel(ResponseModel):
    label: str
    level: int
    score: int | None = None


class MerchantBlock(ResponseModel):
    store_name: str
    tier: str | None = None
    badge: str | None = None


class Relationship(ResponseModel):
    """The caller's view of another user: do I follow them, do they follow me, do I block them."""

    following: bool
    followed_by: bool
    blocking: bool


class ProfileOut(ResponseModel):
    user_id: str
    display_name: str
    bio: str
    labels: list[str]
    follower_count: int
    following_count: int
    points: int
    expert: list[ExpertLevel]
    merchant: MerchantBlock | None = None
    created_at: str | None = None
    relationship: Relationship | None = Field(None, description="On `GET /users/{user_id}`: the caller's view")


class UserRef(ResponseModel):
    user_id: str
    display_name: str
    since: str | None = None
    user: UserCard


class BlockedUserOut(ResponseModel):
    user_id: str
    since: str
    user: UserCard


class FollowState(ResponseModel):
    user_id: str
    following: bool


class BlockState(ResponseModel):
    user_id: str
    blocked: bool


class LabelOut(ResponseModel):
    id: str
    name: str


class LabelList(ResponseModel):
    items: list[LabelOut]


class HealthOut(ResponseModel):
    status: str
