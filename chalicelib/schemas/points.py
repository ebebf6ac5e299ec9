"""Request and response models of points, leaderboards and coupons."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from chalicelib.domain.ids import iso, utc_now
from chalicelib.domain.points import MAX_CAMPAIGN_DAYS, parse_expiry, parse_instant
from chalicelib.schemas.base import RequestModel, ResponseModel, Title
from chalicelib.schemas.cards import UserCard

Cents = Annotated[int, Field(ge=0, le=100_000_000)]


class PointsOut(ResponseModel):
    balance: int
    lifetime_earned: int
    capped_earned_today: int = Field(description="Points from votes and helpful marks credited today (UTC)")
    daily_cap: int = Field(description="The most points votes and helpful marks can give in one UTC day")


class LedgerEntryOut(ResponseModel):
    entry_id: str
    amount: int = Field(description="Points that actually moved: negative for penalties, reversals and spending")
    reason: str
    ref: str = Field(description="What the entry is about: an answer, a review or a coupon campaign")
    created_at: str


class LeaderboardEntryOut(ResponseModel):
    user_id: str
    display_name: str
    user: UserCard
    label: str
    score: int
    level: int


def _expiry_example(schema: dict) -> None:
    """JSON Schema cannot say "in the future": an example that is, as of when the document was built."""
    schema["format"] = "date-time"
    schema["examples"] = [iso(utc_now() + timedelta(days=30))]


class CreateCampaign(RequestModel):
    title: Title
    discount_cents: Annotated[int, Field(gt=0, le=100_000_000)]
    min_spend_cents: Cents
    points_cost: Annotated[int, Field(ge=0, le=10_000_000)]
    total_quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    per_user_limit: Annotated[int, Field(ge=1, le=1000)]
    expires_at: Annotated[str, StringConstraints(min_length=10, max_length=40)] = Field(
        description=f"An RFC 3339 date-time with a zone, in the future and at most {MAX_CAMPAIGN_DAYS} days ahead",
        json_schema_extra=_expiry_example,
    )

    @field_validator("expires_at")
    @classmethod
    def _future_instant(cls, value: str) -> str:
        parse_expiry(value, utc_now())
        return value

    def expiry(self) -> datetime:
        return parse_instant(self.expires_at)


class CampaignOut(ResponseModel):
    campaign_id: str
    merchant_id: str
    title: str
    discount_cents: int
    min_spend_cents: int
    points_cost: int
    total_quantity: int
    remaining: int = Field(description="Coupons left, as the stock's tally knows: it may trail redemptions by seconds")
    per_user_limit: int
    expires_at: str
    created_at: str
    status: str = Field(description="active | sold_out | expired | ended")
    redeemed: int = Field(0, description="Coupons redeemed, as the stock's tally knows (it may trail by seconds)")
    used: int = Field(0, description="Coupons of this campaign used at checkout")


class CouponOut(ResponseModel):
    coupon_code: str
    campaign_id: str
    merchant_id: str
    title: str | None = None
    discount_cents: int
    min_spend_cents: int
    points_cost: int
    expires_at: str
    issued_at: str
    used_at: str | None = None
    status: str = Field(description="issued | used | expired")


class CouponLookupOut(ResponseModel):
    coupon_code: str
    campaign_id: str
    status: str = Field(description="issued | used | expired")
    title: str | None = None
    discount_cents: int
    min_spend_cents: int
    expires_at: str
    issued_at: str
    used_at: str | None = None
    owner: UserCard | None = Field(None, description="The shopper holding the coupon")


class UseCoupon(RequestModel):
    coupon_code: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    order_total_cents: Cents | None = Field(
        default=None, description="The order's total; when given, the coupon's minimum spend is checked"
    )
