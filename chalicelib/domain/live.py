"""Rules of live rooms: shards, client messages, chat limits and sampling, events and stats.

Plain Python (no boto3, no PynamoDB). Scale (SPEC "Double-11"): 100,000 viewers in one room.
- Joins: a socket's items go to one of `CONNECTION_SHARDS` partition keys of its room (by a hash of
  the connection id): 100,000 joins a minute are ~52 writes a second per key.
- Likes: a like message adds to one of `LIKE_SHARDS` counter items (by connection): 100,000
  viewers each sending a like message a second are ~780 writes a second per key; the stream sums
  the shards' changes per batch into the room's `like_count` (one update per room per batch).
- Distinct viewers, store visitors and clicks: items under `ACTIVITY_SHARDS` keys per kind.
- Chat: one message per 2 s per viewer; above `SAMPLE_ABOVE_VIEWERS` viewers a room's chat is
  sampled (`chat_sample_probability`) then capped at `CHAT_PER_SECOND` a second (the host's pass).
  Below it every message is stored, so a room's stored chat is spread over `CHAT_SHARDS` partition
  keys (by message id): 5,000 viewers at the limit are 2,500 messages a second, 625 per key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.sharded_lists import shard_key, shard_keys, stable_shard

CONNECTION_SHARDS = 32
LIKE_SHARDS = 128
ACTIVITY_SHARDS = 32
CHAT_SLOT_SHARDS = 4  # the per-second chat cap's counter, in shards of CHAT_PER_SECOND / 4
CHAT_SHARDS = 4  # a room's stored chat (LiveChat), read back merged oldest first

SCHEDULED, LIVE, ENDED = "scheduled", "live", "ended"
STATUSES = (SCHEDULED, LIVE, ENDED)
LIVE_SOON_LEAD = timedelta(minutes=10)
SOON_PENDING = "pending"  # the `by_soon` index's one key: rooms whose live_soon notice is due

MAX_CHAT_CHARS = 200
CHAT_INTERVAL_MS = 2000  # per viewer and room, over all their sockets
MAX_LIKES_PER_MESSAGE = 50
SAMPLE_ABOVE_VIEWERS = 5000
CHAT_PER_SECOND = 20
BUNDLE_ABOVE_VIEWERS = 5000
CONNECTION_TTL_SECONDS = 2 * 3600 + 600  # API Gateway closes a WebSocket after 2 hours
EVENT_TYPES = ("chat", "likes", "viewers", "pin", "coupon", "status", "error")
ACTIVITY_TYPES = ("product_click", "store_visit")


def chat_key(room_id: str, message_id: str) -> str:
    """The LiveChat partition key of one stored message of the room."""
    return shard_key(room_id, stable_shard(message_id, CHAT_SHARDS))


def chat_keys(room_id: str) -> list[str]:
    return shard_keys(room_id, CHAT_SHARDS)


def connection_key(room_id: str, connection_id: str) -> str:
    return shard_key(room_id, stable_shard(connection_id, CONNECTION_SHARDS))


def connection_keys(room_id: str) -> list[str]:
    return shard_keys(room_id, CONNECTION_SHARDS)


def lookup_key(connection_id: str) -> str:
    """The partition key of a socket's lookup item: `$default`/`$disconnect` carry only its id."""
    return f"conn#{connection_id}"


def chatter_key(user_id: str) -> str:
    """The partition key of a user's chat-limit items (one per room, in LiveConnections): the limit
    is per viewer, whatever number of sockets they open, and spread by user, not by room."""
    return f"chatter#{user_id}"


def is_lookup_key(key: str) -> bool:
    return key.startswith("conn#")


def like_key(room_id: str, connection_id: str) -> str:
    return f"{room_id}#likes#{stable_shard(connection_id, LIKE_SHARDS)}"


def viewer_shard_key(room_id: str, connection_id: str) -> str:
    """The counter shard of a socket's joins and leaves (and its user's first view)."""
    return f"{room_id}#viewers#{stable_shard(connection_id, CONNECTION_SHARDS)}"


def activity_key(room_id: str, kind: str, stable_id: str) -> str:
    return f"{room_id}#{kind}#{stable_shard(stable_id, ACTIVITY_SHARDS)}"


def mute_key(room_id: str) -> str:
    return f"{room_id}#mute"


def chat_slot_key(room_id: str, second: int, message_id: str) -> str:
    return f"{room_id}#chatslot#{second}#{stable_shard(message_id, CHAT_SLOT_SHARDS)}"


CHAT_SLOTS_PER_SHARD = CHAT_PER_SECOND // CHAT_SLOT_SHARDS


# -- client messages -----------------------------------------------------------------------------
class LiveInputError(ValueError):
    """A client message refused: sent back to that connection as an `error` event."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClientMessage:
    action: str  # chat | like | ping
    text: str = ""
    count: int = 0


def parse_client_message(raw: str | bytes | None) -> ClientMessage:
    """A client frame as one of the three actions, or `LiveInputError` naming what is wrong."""
    try:
        data = json.loads(raw or "")
    except (ValueError, TypeError):
        raise LiveInputError("BadRequest", "message: must be a JSON object") from None
    if not isinstance(data, dict):
        raise LiveInputError("BadRequest", "message: must be a JSON object")
    action = data.get("action")
    if action == "ping":
        return ClientMessage("ping")
    if action == "chat":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise LiveInputError("BadRequest", "text: 1 to 200 characters")
        text = text.strip()
        if len(text) > MAX_CHAT_CHARS:
            raise LiveInputError("BadRequest", f"text: at most {MAX_CHAT_CHARS} characters")
        return ClientMessage("chat", text=text)
    if action == "like":
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LIKES_PER_MESSAGE:
            raise LiveInputError("BadRequest", f"count: an integer from 1 to {MAX_LIKES_PER_MESSAGE}")
        return ClientMessage("like", count=count)
    raise LiveInputError("BadRequest", "action: one of chat, like, ping")


def chat_too_soon(last_chat_ms: int | None, now_ms: int) -> bool:
    return last_chat_ms is not None and now_ms - last_chat_ms < CHAT_INTERVAL_MS


def chat_sample_probability(viewer_count: int) -> float:
    """The chance a viewer's chat is considered for broadcast. Up to `SAMPLE_ABOVE_VIEWERS` viewers,
    all of it; above, enough that the room's most possible chat (a message per viewer per 2 s)
    yields about 4 x `CHAT_PER_SECOND` candidates a second, which the per-second cap then trims:
    the cap's counter sees ~80 writes a second, not 50,000."""
    if viewer_count <= SAMPLE_ABOVE_VIEWERS:
        return 1.0
    most_per_second = viewer_count * 1000 / CHAT_INTERVAL_MS
    return min(1.0, 4 * CHAT_PER_SECOND / most_per_second)


def chat_is_capped(viewer_count: int, is_host: bool) -> bool:
    """Does this message need a slot of the room's per-second cap? (The host's always pass.)"""
    return viewer_count > SAMPLE_ABOVE_VIEWERS and not is_host


# -- events --------------------------------------------------------------------------------------
def event(kind: str, event_id: str, **fields: Any) -> dict[str, Any]:
    assert kind in EVENT_TYPES, kind
    return {"type": kind, "event_id": event_id, **fields}


def error_event(code: str, message: str, event_id: str) -> dict[str, Any]:
    return event("error", event_id, code=code, message=message)


def room_events(old: dict[str, Any] | None, new: dict[str, Any] | None, record_id: str) -> list[dict[str, Any]]:
    """What one change of a room tells its viewers (before product cards and coupon stock are
    filled in). Each event id is derived from the room and the stream record, so a replayed record
    carries the same ids and clients drop it."""
    if not new:
        return []
    old = old or {}
    room_id = new["room_id"]
    events: list[dict[str, Any]] = []
    if old.get("status") != new.get("status") and old:
        events.append(event("status", f"status:{room_id}:{new['status']}", status=new["status"]))
    if new.get("pin_id") and new.get("pin_id") != old.get("pin_id"):
        events.append(event("pin", f"pin:{room_id}:{new['pin_id']}", product_id=new.get("pinned_product_id")))
    drop = new.get("coupon_drop") or {}
    if drop and drop.get("drop_id") != (old.get("coupon_drop") or {}).get("drop_id"):
        events.append(event("coupon", f"coupon:{room_id}:{drop['drop_id']}", campaign_id=drop["campaign_id"],
                            title=drop["title"]))
    likes, old_likes = int(new.get("like_count") or 0), int(old.get("like_count") or 0)
    if likes != old_likes:
        events.append(event("likes", f"likes:{room_id}:{likes}", total=likes, delta=likes - old_likes))
    viewers, peak = int(new.get("viewer_count") or 0), int(new.get("peak_viewers") or 0)
    if (viewers, peak) != (int(old.get("viewer_count") or 0), int(old.get("peak_viewers") or 0)):
        events.append(event("viewers", f"viewers:{room_id}:{record_id}", count=max(viewers, 0), peak=peak))
    return events


def frames_for(events: list[dict[str, Any]], viewer_count: int, frame_id: str) -> list[dict[str, Any]]:
    """The frames a batch's events go out in: one by one, or above `BUNDLE_ABOVE_VIEWERS` viewers one
    `bundle` frame per batch (a batch is at most a second: the streams' batching window)."""
    if viewer_count > BUNDLE_ABOVE_VIEWERS and len(events) > 1:
        return [{"type": "bundle", "event_id": frame_id, "events": events}]
    return events


# -- scheduling and stats ------------------------------------------------------------------------
def soon_notice_due(scheduled_at: datetime, now: datetime) -> bool:
    return scheduled_at - now <= LIVE_SOON_LEAD


def visit_rate(store_visitors: int, unique_viewers: int) -> float:
    if unique_viewers <= 0:
        return 0.0
    return round(store_visitors / unique_viewers, 4)


def peak_after(peak: int, count: int) -> int:
    return max(peak, count)
