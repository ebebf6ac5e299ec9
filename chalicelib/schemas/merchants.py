"""Merchant profiles, the judges' scores and Good Finds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.schemas.base import NOT_BLANK, Labels, RequestModel, ResponseModel
from chalicelib.schemas.cards import ProductCard

StoreName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), NOT_BLANK]
Description = Annotated[str, StringConstraints(max_length=2000)]
Comment = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Tier = Literal["platinum", "gold", "silver", "bronze"]
Badge = Literal["tier-platinum", "tier-gold", "tier-silver", "tier-bronze"]


class UpdateMerchant(RequestModel):
    store_name: StoreName
    description: Description = ""
    labels: Labels = Field(default_factory=list)


class MerchantOut(ResponseModel):
    merchant_id: str
    store_name: str
    description: str
    labels: list[str]
    tier: Tier | None = None
    badge: Badge | None = None
    judge_count: int
    mean_score: float | None = Field(None, description="The panel's mean score, once at least 3 judges scored")
    created_at: str | None = None
    updated_at: str | None = None


class RateMerchant(RequestModel):
    score: Annotated[int, Field(ge=0, le=100)]
    comment: Comment | None = None


class RatingOut(ResponseModel):
    merchant_id: str
    judge_id: str
    score: int
    comment: str | None = None
    updated_at: str


class GoodFindOut(ResponseModel):
    product_id: str
    title: str
    price_cents: int
    image_url: str | None = None
    labels: list[str]
    merchant_id: str
    store_name: str
    tier: Tier
    badge: Badge
    created_at: str
    product: ProductCard = Field(description="The product's card (its price, rating and store as they are now)")
