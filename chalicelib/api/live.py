"""Live rooms (Taobao Live): rooms, their IVS channel, pins, coupon drops, mutes, visits and stats.

The room's WebSocket is in `chalicelib.api.live_ws`; what viewers see goes out through the streams
(`services.live_effects`).
"""

from typing import TYPE_CHECKING

from chalicelib.domain.labels import LABEL_IDS
from chalicelib.http import Api, Query
from chalicelib.schemas import lazy_models
from chalicelib.services import live

if TYPE_CHECKING:
    from chalicelib.schemas.live import (
        ChatMessageOut,
        CreateRoom,
        DropCouponIn,
        DropOut,
        IngestOut,
        MuteIn,
        PinIn,
        RoomEventIn,
        RoomOut,
        StatsOut,
    )
else:
    (
        ChatMessageOut, CreateRoom, DropCouponIn, DropOut, IngestOut, MuteIn, PinIn, RoomEventIn, RoomOut, StatsOut,
    ) = lazy_models(
        "chalicelib.schemas.live",
        "ChatMessageOut", "CreateRoom", "DropCouponIn", "DropOut", "IngestOut", "MuteIn", "PinIn", "RoomEventIn",
        "RoomOut", "StatsOut",
    )

api = Api(__name__, tag="live")
blueprint = api.blueprint


@api.route("POST", "/live", summary="Schedule a live room (merchants only): an IVS channel is created for it",
           body=CreateRoom, response=RoomOut, status=201, group="merchants", errors=(403,))
def create_room(ctx):
    return live.create_room(ctx.require_group("merchants"), ctx.body)


@api.route("GET", "/live", summary="Live rooms of one status (default live), newest first, optionally of a label",
           response=RoomOut, paginated=True,
           query={"label": Query("A label of the catalogue", enum=tuple(sorted(LABEL_IDS))),
                  "status": Query("scheduled | live | ended (default live)", enum=("scheduled", "live", "ended"))})
def list_rooms(ctx):
    return live.list_rooms(ctx.query.get("label"), ctx.query.get("status"), ctx.page)


@api.route("GET", "/live/{room_id}", summary="A live room", response=RoomOut)
def get_room(ctx, room_id):
    return live.get_room(room_id)


@api.route("GET", "/users/{user_id}/live", summary="A host's rooms, newest first", response=RoomOut, paginated=True)
def host_rooms(ctx, user_id):
    return live.host_rooms(user_id, ctx.page)


@api.route("GET", "/live/{room_id}/ingest", summary="The IVS ingest endpoint and stream key (host only)",
           response=IngestOut, errors=(403,))
def ingest(ctx, room_id):
    return live.ingest(ctx.user, room_id)


@api.route("POST", "/live/{room_id}/start", summary="Go live (host only): followers get live_started and a feed item",
           response=RoomOut, errors=(403, "Ended"))
def start_room(ctx, room_id):
    return live.start(ctx.user, room_id)


@api.route("POST", "/live/{room_id}/end", summary="End the room (host only, idempotent)", response=RoomOut,
           errors=(403,))
def end_room(ctx, room_id):
    return live.end(ctx.user, room_id)


@api.route("POST", "/live/{room_id}/pin", summary="Pin one of the host's products (host only)", body=PinIn,
           response=RoomOut, errors=(403, "Ended"))
def pin_product(ctx, room_id):
    return live.pin(ctx.user, room_id, ctx.body.product_id)


@api.route("POST", "/live/{room_id}/coupons",
           summary="Drop an own active campaign into the room (viewers redeem it at /coupons/{campaign_id}/redeem)",
           body=DropCouponIn, response=DropOut, status=201, errors=(403, "Ended"))
def drop_coupon(ctx, room_id):
    return live.drop_coupon(ctx.user, room_id, ctx.body.campaign_id)


@api.route("POST", "/live/{room_id}/mute", summary="Stop someone's chat in this room (host only)", body=MuteIn,
           status=204, errors=(403,))
def mute(ctx, room_id):
    live.mute(ctx.user, room_id, ctx.body.user_id)


@api.route("POST", "/live/{room_id}/events", summary="A viewer clicked a product or visited the store from the room",
           body=RoomEventIn, status=204, errors=(409,))
def room_event(ctx, room_id):
    live.record_event(ctx.user, room_id, ctx.body.type, ctx.body.product_id)


@api.route("GET", "/live/{room_id}/stats", summary="Viewers, clicks, store visits and coupon redemptions (host only)",
           response=StatsOut, errors=(403,))
def room_stats(ctx, room_id):
    return live.stats(ctx.user, room_id)


@api.route("GET", "/live/{room_id}/chat", summary="The chat that was broadcast, oldest first",
           response=ChatMessageOut, paginated=True)
def chat_replay(ctx, room_id):
    return live.chat_page(room_id, ctx.page)
