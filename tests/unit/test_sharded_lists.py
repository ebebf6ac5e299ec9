"""Sharded lists without AWS: shard choice, the page merge and the cursor, against fake shards.

A fake shard answers a Query as DynamoDB does: its items in list order after the exclusive start
key, at most `limit`, with a `LastEvaluatedKey` when it stopped at the limit (even when nothing is
left) or when its page ran out of bytes first (the 1 MB rule, here a per-shard cap).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.sharded_lists import (
    DONE,
    MAX_SHARDS_PER_PAGE,
    ShardRead,
    cursor_position,
    merge_page,
    shard_keys,
    shard_of,
    shards_to_read,
    start_states,
    states_from_cursor,
)

KEY_NAMES = frozenset({"pk", "id"})


def _partitions(shards):
    return [{"pk": key} for key in shard_keys("list", shards)]


def _position(item):
    score, item_id, shard = item
    return {"pk": {"S": f"list#{shard}"}, "id": {"S": item_id}}


def _order(item):
    return item[0]


class FakeShard:
    def __init__(self, shard, items, cap=None, ascending=False):
        # DynamoDB's order: by the sort key, largest first (ties in the index's own order, here the id),
        # or smallest first for a list read oldest first
        self.items = sorted(items, key=lambda item: (item[0], item[1]), reverse=not ascending)
        self.shard, self.cap, self.queries = shard, cap, 0

    def query(self, start, limit):
        self.queries += 1
        index = 0
        if start is not None:
            index = next(i for i, item in enumerate(self.items) if _position(item) == start) + 1
        stop = min(index + limit, index + self.cap if self.cap else len(self.items), len(self.items))
        page = self.items[index:stop]
        more = stop < len(self.items) or len(page) == limit or (self.cap is not None and len(page) == self.cap)
        return ShardRead(items=page, last_key=_position(page[-1]) if more and page else None)


def _page_through(shards, limit, *, max_pages=10_000, ascending=False):
    """Every page of the list, each through a JSON round trip of the cursor, as a client would."""
    states, pages, reads_per_page = start_states(len(shards)), [], []
    for _ in range(max_pages):
        to_read = shards_to_read(states)
        reads = {s: shards[s].query(states[s], limit) for s in to_read}
        reads_per_page.append(len(reads))
        merged = merge_page(states, reads, limit=limit, order_key=_order, position_of=_position,
                            ascending=ascending)
        pages.append(merged.items)
        if merged.finished:
            return pages, reads_per_page
        carried = json.loads(json.dumps(cursor_position(merged.states)))
        states = states_from_cursor(carried, shard_partitions=_partitions(len(shards)), key_names=KEY_NAMES)
    raise AssertionError("paging did not end")


def _world(scores, shard_count, caps=None, ascending=False):
    items = [(score, f"id{n:04d}", shard_of(f"id{n:04d}", shard_count)) for n, score in enumerate(scores)]
    shards = [FakeShard(s, [item for item in items if item[2] == s], (caps or {}).get(s), ascending)
              for s in range(shard_count)]
    return items, shards


SHARD_COUNTS = st.integers(min_value=1, max_value=MAX_SHARDS_PER_PAGE)


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(st.integers(min_value=0, max_value=10**6), unique=True, max_size=60),
       shard_count=SHARD_COUNTS, limit=st.integers(min_value=1, max_value=12))
def test_paging_a_sharded_list_of_unique_keys_gives_every_item_once_newest_first(ids, shard_count, limit):
    # Given items with unique order keys (time-sortable ids) spread over the shards
    items, shards = _world(ids, shard_count)
    # When a client pages through the list
    pages, reads_per_page = _page_through(shards, limit)
    seen = [item for page in pages for item in page]
    # Then it sees every item exactly once, in order, in full pages (only the last may be short)
    assert seen == sorted(items, key=_order, reverse=True)
    assert all(len(page) == limit for page in pages[:-1])
    assert max(reads_per_page) <= shard_count <= MAX_SHARDS_PER_PAGE


@settings(max_examples=300, deadline=None)
@given(scores=st.lists(st.integers(min_value=0, max_value=5), max_size=60),
       shard_count=SHARD_COUNTS, limit=st.integers(min_value=1, max_value=12),
       caps=st.dictionaries(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=4)))
def test_paging_with_tied_keys_and_short_reads_neither_skips_nor_repeats(scores, shard_count, limit, caps):
    # Given scores with many ties (a leaderboard), and shards whose reads stop early (the 1 MB rule)
    items, shards = _world(scores, shard_count, caps)
    # When a client pages through the list
    pages, _ = _page_through(shards, limit)
    seen = [item for page in pages for item in page]
    # Then every item comes exactly once, highest score first, and no page is over the limit
    assert sorted(seen) == sorted(items) and len(set(seen)) == len(seen)
    assert [_order(item) for item in seen] == sorted((_order(item) for item in items), reverse=True)
    assert all(len(page) <= limit for page in pages)


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.integers(min_value=0, max_value=5), max_size=60),
       shard_count=SHARD_COUNTS, limit=st.integers(min_value=1, max_value=12),
       caps=st.dictionaries(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=4)))
def test_an_ascending_list_pages_oldest_first_and_neither_skips_nor_repeats(scores, shard_count, limit, caps):
    # Given shards read smallest first (a live room's chat, oldest first), with ties and short reads
    items, shards = _world(scores, shard_count, caps, ascending=True)
    # When a client pages through the list
    pages, _ = _page_through(shards, limit, ascending=True)
    seen = [item for page in pages for item in page]
    # Then every item comes exactly once, smallest first
    assert sorted(seen) == sorted(items) and len(set(seen)) == len(seen)
    assert [_order(item) for item in seen] == sorted(_order(item) for item in items)
    assert all(len(page) <= limit for page in pages)


def test_a_page_takes_the_newest_items_of_all_shards_and_remembers_each_shards_place():
    # Given two shards: ids 9, 6, 2 and 8, 7, 1
    left = FakeShard(0, [(9, "a9", 0), (6, "a6", 0), (2, "a2", 0)])
    right = FakeShard(1, [(8, "b8", 1), (7, "b7", 1), (1, "b1", 1)])
    states = start_states(2)
    # When a page of three is merged from reads of three each
    merged = merge_page(states, {0: left.query(None, 3), 1: right.query(None, 3)}, limit=3,
                        order_key=_order, position_of=_position)
    # Then it holds 9, 8, 7, and each shard resumes after the last item taken from it
    assert [item[1] for item in merged.items] == ["a9", "b8", "b7"]
    assert merged.states == [_position((9, "a9", 0)), _position((7, "b7", 1))]
    assert not merged.finished


def test_a_shard_wholly_read_and_taken_is_done_and_no_longer_read():
    left, right = FakeShard(0, [(5, "a5", 0)]), FakeShard(1, [(9, "b9", 1), (8, "b8", 1), (7, "b7", 1), (3, "b3", 1)])
    merged = merge_page(start_states(2), {0: left.query(None, 2), 1: right.query(None, 2)}, limit=2,
                        order_key=_order, position_of=_position)
    assert [item[1] for item in merged.items] == ["b9", "b8"]
    assert merged.states[0] is None  # read but nothing taken: read again from the start
    merged = merge_page(merged.states, {0: left.query(None, 2), 1: right.query(merged.states[1], 2)}, limit=2,
                        order_key=_order, position_of=_position)
    assert [item[1] for item in merged.items] == ["b7", "a5"]
    assert merged.states == [DONE, _position((7, "b7", 1))] and shards_to_read(merged.states) == [1]


def test_a_shard_that_is_not_done_must_be_read():
    with pytest.raises(ValueError):
        merge_page([None, DONE], {}, limit=2, order_key=_order, position_of=_position)


@pytest.mark.parametrize("stable_id", ["q1", "01HZY3", "user-42"])
def test_an_items_shard_never_changes(stable_id):
    assert shard_of(stable_id, 4) == shard_of(stable_id, 4)
    assert 0 <= shard_of(stable_id, 4) < 4


@pytest.mark.parametrize("shards", [0, MAX_SHARDS_PER_PAGE + 1])
def test_a_list_has_no_more_shards_than_a_page_may_read(shards):
    with pytest.raises(ValueError):
        shard_of("q1", shards)


# -- the cursor ---------------------------------------------------------------------------------------
GOOD = {"pk": {"S": "list#1"}, "id": {"S": "x"}}


def test_a_cursor_round_trips_every_kind_of_state():
    states = [None, GOOD, DONE]
    partitions = [{"pk": "list#0"}, {"pk": "list#1"}, {"pk": "list#2"}]
    carried = json.loads(json.dumps(cursor_position(states)))
    assert states_from_cursor(carried, shard_partitions=partitions, key_names=KEY_NAMES) == states
    assert states_from_cursor(None, shard_partitions=partitions, key_names=KEY_NAMES) == [None] * 3


@pytest.mark.parametrize("position", [
    {"shards": [None, GOOD]},  # one shard too few
    {"shards": [None, GOOD, None, None]},  # one too many
    {"shards": [None, GOOD, None], "extra": 1},
    {"shards": "done"},
    {"other": [None, GOOD, None]},
    {"shards": [None, "finished", None]},
    {"shards": [None, 7, None]},
    {"shards": [None, {"pk": {"S": "list#1"}}, None]},  # a key attribute missing
    {"shards": [None, {**GOOD, "more": {"S": "y"}}, None]},  # one too many
    {"shards": [None, {**GOOD, "id": {"N": "nan"}}, None]},
    {"shards": [None, {**GOOD, "id": {"S": ""}}, None]},
    {"shards": [None, {**GOOD, "id": {"B": "eA=="}}, None]},
    {"shards": [None, {**GOOD, "id": "x"}, None]},
    {"shards": [None, {**GOOD, "id": {"S": "x", "N": "1"}}, None]},
    {"shards": [GOOD, None, None]},  # shard 1's position given for shard 0
    {"shards": [None, {**GOOD, "pk": {"S": "list#2"}}, None]},
])
def test_a_position_of_the_wrong_shape_is_refused(position):
    partitions = [{"pk": "list#0"}, {"pk": "list#1"}, {"pk": "list#2"}]
    with pytest.raises(ValueError):
        states_from_cursor(position, shard_partitions=partitions, key_names=KEY_NAMES)
