"""Live rooms (Taobao Live): rooms, their viewers' connections, activity counters and chat.

Key schemas (Double-11: 100,000 viewers in one room touch no hot key):
- `LiveRoom` (`room_id`): the room and its trailing counters, summed per stream batch.
  Indexes: `by_host` (host_id, room_id), `by_status` (status, room_id), `by_soon` (sparse:
  soon_key "pending" while a `live_soon` notice is due, scheduled_at).
- `LiveConnection` (`connection_key` = "<room_id>#<shard>", `connection_id`): one per socket,
  the room's sockets spread over `domain.live.CONNECTION_SHARDS` partition keys; plus one lookup
  item per socket (`connection_key` = "conn#<connection_id>", `connection_id`) naming its room,
  since `$disconnect` and `$default` events carry only the connection id.
- `LiveActivity` (`activity_key` = "<room_id>#<kind>#<shard>", `item_id`): like counter shards,
  viewer counter shards (joins, leaves, first views), the distinct viewers and store visitors,
  product clicks, chat-cap slots and mutes ("<room_id>#mute", user id).
- `LiveChat` (`room_id`, `message_id`): the chat that was broadcast, for replay.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import BaseModel, table_meta


class RoomsByHost(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_host"
        projection = AllProjection()

    host_id = UnicodeAttribute(hash_key=True)
    room_id = UnicodeAttribute(range_key=True)


class RoomsByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    room_id = UnicodeAttribute(range_key=True)


class RoomsDueSoon(GlobalSecondaryIndex):
    """Sparse: only rooms whose `live_soon` notice has not gone out carry `soon_key`."""

    class Meta:
        index_name = "by_soon"
        projection = AllProjection()

    soon_key = UnicodeAttribute(hash_key=True)
    scheduled_at = UnicodeAttribute(range_key=True)


class CouponDrop(MapAttribute):
    drop_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    title = UnicodeAttribute()


class LiveRoom(BaseModel):
    Meta = table_meta("LiveRooms")
    room_id = UnicodeAttribute(hash_key=True)
    host_id = UnicodeAttribute()
    title = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    product_ids = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()  # scheduled | live | ended
    scheduled_at = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    # Amazon IVS: the channel, what viewers play, and what only the host reads
    channel_arn = UnicodeAttribute()
    playback_url = UnicodeAttribute()
    ingest_endpoint = UnicodeAttribute()
    stream_key = UnicodeAttribute()
    pinned_product_id = UnicodeAttribute(null=True)
    pin_id = UnicodeAttribute(null=True)  # a new id per pin: the pin event's identity
    coupon_drop = CouponDrop(null=True)
    campaign_ids = ListAttribute(of=UnicodeAttribute, default=list)  # every campaign dropped here
    # trailing counters, summed per stream batch
    viewer_count = NumberAttribute(default=0)
    peak_viewers = NumberAttribute(default=0)
    like_count = NumberAttribute(default=0)
    shard_totals: MapAttribute = MapAttribute(null=True)  # {"likes#7": n, "joins#3": n, ...} as counted here
    unique_viewers = NumberAttribute(default=0)
    product_clicks = NumberAttribute(default=0)
    store_visitors = NumberAttribute(default=0)
    soon_key = UnicodeAttribute(null=True)
    soon_notified_at = UnicodeAttribute(null=True)
    started_notified_at = UnicodeAttribute(null=True)
    feed_post_id = UnicodeAttribute(null=True)
    by_host = RoomsByHost()
    by_status = RoomsByStatus()
    by_soon = RoomsDueSoon()


class LiveConnection(BaseModel):
    Meta = table_meta("LiveConnections")
    connection_key = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)
    room_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    is_host = NumberAttribute(default=0)
    user_card = UnicodeAttribute(null=True)  # JSON of the user card, on the lookup item (chat's author)
    last_chat_ms = NumberAttribute(null=True)  # on a `chatter#<user>` item (range: the room): the chat limit
    connected_at = UnicodeAttribute(null=True)  # on a socket's items (not on a chat-limit item)
    expires_at = NumberAttribute(null=True)  # TTL: a socket API Gateway dropped without $disconnect


class ActivityByViewer(GlobalSecondaryIndex):
    """Sparse, keys only: one user's own markers (first view, store visit, mute) in every room, for
    their export and erasure (`services.personal_data`)."""

    class Meta:
        index_name = "by_viewer"
        projection = KeysOnlyProjection()

    viewer_id = UnicodeAttribute(hash_key=True)
    activity_key = UnicodeAttribute(range_key=True)


class LiveActivity(BaseModel):
    Meta = table_meta("LiveActivity")
    activity_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # likes | viewer | visit | click | mute
    joins = NumberAttribute(null=True)  # a viewer shard's sockets joined, left, first views: only grow
    leaves = NumberAttribute(null=True)
    uniques = NumberAttribute(null=True)
    amount = NumberAttribute(null=True)  # a like shard's total, a chat-cap slot counter
    product_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: the per-second chat cap's counters
    viewer_id = UnicodeAttribute(null=True)  # on a user's own markers only (viewer, visit, mute): by_viewer
    by_viewer = ActivityByViewer()


class ChatByUser(GlobalSecondaryIndex):
    """Keys only: one author's messages in every room, for their export and erasure."""

    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)


class LiveChatMessage(BaseModel):
    """One broadcast chat message, under one of its room's `domain.live.chat_key` shards."""

    Meta = table_meta("LiveChat")
    chat_key = UnicodeAttribute(hash_key=True)  # "<room_id>#<shard of message_id>"
    message_id = UnicodeAttribute(range_key=True)
    room_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_card = UnicodeAttribute()  # JSON of the author's card as it was when they spoke
    text = UnicodeAttribute()
    sent_at = UnicodeAttribute()
    by_user = ChatByUser()
