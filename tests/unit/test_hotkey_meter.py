"""The hot-key meter's billing arithmetic: item sizes, write and read units, GSI writes, as DynamoDB
bills them (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""

from __future__ import annotations

import pytest

from bench.meter import (
    Index,
    MeterLog,
    Table,
    index_writes,
    item_size,
    item_write_charges,
    number_size,
    query_read_units,
    read_units,
    tables_from_template,
    value_size,
    write_units,
)

FOLLOWS = Table("stack-follows", "follows", "follower_id", "followee_id",
                (Index("by_followee", "followee_id", "follower_id", "ALL"),))
BLOCKS = Table("stack-blocks", "blocks", "blocker_id", "blocked_id",
               (Index("by_blocked", "blocked_id", "blocker_id", "KEYS_ONLY"),))
COUNTERS = Table("stack-counters", "counters", "pk", None)


def s(text: str) -> dict:
    return {"S": text}


@pytest.mark.parametrize(("value", "size"), [
    (s("abc"), 3),
    (s("é"), 2),  # UTF-8 bytes, not characters
    ({"N": "7"}, 2),  # one significant digit: 1 + 1
    ({"N": "123456"}, 4),  # six digits: 3 + 1
    ({"N": "-1200.00"}, 2),  # sign, point and trailing zeros are not digits: "12"
    ({"N": "0.001"}, 2),
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"B": "AAEC"}, 3),  # base64 of three bytes
    ({"SS": ["ab", "cde"]}, 5),
    ({"L": [s("ab"), {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
    ({"M": {"k": s("v")}}, 3 + 1 + 1 + 1),
    ({"M": {}}, 3),
])
def test_a_value_has_the_size_dynamodb_gives_it(value, size):
    assert value_size(value) == size


def test_an_item_counts_its_attribute_names_and_values():
    # Given an item of two attributes, Then its size is both names and both values
    assert item_size({"user_id": s("u1"), "count": {"N": "10"}}) == len("user_id") + 2 + len("count") + 2
    assert item_size(None) == 0
    assert number_size("100") == 2


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (1024, 1), (1025, 2), (3000, 3)])
def test_write_units_are_kilobytes_rounded_up_at_least_one(size, units):
    assert write_units(size) == units


@pytest.mark.parametrize(("size", "consistent", "units"), [
    (100, True, 1), (100, False, 0.5), (4096, True, 1), (4097, True, 2), (4097, False, 1), (0, False, 0.5),
])
def test_read_units_are_four_kilobytes_rounded_up_and_half_when_eventually_consistent(size, consistent, units):
    assert read_units(size, consistent) == units


def test_a_query_bills_the_total_it_read_not_each_item():
    # Given ten items of 500 bytes read by one Query: 5,000 bytes, two 4 KB units
    assert query_read_units([500] * 10, consistent=True) == 2
    # (the same ten items read one by one would cost ten units)
    assert sum(read_units(500, True) for _ in range(10)) == 10
    assert query_read_units([], consistent=False) == 0.5


def follow(extra: dict | None = None) -> dict:
    return {"follower_id": s("a"), "followee_id": s("b"), **(extra or {})}


def test_a_new_item_writes_each_index_it_has_the_keys_of():
    # Given a new Follow (its table has one ALL index), When it is put
    charges = item_write_charges("PutItem", FOLLOWS, None, follow())
    # Then the item costs one unit in the follower's partition and one in the index's followee partition
    assert [(c.partition, c.wcu, c.index_write) for c in charges] == [
        ("follows:a", 1, False), ("follows/by_followee:b", 1, True)]
    assert charges[0].new_bytes == item_size(follow())


def test_an_update_that_leaves_a_keys_only_projection_alone_writes_no_index():
    before = {"blocker_id": s("a"), "blocked_id": s("b"), "note": s("x")}
    after = {**before, "note": s("y")}
    assert index_writes(BLOCKS, before, after) == []
    # an ALL projection sees every change: one index write
    assert len(index_writes(FOLLOWS, follow({"n": s("1")}), follow({"n": s("2")}))) == 1
    # an unchanged item writes no index at all
    assert index_writes(FOLLOWS, follow(), follow()) == []


def test_a_changed_index_key_is_a_delete_and_a_put():
    moved = {"follower_id": s("a"), "followee_id": s("b")}
    index = Index("by_x", "x", None, "ALL")
    table = Table("t", "t", "follower_id", "followee_id", (index,))
    writes = index_writes(table, {**moved, "x": s("1")}, {**moved, "x": s("2")})
    assert [w[2] for w in writes] == [1, 1]
    # gaining the index key is one put, losing it one delete
    assert len(index_writes(table, moved, {**moved, "x": s("1")})) == 1
    assert len(index_writes(table, {**moved, "x": s("1")}, moved)) == 1


def test_an_update_bills_the_larger_of_the_item_before_and_after():
    small = {"pk": s("k")}
    big = {"pk": s("k"), "blob": s("x" * 1500)}
    assert item_write_charges("UpdateItem", COUNTERS, big, small)[0].wcu == 2
    assert item_write_charges("UpdateItem", COUNTERS, small, big)[0].wcu == 2


def test_a_transactional_write_costs_twice_and_its_index_writes_once():
    charges = item_write_charges("TransactWriteItems", FOLLOWS, None, follow(), transactional=True)
    assert [(c.wcu, c.transactional) for c in charges] == [(2, True), (1, False)]


def test_a_refused_conditional_write_bills_the_item_and_writes_no_index():
    charges = item_write_charges("PutItem", FOLLOWS, follow({"blob": s("x" * 2000)}), None, applied=False)
    assert [(c.wcu, c.index_write, c.new_bytes) for c in charges] == [(2, False, 0)]


def test_the_log_finds_the_hottest_partition_and_its_share():
    log = MeterLog()
    for reader in ("r1", "r2", "r3"):
        log.charges += item_write_charges("PutItem", FOLLOWS, None, {"follower_id": s(reader), "followee_id": s("b")})
    # Then the followee's index partition took every follow's index write
    assert log.hottest() == ("follows/by_followee:b", 3)
    assert log.wcu == 6
    assert log.by_table() == {"follows": {"wcu": 3, "rcu": 0}, "follows/by_followee": {"wcu": 3, "rcu": 0}}


def test_the_template_tables_carry_their_indexes():
    tables = tables_from_template("stack")
    follows = tables["stack-follows"]
    assert (follows.label, follows.hash_key, follows.range_key) == ("follows", "follower_id", "followee_id")
    assert [i.name for i in follows.indexes] == ["by_followee_shard"]
    assert tables["stack-blocks"].indexes[0].projection == "KEYS_ONLY"
