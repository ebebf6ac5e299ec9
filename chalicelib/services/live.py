"""Live rooms over HTTP: create (with its Amazon IVS channel), read, start, end, pin, drop a coupon,
mute, shop-visit events, stats and the chat replay.

What viewers see moves through the stream path: a route writes the room (status, pin, coupon drop)
and the LiveRooms stream broadcasts it (`services.live_effects`).
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.config import get_settings
from chalicelib.domain import live as rules
from chalicelib.domain.ids import iso, new_id, now_iso, utc_now
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.models.base import batch_get, get_or_404, get_or_none, update_if
from chalicelib.models.live import CouponDrop, LiveActivity, LiveChatMessage, LiveRoom
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models

if TYPE_CHECKING:
    from chalicelib.schemas.live import ChatMessageOut, CreateRoom, DropOut, IngestOut, RoomOut, StatsOut
else:
    (
        ChatMessageOut, CreateRoom, DropOut, IngestOut, RoomOut, StatsOut,
    ) = lazy_models(
        "chalicelib.schemas.live",
        "ChatMessageOut", "CreateRoom", "DropOut", "IngestOut", "RoomOut", "StatsOut",
    )

NOTIFY_JOB = "live-notify"


# -- Amazon IVS -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _ivs(region: str, endpoint_url: str | None):
    import boto3

    return boto3.client("ivs", region_name=region, endpoint_url=endpoint_url)


def ivs_client():
    """IVS through boto3: AWS when deployed, the local stack's (or the tests') moto otherwise."""
    return _ivs(get_settings().region, os.environ.get("AWS_ENDPOINT_URL") or None)


def create_channel(room_id: str, host_id: str) -> dict:
    """One low-latency channel per room; the create call also returns its stream key (host only)."""
    response = ivs_client().create_channel(
        name=f"{get_settings().stage}-{room_id}"[:128], latencyMode="LOW", type="STANDARD",
        tags={"room_id": room_id, "host_id": host_id[:256]},
    )
    return {"channel_arn": response["channel"]["arn"], "playback_url": response["channel"]["playbackUrl"],
            "ingest_endpoint": response["channel"]["ingestEndpoint"], "stream_key": response["streamKey"]["value"]}


def stop_stream(channel_arn: str) -> None:
    """The room ended: cut the broadcaster's stream. No stream running (`ChannelNotBroadcasting`) is
    the usual case; anything else is logged and the room still ends (moto has no StopStream)."""
    from botocore.exceptions import ClientError

    try:
        ivs_client().stop_stream(channelArn=channel_arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ChannelNotBroadcasting":
            from chalicelib.observability import logger

            logger.warning("ivs stop_stream failed", extra={"channel_arn": channel_arn, "error": str(error)})


# -- presenting -------------------------------------------------------------------------------------
def present_rooms(rooms: list[LiveRoom]) -> list[RoomOut]:
    """Rooms with their hosts' and products' cards: one BatchGetItem (two if a store is unknown)."""
    from chalicelib.services.cards import read_cards

    if not rooms:
        return []
    product_ids = [str(p) for room in rooms for p in room.product_ids or []]
    cards = read_cards(user_ids=[room.host_id for room in rooms], product_ids=product_ids,
                       merchant_of={str(p): room.host_id for room in rooms for p in room.product_ids or []})
    return [room_out(room, cards.users[room.host_id], [cards.products[str(p)] for p in room.product_ids or []])
            for room in rooms]


def room_out(room: LiveRoom, host, products) -> RoomOut:
    return RoomOut(
        room_id=room.room_id, host_id=room.host_id, host=host, title=room.title,
        labels=[str(label) for label in room.labels or []], status=room.status,  # type: ignore[arg-type]
        scheduled_at=room.scheduled_at, started_at=room.started_at, ended_at=room.ended_at,
        playback_url=room.playback_url, products=products, pinned_product_id=room.pinned_product_id,
        viewer_count=max(int(room.viewer_count or 0), 0), peak_viewers=int(room.peak_viewers or 0),
        like_count=int(room.like_count or 0), created_at=room.created_at,
    )


def _room(room_id: str, *, consistent: bool = False) -> LiveRoom:
    return get_or_404(LiveRoom, room_id, what="live room", consistent_read=consistent)


def _hosted(caller: Caller, room_id: str) -> LiveRoom:
    room = _room(room_id, consistent=True)
    if room.host_id != caller.user_id:
        raise Forbidden("Only the room's host may do this")
    return room


# -- rooms ------------------------------------------------------------------------------------------
def _own_products(caller: Caller, product_ids: list[str]) -> None:
    from chalicelib.models.advice import Product

    if not product_ids:
        return
    found = batch_get([(Product, product_id, None) for product_id in product_ids])
    for product_id, product in zip(product_ids, found, strict=True):
        if product is None:
            raise BadRequest(f"product_ids: no product {product_id}")
        if product.merchant_id != caller.user_id:  # type: ignore[attr-defined]
            raise Forbidden(f"product_ids: {product_id} is not one of your products")


def create_room(caller: Caller, body: CreateRoom) -> RoomOut:
    from chalicelib.services.cards import read_cards

    _own_products(caller, list(body.product_ids))
    room_id = new_id()
    channel = create_channel(room_id, caller.user_id)
    now = now_iso()
    room = LiveRoom(room_id, host_id=caller.user_id, title=body.title.strip(), labels=list(body.labels),
                    product_ids=list(body.product_ids), status=rules.SCHEDULED, scheduled_at=body.scheduled_at,
                    created_at=now, viewer_count=0, peak_viewers=0, like_count=0, unique_viewers=0,
                    product_clicks=0, store_visitors=0, campaign_ids=[], **channel)
    soon_now = body.scheduled_at is not None and rules.soon_notice_due(_instant(body.scheduled_at), utc_now())
    if body.scheduled_at is not None and not soon_now:
        room.soon_key = rules.SOON_PENDING  # the scheduled handler sends live_soon 10 minutes before
    if soon_now:
        room.soon_notified_at = now
    room.save()
    if soon_now:
        start_notify_job(room_id, "live_soon")  # less than 10 minutes ahead: at once
    product_ids = list(body.product_ids)
    cards = read_cards(user_ids=[caller.user_id], product_ids=product_ids,
                       merchant_of=dict.fromkeys(product_ids, caller.user_id))
    return room_out(room, cards.users[caller.user_id], [cards.products[p] for p in product_ids])


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def get_room(room_id: str) -> RoomOut:
    return present_rooms([_room(room_id)])[0]


def list_rooms(label: str | None, status: str | None, page: PageRequest) -> Page:
    """Rooms of one status (default live), newest first: one Query of `by_status`, filtered by label
    (a filtered page may be short; `next_cursor` goes on)."""
    from chalicelib.domain.labels import LABEL_IDS

    status = status or rules.LIVE
    start = page.start_key(LiveRoom.by_status, status)  # a bad cursor is named first, whatever else is wrong
    if status not in rules.STATUSES:
        raise BadRequest(f"status: one of {', '.join(rules.STATUSES)}")
    if label is not None and label not in LABEL_IDS:
        raise BadRequest(f"label: unknown label {label}")
    condition = LiveRoom.labels.contains(label) if label else None
    results = LiveRoom.by_status.query(status, scan_index_forward=False, limit=page.limit, filter_condition=condition,
                                       last_evaluated_key=start)
    rooms = list(results)
    return Page(items=present_rooms(rooms), next_cursor=page.next_cursor(results.last_evaluated_key))


def host_rooms(user_id: str, page: PageRequest) -> Page:
    from chalicelib.models.users import UserProfile

    results = LiveRoom.by_host.query(user_id, scan_index_forward=False, limit=page.limit,
                                     last_evaluated_key=page.start_key(LiveRoom.by_host, user_id))
    rooms = list(results)
    # the first page checks the host exists: an erased host's ended rooms stay (GET /live/{id}, with the
    # deleted-user card) but are no one's list
    if page.position is None and batch_get([(UserProfile, user_id, None)])[0] is None:
        raise NotFound(f"No user {user_id}")
    return Page(items=present_rooms(rooms), next_cursor=page.next_cursor(results.last_evaluated_key))


def ingest(caller: Caller, room_id: str) -> IngestOut:
    room = _hosted(caller, room_id)
    return IngestOut(endpoint=room.ingest_endpoint, stream_key=room.stream_key)


def start(caller: Caller, room_id: str) -> RoomOut:
    room = _hosted(caller, room_id)
    if room.status == rules.ENDED:
        raise Conflict("The room has ended", code="Ended")
    if room.status == rules.SCHEDULED:
        now = now_iso()
        # Once: a second start (a retry) finds it live. The LiveRooms stream tells followers.
        update_if(room, actions=[LiveRoom.status.set(rules.LIVE), LiveRoom.started_at.set(now),
                                 LiveRoom.soon_key.remove()],
                  condition=LiveRoom.status == rules.SCHEDULED)
    return get_room_consistent(room_id)


def end(caller: Caller, room_id: str) -> RoomOut:
    room = _hosted(caller, room_id)
    if room.status != rules.ENDED:
        update_if(room, actions=[LiveRoom.status.set(rules.ENDED), LiveRoom.ended_at.set(now_iso()),
                                 LiveRoom.soon_key.remove()],
                  condition=LiveRoom.status != rules.ENDED)
        stop_stream(room.channel_arn)
    return get_room_consistent(room_id)


def get_room_consistent(room_id: str) -> RoomOut:
    return present_rooms([_room(room_id, consistent=True)])[0]


def _open(room: LiveRoom) -> None:
    if room.status == rules.ENDED:
        raise Conflict("The room has ended", code="Ended")


def pin(caller: Caller, room_id: str, product_id: str) -> RoomOut:
    from chalicelib.services.products import own_product

    room = _hosted(caller, room_id)
    _open(room)
    own_product(caller, product_id)
    if room.pinned_product_id != product_id:  # pinning what is pinned is no new pin
        room.update(actions=[LiveRoom.pinned_product_id.set(product_id), LiveRoom.pin_id.set(new_id())])
    return get_room_consistent(room_id)


def drop_coupon(caller: Caller, room_id: str, campaign_id: str) -> DropOut:
    """The host's own, active campaign drops into the room; viewers redeem it through
    `POST /coupons/{campaign_id}/redeem` (the sharded stock's rules: never oversold)."""
    from chalicelib.services.coupons import campaign_view, own_campaign

    room = _hosted(caller, room_id)
    _open(room)
    campaign = own_campaign(caller, campaign_id)
    view = campaign_view(campaign)
    if view.status != "active":
        raise Conflict(f"The campaign is {view.status.replace('_', ' ')}", code="Ended")
    drop = CouponDrop(drop_id=new_id(), campaign_id=campaign_id, title=campaign.title)
    actions: list = [LiveRoom.coupon_drop.set(drop)]
    if campaign_id not in (room.campaign_ids or []):
        actions.append(LiveRoom.campaign_ids.set(LiveRoom.campaign_ids.append([campaign_id])))
    room.update(actions=actions)
    return DropOut(campaign_id=campaign_id, title=campaign.title, remaining=view.remaining)


def mute(caller: Caller, room_id: str, user_id: str) -> None:
    _hosted(caller, room_id)
    if user_id == caller.user_id:
        raise BadRequest("user_id: the host cannot mute themselves")
    LiveActivity(rules.mute_key(room_id), user_id, room_id=room_id, kind="mute", created_at=now_iso(),
                 viewer_id=user_id).save()


def is_muted(room_id: str, user_id: str) -> bool:
    return get_or_none(LiveActivity, rules.mute_key(room_id), user_id) is not None


def record_event(caller: Caller, room_id: str, kind: str, product_id: str | None) -> None:
    """A viewer clicked a product or visited the store from the room. Clicks all count; visits count
    once per user (the item's key is the user). The LiveActivity stream sums them into the room."""
    from chalicelib.models.base import put_unless_present

    room = _room(room_id)
    if room.status == rules.SCHEDULED:
        raise Conflict("The room has not started")
    if kind == "product_click":
        event_id = new_id()
        LiveActivity(rules.activity_key(room_id, "click", event_id), event_id, room_id=room_id, kind="click",
                     product_id=product_id, created_at=now_iso()).save()
    else:
        put_unless_present(LiveActivity(rules.activity_key(room_id, "visit", caller.user_id), caller.user_id,
                                         room_id=room_id, kind="visit", created_at=now_iso(),
                                         viewer_id=caller.user_id))


def stats(caller: Caller, room_id: str) -> StatsOut:
    from chalicelib.models.points import Campaign
    from chalicelib.services.coupons import campaign_view

    room = _hosted(caller, room_id)
    campaign_ids = [str(c) for c in room.campaign_ids or []]
    campaigns = batch_get([(Campaign, c, None) for c in campaign_ids]) if campaign_ids else []
    redeemed = sum(campaign_view(c).redeemed for c in campaigns if isinstance(c, Campaign))
    unique, visitors = int(room.unique_viewers or 0), int(room.store_visitors or 0)
    return StatsOut(unique_viewers=unique, peak_viewers=int(room.peak_viewers or 0),
                    product_clicks=int(room.product_clicks or 0), store_visitors=visitors,
                    coupon_redemptions=redeemed, visit_rate=rules.visit_rate(visitors, unique))


def chat_page(room_id: str, page: PageRequest) -> Page:
    """The broadcast chat, oldest first: one Query per chat shard, in parallel, merged by message id
    (the room is read only when the first page is empty)."""
    import json

    from chalicelib.models.sharded import ShardedList, read_sharded_page

    partitions = rules.chat_keys(room_id)
    listing = ShardedList(model=LiveChatMessage, shard_partitions=[{"chat_key": key} for key in partitions],
                          key_names=frozenset({"chat_key", "message_id"}),
                          order_key=lambda message: message.message_id, ascending=True)

    def query_shard(shard: int, start: dict | None, limit: int):
        return LiveChatMessage.query(partitions[shard], scan_index_forward=True, limit=limit,
                                     last_evaluated_key=start)

    messages, next_cursor = read_sharded_page(listing, query_shard, page)
    if not messages and page.position is None:
        _room(room_id)
    items = [ChatMessageOut(message_id=m.message_id, text=m.text, user=json.loads(m.user_card), sent_at=m.sent_at)
             for m in messages]
    return Page(items=items, next_cursor=next_cursor)


# -- notices ----------------------------------------------------------------------------------------
def start_notify_job(room_id: str, kind: str) -> None:
    """A job walks the host's followers and writes each a `kind` notice (ids derived from the room,
    so a redone step rewrites them). Called once per room and kind: the caller first set the room's
    flag under a condition."""
    from chalicelib.services import jobs

    jobs.start(f"{NOTIFY_JOB}:{room_id}:{kind}", NOTIFY_JOB, room_id, phase=kind)


def send_due_soon_notices(now: datetime | None = None) -> int:
    """The scheduled handler's work: every room whose start is 10 minutes away or less and whose
    `live_soon` has not gone out. One Query of the sparse `by_soon` index; each room's flag moves
    under a condition, so two overlapping runs notify once."""
    now = now or utc_now()
    due = LiveRoom.by_soon.query(rules.SOON_PENDING, LiveRoom.scheduled_at <= iso(now + rules.LIVE_SOON_LEAD))
    sent = 0
    for room in due:
        actions = [LiveRoom.soon_key.remove(), LiveRoom.soon_notified_at.set(iso(now))]
        if update_if(LiveRoom(room.room_id), actions=actions, condition=LiveRoom.soon_key.exists()):
            start_notify_job(room.room_id, "live_soon")
            sent += 1
    return sent


def live_feed_items(posts: list) -> dict:
    """`{post_id: LiveFeedItemOut}` for feed posts that stand for live rooms: the rooms in one
    BatchGetItem, their cards in one more (a room gone is left out)."""
    from chalicelib.schemas.live import LiveFeedItemOut

    if not posts:
        return {}
    rooms = batch_get([(LiveRoom, post.live_room_id, None) for post in posts])
    found = [(post, room) for post, room in zip(posts, rooms, strict=True) if isinstance(room, LiveRoom)]
    shown = present_rooms([room for _, room in found])
    return {post.post_id: LiveFeedItemOut(live=out, created_at=post.created_at)
            for (post, _), out in zip(found, shown, strict=True)}
