"""Request and response models of activity sharing: the switches, shared activities, wish-list visibility."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.schemas.base import PatchModel, RequestModel, ResponseModel
from chalicelib.schemas.cards import ProductCard, ProductStore, UserCard

ActivityType = Literal["wishlist_add", "review", "answer", "store_follow", "coupon_redeemed"]
Visibility = Literal["public", "followers", "private"]


class SharingOut(ResponseModel):
    """Which kinds of the caller's activity reach their followers: every kind is off until turned on."""

    wishlist_add: bool
    review: bool
    answer: bool
    store_follow: bool
    coupon_redeemed: bool


class EditSharing(PatchModel):
    """The kinds to switch, `{kind: bool}`; at least one. Turning a kind off withdraws what it shared."""

    wishlist_add: bool | None = None
    review: bool | None = None
    answer: bool | None = None
    store_follow: bool | None = None
    coupon_redeemed: bool | None = None


class WishlistSettings(RequestModel):
    visibility: Visibility


class WishlistSettingsOut(ResponseModel):
    visibility: Visibility


class QuestionRef(ResponseModel):
    question_id: str
    title: str | None = None


class CampaignRef(ResponseModel):
    campaign_id: str
    title: str | None = None


class ActivityOut(ResponseModel):
    activity_id: str
    type: ActivityType
    user: UserCard
    product: ProductCard | None = Field(None, description="wishlist_add and review")
    question: QuestionRef | None = Field(None, description="answer: the question answered")
    store: ProductStore | None = Field(None, description="store_follow and coupon_redeemed: the store")
    campaign: CampaignRef | None = Field(None, description="coupon_redeemed")
    created_at: str


class ActivityItemOut(ResponseModel):
    """A shared activity as a home-feed item."""

    kind: Literal["activity"] = "activity"
    activity: ActivityOut
