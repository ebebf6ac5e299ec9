"""Request and response models of live rooms (the WebSocket events are in `domain.live`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from chalicelib.domain import live as rules
from chalicelib.domain.ids import iso, utc_now
from chalicelib.domain.points import parse_instant
from chalicelib.schemas.base import NOT_BLANK, Id, Labels, RequestModel, ResponseModel, Title
from chalicelib.schemas.cards import ProductCard, UserCard
from chalicelib.schemas.posts import MAX_PRODUCTS, _distinct, not_blank

MAX_SCHEDULE_DAYS = 90


def _schedule_example(schema: dict) -> None:
    schema["format"] = "date-time"
    schema["examples"] = [iso(utc_now() + timedelta(hours=2))]


class CreateRoom(RequestModel):
    title: Annotated[Title, AfterValidator(not_blank), NOT_BLANK]
    labels: Labels = []
    scheduled_at: Annotated[str, StringConstraints(min_length=10, max_length=40)] | None = Field(
        None, description=f"When the host plans to start: an RFC 3339 date-time with a zone, in the future and "
                          f"at most {MAX_SCHEDULE_DAYS} days ahead", json_schema_extra=_schedule_example)
    product_ids: Annotated[list[Id], Field(max_length=MAX_PRODUCTS, json_schema_extra={"uniqueItems": True}),
                           AfterValidator(_distinct)] = Field([], description="The host's own products")

    @field_validator("scheduled_at")
    @classmethod
    def _future(cls, value: str | None) -> str | None:
        if value is None:
            return None
        moment = parse_instant(value)
        now = utc_now()
        if moment <= now:
            raise ValueError("must be in the future")
        if moment > now + timedelta(days=MAX_SCHEDULE_DAYS):
            raise ValueError(f"must be within {MAX_SCHEDULE_DAYS} days")
        return iso(moment)


class RoomOut(ResponseModel):
    room_id: str
    host_id: str
    host: UserCard
    title: str
    labels: list[str]
    status: Literal["scheduled", "live", "ended"]
    scheduled_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    playback_url: str
    products: list[ProductCard]
    pinned_product_id: str | None = None
    viewer_count: int = Field(description="Sockets in the room now; may trail by about a second")
    peak_viewers: int
    like_count: int = Field(description="May trail the likes by about a second")
    created_at: str


class LiveFeedItemOut(ResponseModel):
    """A feed item of `kind: "live"`: a followed host's room that started."""

    kind: Literal["live"] = "live"
    live: RoomOut
    created_at: str = Field(description="When the room started")


class IngestOut(ResponseModel):
    endpoint: str = Field(description="The IVS ingest server: rtmps://<endpoint>:443/app/")
    stream_key: str


class PinIn(RequestModel):
    product_id: Id


class DropCouponIn(RequestModel):
    campaign_id: Id


class DropOut(ResponseModel):
    campaign_id: str
    title: str
    remaining: int


class MuteIn(RequestModel):
    user_id: Id


class RoomEventIn(RequestModel):
    type: Literal["product_click", "store_visit"]
    product_id: Id | None = None


class StatsOut(ResponseModel):
    unique_viewers: int
    peak_viewers: int
    product_clicks: int
    store_visitors: int = Field(description="Distinct users who visited the store from the room")
    coupon_redemptions: int = Field(description="Redemptions of the campaigns dropped in the room")
    visit_rate: float = Field(description="store_visitors / unique_viewers (0 with no viewers)")


class ChatMessageOut(ResponseModel):
    message_id: str
    text: Annotated[str, StringConstraints(max_length=rules.MAX_CHAT_CHARS)]
    user: UserCard
    sent_at: str
