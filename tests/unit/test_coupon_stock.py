"""Sharded coupon stock: sizing, allotments, shard choice and the grow-only tally, as plain rules."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import coupons as stock


def test_the_shard_count_keeps_every_shard_at_half_the_item_limit_at_the_target_rate():
    # Given the target of 10,000 redeems a second on one campaign
    shards = stock.shard_count(100_000)
    # Then each shard is planned at 25 tx/s, half the contract's 50 a second per item
    assert shards == stock.MAX_SHARDS == 400
    assert stock.TARGET_REDEEMS_PER_SECOND / shards == stock.SHARD_TRANSACTIONS_PER_SECOND
    assert stock.TARGET_REDEEMS_PER_SECOND / shards <= stock.ITEM_TRANSACTIONS_PER_SECOND_LIMIT / 2
    # And the bare minimum (200) would leave no headroom at all
    assert math.ceil(stock.TARGET_REDEEMS_PER_SECOND / stock.ITEM_TRANSACTIONS_PER_SECOND_LIMIT) == 200 < shards


@pytest.mark.parametrize(("total", "shards"), [(1, 1), (10, 10), (399, 399), (400, 400), (401, 400),
                                               (1_000_000, 400)])
def test_a_campaign_gets_one_shard_a_coupon_up_to_the_maximum(total, shards):
    assert stock.shard_count(total) == shards


def test_a_lower_target_rate_needs_fewer_shards():
    assert stock.shard_count(100_000, target_rate=1_000) == 40
    with pytest.raises(ValueError):
        stock.shard_count(0)


@given(total=st.integers(1, 1_000_000))
def test_allotments_split_the_stock_exactly_and_evenly_and_none_starts_empty(total):
    shards = stock.shard_count(total)
    allotted = stock.allotments(total, shards)
    assert sum(allotted) == total
    assert max(allotted) - min(allotted) <= 1
    assert min(allotted) >= 1


def test_a_shard_outside_the_campaign_has_no_allotment():
    with pytest.raises(ValueError):
        stock.allotment(10, 5, 5)


def test_shard_keys_give_each_shard_its_own_partition_key():
    keys = {stock.shard_key("c1", shard) for shard in range(400)}
    assert len(keys) == 400 and "c1#0" in keys and "c1#399" in keys


def test_the_choice_is_spread_evenly_over_the_shards():
    rng = random.Random(1)
    picks = Counter(stock.choose_shard(400, frozenset(), rng) for _ in range(40_000))
    # 100 a shard expected; a Poisson-like spread, nothing starved or hot
    assert set(picks) == set(range(400))
    assert max(picks.values()) < 150 and min(picks.values()) > 50


def test_the_choice_never_picks_a_shard_known_empty_and_none_when_all_are():
    rng = random.Random(2)
    empty = frozenset(range(0, 400)) - {17, 250}
    assert {stock.choose_shard(400, empty, rng) for _ in range(200)} == {17, 250}
    assert stock.choose_shard(400, frozenset(range(400)), rng) is None
    assert stock.choose_shard(1, frozenset(), rng) == 0


def test_the_tally_keeps_each_shards_highest_count_whatever_the_order_or_repeats():
    changes = [("c1", 0, 1), ("c1", 0, 3), ("c1", 1, 2), ("c2", 5, 1), ("c1", 0, 2), ("c1", 0, 3)]
    expected = {"c1": {0: 3, 1: 2}, "c2": {5: 1}}
    assert stock.sold_by_shard(changes) == expected
    assert stock.sold_by_shard(reversed(changes)) == expected
    assert stock.sold_by_shard(changes + changes) == expected


def test_only_counts_that_rise_are_written():
    stored = {"0": 3, "1": 1}
    assert stock.raises(stored, {0: 3, 1: 2, 2: 1}) == {1: 2, 2: 1}
    assert stock.raises(stored, {0: 2}) == {}


def test_remaining_and_empty_shards_from_the_tally():
    # 10 coupons over 4 shards: 3, 3, 2, 2
    stored = {"0": 3, "1": 1, "3": 2}
    assert stock.remaining(10, stored) == 4
    assert stock.empty_shards(10, 4, stored) == {0, 3}
    assert stock.remaining(10, {"0": 3, "1": 3, "2": 2, "3": 2}) == 0
    assert stock.empty_shards(10, 4, {}) == set()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=30), st.randoms())
def test_folding_the_tally_in_any_order_and_grouping_ends_the_same(changes, rng):
    # Given stock changes of one campaign (shard, sold), folded batch by batch into a stored tally
    def fold(batches):
        stored: dict[str, int] = {}
        for batch in batches:
            for shard, sold in stock.raises(stored, stock.sold_by_shard(("c", s, n) for s, n in batch)
                                            .get("c", {})).items():
                stored[str(shard)] = sold
        return stored

    shuffled = list(changes)
    rng.shuffle(shuffled)
    cut = rng.randint(0, len(shuffled))
    # Then one batch, or a shuffled split delivered twice, give the same tally
    assert fold([changes]) == fold([shuffled[:cut], shuffled[cut:], shuffled[:cut]])
