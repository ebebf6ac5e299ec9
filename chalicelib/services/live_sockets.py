"""The room's WebSocket: connect, client messages and disconnect (API Gateway's `$connect`,
`$default` and `$disconnect` routes, Chalice's websocket handlers in `chalicelib.api.live_ws`).

A refused message is an `error` event to that connection only; nothing here raises to the gateway.
"""

from __future__ import annotations

import json
import random
import time

from chalicelib.domain import live as rules
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.errors import DomainError
from chalicelib.models.base import get_or_none, put_unless_present
from chalicelib.models.live import LiveActivity, LiveChatMessage, LiveConnection, LiveRoom
from chalicelib.services import live_effects

_random = random.Random()


def connect(connection_id: str, query: dict[str, str]) -> int:
    """200 to accept; 401 for a bad or expired token, 404 for an unknown room, 410 for an ended one.
    A scheduled room is a waiting room: its sockets get its start as a `status` event."""
    from chalicelib.auth import verify_token
    from chalicelib.services.cards import user_cards
    from chalicelib.services.profiles import ensure_caller_profile

    room_id, token = query.get("room_id") or "", query.get("token") or ""
    if not token:
        return 401
    try:
        caller = verify_token(token)
    except DomainError as error:
        return error.status
    if not room_id or len(room_id) > 128:
        return 404
    room = cached_room(room_id)
    if room is None:
        return 404
    if room.status == rules.ENDED:
        return 410
    ensure_caller_profile(caller)  # a user the sign-up trigger missed gets one, as at a first write
    card = user_cards([caller.user_id])[caller.user_id]
    now, expires = now_iso(), live_effects.touch()
    is_host = int(caller.user_id == room.host_id)
    LiveConnection(rules.lookup_key(connection_id), connection_id, room_id=room_id, user_id=caller.user_id,
                   is_host=is_host, user_card=card.model_dump_json(), connected_at=now, expires_at=expires).save()
    LiveConnection(rules.connection_key(room_id, connection_id), connection_id, room_id=room_id,
                   user_id=caller.user_id, is_host=is_host, connected_at=now, expires_at=expires).save()
    first_view = False
    if not is_host:
        viewer = LiveActivity(rules.activity_key(room_id, "viewer", caller.user_id), caller.user_id,
                              room_id=room_id, kind="viewer", created_at=now, viewer_id=caller.user_id)
        first_view = put_unless_present(viewer) is viewer
    counts: list = [LiveActivity.joins.add(1), LiveActivity.room_id.set(room_id), LiveActivity.kind.set("viewers")]
    if first_view:
        counts.append(LiveActivity.uniques.add(1))
    LiveActivity(rules.viewer_shard_key(room_id, connection_id), "viewers").update(actions=counts)
    return 200


def disconnect(connection_id: str) -> None:
    live_effects.forget_connection(connection_id)


def message(connection_id: str, body: str | None) -> None:
    """One client frame: chat, like or ping. Any refusal is an `error` event to this socket."""
    try:
        parsed = rules.parse_client_message(body)
        lookup = _lookup(connection_id)
        if parsed.action == "ping":
            live_effects.send_to(connection_id, {"type": "pong", "event_id": new_id()})
            return
        room = _open_room(lookup)
        if parsed.action == "like":
            _like(lookup, connection_id, parsed.count)
        else:
            _chat(lookup, room, parsed.text)
    except rules.LiveInputError as refused:
        live_effects.send_to(connection_id, rules.error_event(refused.code, refused.message, new_id()))


ROOM_CACHE_SECONDS = 1.0
_rooms: dict[str, tuple[float, LiveRoom | None]] = {}


def cached_room(room_id: str) -> LiveRoom | None:
    """The room as read at most once a second per Lambda container: 100,000 viewers' joins and
    messages must not each read the room's one item (3,000 read units a second per partition). Its
    status and viewer count may trail by that second."""
    now = time.monotonic()
    found = _rooms.get(room_id)
    if found is not None and found[0] > now:
        return found[1]
    room = get_or_none(LiveRoom, room_id)
    if len(_rooms) > 1024:
        _rooms.clear()
    _rooms[room_id] = (now + ROOM_CACHE_SECONDS, room)
    return room


def _lookup(connection_id: str) -> LiveConnection:
    lookup = get_or_none(LiveConnection, rules.lookup_key(connection_id), connection_id)
    if lookup is None:
        raise rules.LiveInputError("Gone", "This connection has left its room; connect again")
    return lookup


def _open_room(lookup: LiveConnection) -> LiveRoom:
    room = cached_room(lookup.room_id)
    if room is None or room.status == rules.ENDED:
        raise rules.LiveInputError("Ended", "The room has ended")
    return room


def _like(lookup: LiveConnection, connection_id: str, count: int) -> None:
    room_id = lookup.room_id
    LiveActivity(rules.like_key(room_id, connection_id), "likes").update(actions=[
        LiveActivity.amount.add(count), LiveActivity.room_id.set(room_id), LiveActivity.kind.set("likes")])


def _chat(lookup: LiveConnection, room: LiveRoom, text: str) -> None:
    """Rate limit (the viewer's item for the room), then sampling (above 5,000 viewers), then the mute (read
    only for what would be broadcast), then the per-second cap; what passes is stored and broadcast."""
    from pynamodb.exceptions import UpdateError

    now_ms = int(time.time() * 1000)
    limit = LiveConnection(rules.chatter_key(lookup.user_id), lookup.room_id)
    try:  # one message per 2 s per viewer in the room, whatever number of sockets they hold
        limit.update(actions=[LiveConnection.last_chat_ms.set(now_ms), LiveConnection.room_id.set(lookup.room_id),
                              LiveConnection.user_id.set(lookup.user_id),
                              LiveConnection.expires_at.set(now_ms // 1000 + rules.CONNECTION_TTL_SECONDS)],
                     condition=LiveConnection.last_chat_ms.does_not_exist()
                     | (LiveConnection.last_chat_ms <= now_ms - rules.CHAT_INTERVAL_MS))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise rules.LiveInputError("TooManyRequests", "At most one chat message every 2 seconds") from None
        raise
    viewers = int(room.viewer_count or 0)
    message_id = new_id(now_ms)
    capped = rules.chat_is_capped(viewers, bool(lookup.is_host))
    if capped and _random.random() >= rules.chat_sample_probability(viewers):
        return  # sampled out: not broadcast, not stored
    if get_or_none(LiveActivity, rules.mute_key(room.room_id), lookup.user_id) is not None:
        raise rules.LiveInputError("Muted", "The host has muted you in this room")
    if capped and not _take_chat_slot(room.room_id, now_ms // 1000, message_id):
        return
    LiveChatMessage(rules.chat_key(room.room_id, message_id), message_id, room_id=room.room_id,
                    user_id=lookup.user_id, user_card=lookup.user_card or json.dumps({}), text=text,
                    sent_at=now_iso()).save()


def _take_chat_slot(room_id: str, second: int, message_id: str) -> bool:
    """One of the second's `CHAT_PER_SECOND` slots (in shards), or False when they are taken."""
    from pynamodb.exceptions import UpdateError

    item = LiveActivity(rules.chat_slot_key(room_id, second, message_id), "slots")
    try:
        item.update(actions=[LiveActivity.amount.add(1), LiveActivity.room_id.set(room_id),
                             LiveActivity.kind.set("chatslot"), LiveActivity.expires_at.set(second + 120)],
                    condition=LiveActivity.amount.does_not_exist() | (LiveActivity.amount < rules.CHAT_SLOTS_PER_SHARD))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
