"""Live rooms' pure rules: client messages, chat limits and sampling, shards, events and stats."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import live as rules
from chalicelib.domain.changes import Change


@pytest.mark.parametrize("raw, expected", [
    ('{"action": "ping"}', rules.ClientMessage("ping")),
    ('{"action": "chat", "text": "  hi  "}', rules.ClientMessage("chat", text="hi")),
    ('{"action": "chat", "text": "' + "x" * 200 + '"}', rules.ClientMessage("chat", text="x" * 200)),
    ('{"action": "like", "count": 50}', rules.ClientMessage("like", count=50)),
    ('{"action": "like"}', rules.ClientMessage("like", count=1)),
])
def test_well_formed_messages_parse(raw, expected):
    assert rules.parse_client_message(raw) == expected


@pytest.mark.parametrize("raw, field", [
    ("not json", "message"), ("[1]", "message"), (None, "message"), ('{"action": "dance"}', "action"),
    ('{"action": "chat", "text": "' + "x" * 201 + '"}', "text"), ('{"action": "chat", "text": "   "}', "text"),
    ('{"action": "chat", "text": 5}', "text"), ('{"action": "like", "count": 51}', "count"),
    ('{"action": "like", "count": 0}', "count"), ('{"action": "like", "count": true}', "count"),
    ('{"action": "like", "count": 2.5}', "count"),
])
def test_bad_messages_are_refused_naming_the_field(raw, field):
    with pytest.raises(rules.LiveInputError) as refused:
        rules.parse_client_message(raw)
    assert refused.value.code == "BadRequest" and refused.value.message.startswith(field)


def test_one_chat_message_per_two_seconds():
    assert not rules.chat_too_soon(None, 10_000)
    assert rules.chat_too_soon(10_000, 11_999)
    assert not rules.chat_too_soon(10_000, 12_000)


def test_chat_is_sampled_only_above_5000_viewers_and_never_the_hosts():
    assert rules.chat_sample_probability(5000) == 1.0 and not rules.chat_is_capped(5000, False)
    assert rules.chat_is_capped(5001, False) and not rules.chat_is_capped(100_000, True)
    # at 100,000 viewers all chatting at the limit (50,000 a second) ~80 candidates a second reach the cap
    assert 100_000 / 2 * rules.chat_sample_probability(100_000) == pytest.approx(4 * rules.CHAT_PER_SECOND)
    assert rules.CHAT_SLOTS_PER_SHARD * rules.CHAT_SLOT_SHARDS == rules.CHAT_PER_SECOND


def test_100000_joins_spread_evenly_over_the_connection_shards():
    shards = Counter(rules.connection_key("room", f"conn-{i}") for i in range(100_000))
    assert len(shards) == rules.CONNECTION_SHARDS
    per_minute = max(shards.values())
    assert per_minute / 60 < 1000 / 2  # items a second per partition key: two writes a join, far under 1,000 WCU
    assert rules.lookup_key("abc=") == "conn#abc=" and rules.is_lookup_key("conn#abc=")
    assert not rules.is_lookup_key(rules.connection_key("room", "abc="))


def test_room_changes_become_events_with_ids_from_the_record():
    old = {"room_id": "r", "status": "scheduled", "like_count": 10, "viewer_count": 3, "peak_viewers": 3}
    new = {**old, "status": "live", "like_count": 25, "viewer_count": 5, "peak_viewers": 5, "pin_id": "p1",
           "pinned_product_id": "prod", "coupon_drop": {"drop_id": "d1", "campaign_id": "c", "title": "10 off"}}
    events = rules.room_events(old, new, "seq-9")
    by_type = {e["type"]: e for e in events}
    assert by_type["status"]["status"] == "live" and by_type["pin"]["product_id"] == "prod"
    assert by_type["likes"] == {"type": "likes", "event_id": "likes:r:25", "total": 25, "delta": 15}
    assert by_type["viewers"]["count"] == 5 and by_type["viewers"]["event_id"] == "viewers:r:seq-9"
    assert by_type["coupon"]["campaign_id"] == "c"
    assert rules.room_events(old, new, "seq-9") == events  # a replay carries the same ids
    assert rules.room_events(new, new, "seq-10") == []  # nothing changed, nothing said
    first = rules.room_events(None, new, "s")  # an INSERT: no status change to announce
    assert first and not any(e["type"] == "status" for e in first)


def test_above_5000_viewers_a_batch_goes_out_as_one_bundled_frame():
    events = [rules.event("chat", "a"), rules.event("likes", "b", total=1, delta=1)]
    assert rules.frames_for(events, 5000, "f") == events
    (frame,) = rules.frames_for(events, 5001, "f")
    assert frame["type"] == "bundle" and frame["events"] == events


def test_live_soon_is_due_ten_minutes_ahead_and_the_visit_rate_divides_safely():
    now = datetime(2026, 11, 11, tzinfo=UTC)
    assert rules.soon_notice_due(now + timedelta(minutes=10), now)
    assert not rules.soon_notice_due(now + timedelta(minutes=10, seconds=1), now)
    assert rules.visit_rate(0, 0) == 0.0 and rules.visit_rate(4, 10) == 0.4 and rules.visit_rate(1, 3) == 0.3333


def _change(kind: str, keys: dict, old: dict | None, new: dict | None, seq: str = "1") -> Change:
    return Change(table="jianghu-test-live-activity", kind=kind, keys=keys, old=old, new=new, sequence_number=seq)


def test_activity_records_move_the_rooms_counters():
    from chalicelib.services.live_effects import activity_moves, room_moves, shard_totals

    def shard(kind: str, shard: int, seq: str = "1", **totals) -> Change:
        image = {"room_id": "r", "kind": kind, "activity_key": f"r#{kind}#{shard}", **totals}
        return _change("MODIFY", {}, image, image, seq)

    batch = [shard("likes", 7, amount=12), shard("likes", 7, "2", amount=20), shard("likes", 7, "1", amount=12),
             shard("likes", 9, "3", amount=3), shard("viewers", 4, "4", joins=5, leaves=1, uniques=4),
             shard("viewers", 4, "5", joins=6, leaves=2, uniques=4)]
    totals = shard_totals(batch)
    # a replayed older total is below the newest; every total is folded by its highest value
    assert totals == {"r": {"likes#7": 20, "likes#9": 3, "joins#4": 6, "leaves#4": 2, "uniques#4": 4}}
    kept = {"likes#7": 10, "joins#4": 5, "leaves#4": 1}
    assert room_moves(totals["r"], kept) == {"like_count": 13, "viewer_count": 0, "unique_viewers": 4}
    assert list(activity_moves(batch[0])) == []  # shards are folded, not summed with markers
    visit = _change("INSERT", {}, None, {"room_id": "r", "kind": "visit"})
    assert [d for _, _, d in activity_moves(visit)] == [{"store_visitors": 1}]
    assert list(activity_moves(_change("INSERT", {}, None, {"room_id": "r", "kind": "mute"}))) == []
    assert list(activity_moves(_change("REMOVE", {}, {"room_id": "r", "kind": "visit"}, None))) == []
