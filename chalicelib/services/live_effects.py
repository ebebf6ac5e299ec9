"""Live rooms on the stream path: counters summed per batch, broadcasts, notices and the feed item.

- LiveActivity stream (`count_activity`): the like and viewer shards' monotonic totals (likes,
  joins, leaves, first views) are folded into the room, one conditional update per room per batch
  (`fold_shard_totals`); first store visits and clicks are summed exactly once with markers.
- LiveRooms stream: every change of a room (status, pin, coupon drop, likes, viewers) is broadcast
  to its sockets (`broadcast_room_changes`: one frame set per room per batch, so likes and viewer
  counts go out at most about once a second: the handlers' 1 s batching window); a start tells the
  host's followers (`announce_live_start`: the `live_started` notice job and the feed item).
- LiveChat stream: stored (= broadcast) chat goes to the room's sockets (`broadcast_chat`).
Event ids come from the records (`domain.live.room_events`), so a replay resends the same ids.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import live as rules
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import cause_id, epoch_seconds, id_time_ms, new_id
from chalicelib.models.base import get_or_none
from chalicelib.models.live import LiveConnection, LiveRoom
from chalicelib.models.transactions import Transaction
from chalicelib.services.effects import sum_changes_once

# -- likes, views, visits, clicks -------------------------------------------------------------------
_ACTIVITY_COUNTERS = {"visit": "store_visitors", "click": "product_clicks"}


@dataclass(frozen=True)
class RoomCounters:
    """The room's summed counters (`{attribute: delta}` per record): one update of the room for all of
    them (a transaction may not name one item twice)."""

    room_id: str
    gone_if_false: bool = True

    def write(self, transaction: Transaction, label: str, deltas: Sequence[Any]) -> bool:
        sums: dict[str, int] = defaultdict(int)
        for delta in deltas:
            for attribute, value in delta.items():
                sums[attribute] += value
        actions = [getattr(LiveRoom, attribute).add(value) for attribute, value in sorted(sums.items()) if value]
        if actions:
            transaction.update(label, LiveRoom(self.room_id), actions=actions, condition=LiveRoom.room_id.exists())
        return True


def activity_moves(change: Change) -> Iterable[tuple[Any, str, Any]]:
    """First store visits and clicks: +1 on the room's counter, exactly once (markers)."""
    item = change.item
    attribute = _ACTIVITY_COUNTERS.get(str(item.get("kind")))
    if attribute and change.kind == "INSERT":
        return [(RoomCounters(item["room_id"]), change.effect_id("live-activity"), {attribute: 1})]
    return []


SHARDS_PER_UPDATE = 32  # a condition per shard: 32 stay far inside DynamoDB's 4 KB of expression
#: The monotonic totals a shard item keeps, and the room counter each moves (leaves move viewers down).
SHARD_TOTALS = {"amount": "likes", "joins": "joins", "leaves": "leaves", "uniques": "uniques"}


def shard_totals(changes: Sequence[Change]) -> dict[str, dict[str, int]]:
    """`{room_id: {"<total>#<shard>": highest value seen}}` from the batch's like and viewer shard
    records. Each total only grows, so a batch's highest is its newest, and a replayed older record
    is below what the room has already counted."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for change in changes:
        item = change.new or {}
        if item.get("kind") not in ("likes", "viewers") or change.kind == "REMOVE":
            continue
        shard = str(item["activity_key"]).rsplit("#", 1)[-1]
        for attribute, family in SHARD_TOTALS.items():
            if item.get(attribute) is not None:
                key = f"{family}#{shard}"
                totals[item["room_id"]][key] = max(totals[item["room_id"]].get(key, 0), int(item[attribute]))
    return totals


def room_moves(moves: dict[str, int], kept: dict[str, int]) -> dict[str, int]:
    """What raising the kept shard totals to `moves` does to the room's counters."""
    sums: dict[str, int] = defaultdict(int)
    for key, total in moves.items():
        sums[key.split("#", 1)[0]] += total - kept.get(key, 0)
    return {"like_count": sums["likes"], "viewer_count": sums["joins"] - sums["leaves"],
            "unique_viewers": sums["uniques"]}


def fold_shard_totals(room_id: str, totals: dict[str, int]) -> None:
    """The room keeps each shard total it has counted (`shard_totals`) and the counters they make:
    ONE conditional update per room per batch (per 32 shards) raises both, `peak_viewers` with them.
    No marker per record: at 100,000 viewers a marker each would be hundreds of transactions a
    second on the room. A replay is below what is kept and moves nothing; a lost race reads again."""
    from chalicelib.models.base import update_if

    items = sorted(totals.items())
    for start in range(0, len(items), SHARDS_PER_UPDATE):
        chunk = dict(items[start:start + SHARDS_PER_UPDATE])
        for _ in range(10):
            room = get_or_none(LiveRoom, room_id, consistent_read=True)
            if room is None:
                return
            kept = {str(k): int(v) for k, v in (room.shard_totals.as_dict() if room.shard_totals else {}).items()}
            moves = {key: total for key, total in chunk.items() if total > kept.get(key, 0)}
            if not moves:
                break
            counters = room_moves(moves, kept)
            viewers = max(int(room.viewer_count or 0) + counters["viewer_count"], 0)
            actions: list = [LiveRoom.like_count.add(counters["like_count"]),
                             LiveRoom.unique_viewers.add(counters["unique_viewers"]),
                             LiveRoom.viewer_count.set(viewers),
                             LiveRoom.peak_viewers.set(rules.peak_after(int(room.peak_viewers or 0), viewers))]
            condition = LiveRoom.viewer_count == room.viewer_count
            if room.shard_totals is None:  # the room's first: the map itself is written
                actions.append(LiveRoom.shard_totals.set(moves))
                condition &= LiveRoom.shard_totals.does_not_exist()
            else:
                for key, total in moves.items():
                    path = LiveRoom.shard_totals[key]  # type: ignore[index]
                    actions.append(path.set(total))
                    condition &= (path == kept[key]) if key in kept else path.does_not_exist()
            if update_if(LiveRoom(room_id), actions=actions, condition=condition):
                break
        else:
            from chalicelib.errors import Busy

            raise Busy("room totals kept losing races")


@per_batch
def count_activity(changes: Sequence[Change]) -> BatchFailures:
    failed = sum_changes_once(changes, activity_moves)
    for room_id, totals in shard_totals([c for c in changes if c.sequence_number not in failed]).items():
        try:
            fold_shard_totals(room_id, totals)
        except Exception as exc:  # noqa: BLE001 - that room's shard records are delivered again
            failed.update({c.sequence_number: exc for c in changes if (c.new or {}).get("room_id") == room_id
                           and (c.new or {}).get("kind") in ("likes", "viewers")})
    return failed


# -- broadcasting -----------------------------------------------------------------------------------
def connection_ids(room_id: str) -> list[str]:
    """Every socket of the room: one Query per shard, the shards read in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    def read(key: str) -> list[str]:
        return [c.connection_id for c in LiveConnection.query(key, attributes_to_get=["connection_id"])]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [cid for ids in pool.map(read, rules.connection_keys(room_id)) for cid in ids]


def forget_connection(connection_id: str) -> None:
    """A socket that is gone (410, or `$disconnect`): its lookup and room items go, and its viewer
    shard counts one leave (once: only the call that deleted the lookup item counts it)."""
    from chalicelib.models.base import delete_if
    from chalicelib.models.live import LiveActivity

    lookup = get_or_none(LiveConnection, rules.lookup_key(connection_id), connection_id)
    if lookup is None:
        return
    LiveConnection(rules.connection_key(lookup.room_id, connection_id), connection_id).delete()
    if delete_if(lookup, LiveConnection.connection_id.exists()):
        LiveActivity(rules.viewer_shard_key(lookup.room_id, connection_id), "viewers").update(actions=[
            LiveActivity.leaves.add(1), LiveActivity.room_id.set(lookup.room_id), LiveActivity.kind.set("viewers")])


def send_frames(connection_ids_: list[str], frames: list[dict]) -> None:
    from chalicelib.services.broadcast import send_to_connections

    for frame in frames:
        send_to_connections(connection_ids_, frame, on_gone=forget_connection)


def broadcast(room_id: str, events: list[dict], viewer_count: int, frame_id: str) -> None:
    if not events:
        return
    ids = connection_ids(room_id)
    if ids:
        send_frames(ids, rules.frames_for(events, viewer_count, frame_id))


def send_to(connection_id: str, frame: dict) -> None:
    send_frames([connection_id], [frame])


def _complete(events: list[dict]) -> list[dict]:
    """Pins carry the product's card, drops the coupon's stock (read once per batch)."""
    from chalicelib.models.points import Campaign
    from chalicelib.services.cards import product_cards
    from chalicelib.services.coupons import campaign_view

    product_ids = [e["product_id"] for e in events if e["type"] == "pin" and e.get("product_id")]
    cards = product_cards(product_ids) if product_ids else {}
    for e in events:
        if e["type"] == "pin":
            product_id = e.pop("product_id", None)
            card = cards.get(product_id) if product_id else None
            e["product"] = card.model_dump(mode="json") if card else None
        elif e["type"] == "coupon":
            campaign = get_or_none(Campaign, e["campaign_id"])
            e["remaining"] = campaign_view(campaign).remaining if campaign else 0
    return events


@per_batch
def broadcast_room_changes(changes: Sequence[Change]) -> BatchFailures:
    """Each room's changes of the batch, as events, to its sockets. A send that fails is logged by
    the sender, never retried by failing the record: a re-run would resend everything to everyone."""
    by_room: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.new:
            by_room[change.new["room_id"]].append(change)
    failed: BatchFailures = {}
    for room_id, room_changes in by_room.items():
        try:
            events = [e for c in room_changes for e in rules.room_events(c.old, c.new, c.sequence_number)]
            events = _dedupe_counts(events)
            last = room_changes[-1].new or {}
            broadcast(room_id, _complete(events), int(last.get("viewer_count") or 0),
                      f"frame:{room_id}:{room_changes[-1].sequence_number}")
        except Exception as exc:  # noqa: BLE001 - a broken room fails its records, not the batch
            failed.update(dict.fromkeys((c.sequence_number for c in room_changes), exc))
    return failed


def _dedupe_counts(events: list[dict]) -> list[dict]:
    """Within one batch, one `likes` (its deltas summed) and one `viewers` event (the last)."""
    likes = [e for e in events if e["type"] == "likes"]
    viewers = [e for e in events if e["type"] == "viewers"]
    rest = [e for e in events if e["type"] not in ("likes", "viewers")]
    if likes:
        rest.append({**likes[-1], "delta": sum(e["delta"] for e in likes)})
    if viewers:
        rest.append(viewers[-1])
    return rest


def chat_event(item: dict) -> dict:
    return rules.event("chat", f"chat:{item['message_id']}", message_id=item["message_id"], text=item["text"],
                       user=json.loads(item["user_card"]), sent_at=item["sent_at"])


@per_batch
def broadcast_chat(changes: Sequence[Change]) -> BatchFailures:
    by_room: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.kind == "INSERT" and change.new:
            by_room[change.new["room_id"]].append(change)
    failed: BatchFailures = {}
    for room_id, inserts in by_room.items():
        try:
            room = get_or_none(LiveRoom, room_id)
            viewers = int(room.viewer_count or 0) if room else 0
            broadcast(room_id, [chat_event(c.new or {}) for c in inserts], viewers,
                      f"frame:{room_id}:{inserts[-1].sequence_number}")
        except Exception as exc:  # noqa: BLE001
            failed.update(dict.fromkeys((c.sequence_number for c in inserts), exc))
    return failed


# -- a room starts: notices and the feed item -------------------------------------------------------
def announce_live_start(change: Change) -> None:
    """scheduled -> live: the host's followers get `live_started` (a job over their followers: the
    notices' ids come from the room, so a redone step or a replayed record writes none twice) and a
    `kind: "live"` feed item: a post item of the room, fanned out (or pulled) like any post."""
    from chalicelib.models.base import put_unless_present
    from chalicelib.models.posts import Post
    from chalicelib.services.live import start_notify_job

    if change.kind != "MODIFY" or not change.new or not change.old:
        return
    if change.old.get("status") != rules.SCHEDULED or change.new.get("status") != rules.LIVE:
        return
    room = change.new
    start_notify_job(room["room_id"], "live_started")
    started_ms = _ms(room.get("started_at")) or id_time_ms(room["room_id"])
    put_unless_present(Post(cause_id(started_ms, f"live:{room['room_id']}"), author_id=room["host_id"],
                            home_author_id=room["host_id"], text=room["title"], labels=room.get("labels") or [],
                            product_ids=[], live_room_id=room["room_id"], created_at=room.get("started_at")))


def _ms(text: str | None) -> int | None:
    from datetime import datetime

    if not text:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


NOTIFY_PAGE_SIZE = 200


def run_notify_step(job) -> Any:
    """One page of the host's followers, each a notice (`live_started` or `live_soon`, the job's phase)."""
    from chalicelib.models.graph import follower_ids_page
    from chalicelib.services import jobs
    from chalicelib.services.notifications import notify

    room = get_or_none(LiveRoom, job.subject)
    if room is None:
        return jobs.StepResult(processed=0, done=True)
    kind = job.phase
    # the host's followers index is sharded (models/graph.py): the page walks its shards in turn
    followers, cursor = follower_ids_page(room.host_id, NOTIFY_PAGE_SIZE, jobs.cursor_of(job))
    at_ms = _ms(room.started_at if kind == "live_started" else room.soon_notified_at) or id_time_ms(room.room_id)
    data = {"room_id": room.room_id, "host_id": room.host_id, "title": room.title}
    if kind == "live_soon":
        data["scheduled_at"] = room.scheduled_at or ""
    for follower_id in followers:
        notify(follower_id, kind, data, cause=f"{kind}:{room.room_id}", at_ms=at_ms)
    return jobs.StepResult(processed=len(followers), phase=kind, cursor=cursor, done=cursor is None)


def touch() -> int:
    """Connection items live at most 2 h 10 min (`expires_at`): API Gateway closes a socket at 2 h."""
    return epoch_seconds() + rules.CONNECTION_TTL_SECONDS


def fresh_event_id() -> str:
    return new_id()
