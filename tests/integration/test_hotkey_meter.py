"""The hot-key meter on the suite's moto world: known calls billed as DynamoDB bills them, and a small
Double-11 burst whose projection adds up. (Today's hot values are not checked here: they change as
the hot keys are fixed; `make bench` records them.)"""

from __future__ import annotations

import pytest

from bench import harness, meter
from bench.hotkeys import RATES, measure_scenario


def s(text: str) -> dict:
    return {"S": text}


@pytest.fixture
def names(tables):
    from chalicelib.models.graph import Follow
    from chalicelib.models.users import UserProfile

    return Follow.Meta.table_name, UserProfile.Meta.table_name


@pytest.fixture
def dynamodb():
    from chalicelib.models.base import connection

    return connection().client


def test_a_transaction_bills_two_units_per_kilobyte_per_item_and_its_index_write_once(names, dynamodb):
    follows, users = names
    big_follow = {"follower_id": s("a"), "followee_id": s("b"), "followee_shard": s("b#0"), "created_at": s("2026"),
                  "note": s("x" * 1500)}  # 2 KB-units
    # When one transaction puts a 1.5 KB Follow (its table has an ALL-projected index) and bumps a counter
    with meter.metering() as log:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": follows, "Item": big_follow}},
            {"Update": {"TableName": users, "Key": {"user_id": s("b")},
                        "UpdateExpression": "ADD follower_count :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    # Then the Follow costs 2 units × 2 (transaction), its index entry 2 standard units, the counter 1 × 2
    assert log.by_partition() == {"follows:a": 4, "follows/by_followee_shard:b#0": 2, "users:b": 2}
    assert log.wcu == 8
    # and each item was inside one transaction
    assert log.transactions == {"follows:a/b": 1, "users:b": 1}
    assert log.calls == {"TransactWriteItems": 1}


def test_a_refused_conditional_write_bills_the_stored_item_and_writes_no_index(names, dynamodb):
    follows, _ = names
    item = {"follower_id": s("a"), "followee_id": s("b"), "note": s("x" * 1500)}
    dynamodb.put_item(TableName=follows, Item=item)
    with meter.metering() as log:
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName=follows, Item={"follower_id": s("a"), "followee_id": s("b")},
                              ConditionExpression="attribute_not_exists(follower_id)")
    assert log.by_partition() == {"follows:a": 2}


def test_a_batch_write_bills_per_item_and_a_query_by_the_bytes_it_read(names, dynamodb):
    follows, _ = names
    # Given ten 530-byte Follows of "b" written in one BatchWriteItem
    items = [{"follower_id": s(f"f{n}"), "followee_id": s("b"), "followee_shard": s("b#0"), "created_at": s("2026"),
              "note": s("x" * 470)} for n in range(10)]
    with meter.metering() as writes:
        dynamodb.batch_write_item(RequestItems={follows: [{"PutRequest": {"Item": item}} for item in items]})
    # Then each item is a unit, and each its index entry a unit in the followee's index partition
    assert writes.by_partition()["follows/by_followee_shard:b#0"] == 10
    assert writes.wcu == 20
    assert writes.new_bytes == 10 * meter.item_size(items[0]) == 5300
    # When the followee's index is queried, eventually consistent
    with meter.metering() as reads:
        found = dynamodb.query(TableName=follows, IndexName="by_followee_shard", KeyConditionExpression="#k = :v",
                               ExpressionAttributeNames={"#k": "followee_shard"},
                               ExpressionAttributeValues={":v": s("b#0")})
    # Then 5,300 bytes read are two 4 KB units, halved: one unit, charged to that partition
    assert found["Count"] == 10
    assert reads.by_partition("rcu") == {"follows/by_followee_shard:b#0": 1.0}


def test_reads_bill_four_kilobyte_units_and_half_when_eventually_consistent(names, dynamodb):
    follows, _ = names
    dynamodb.put_item(TableName=follows, Item={"follower_id": s("a"), "followee_id": s("b"), "note": s("x" * 5000)})
    key = {"follower_id": s("a"), "followee_id": s("b")}
    with meter.metering() as log:
        dynamodb.get_item(TableName=follows, Key=key, ConsistentRead=True)  # 5 KB: 2 units
        dynamodb.get_item(TableName=follows, Key=key)  # eventually consistent: 1
        dynamodb.get_item(TableName=follows, Key={**key, "followee_id": s("nobody")})  # missing: 0.5
        dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": follows, "Key": key}}])  # 2 × 2
    assert log.rcu == 2 + 1 + 0.5 + 4


def test_a_small_burst_is_metered_with_its_stream_effects_and_projected(client, users, streams, tables):
    # Given three users, When they follow one account through the routes and the streams deliver
    world = harness.World(client=client, users=users, streams=streams, aws=tables)
    pool = [users(f"fan{n}") for n in range(3)]
    result, details = measure_scenario(world, pool, "follow_surge")
    # Then the burst counted three requests, and stream handlers' writes are in the units
    assert result["ops"] == 3
    assert set(details["units_by_source"]) - {"request"}, details["units_by_source"]
    total = sum(units["wcu"] for units in details["units_by_table"].values())
    assert result["wcu_per_op"] == round(total / 3, 2)
    # and the projection is the hottest key's units per request at the target rate (a sharded key,
    # `<key>#<1 of N>`, counts 1/N of its shards' units: see bench/hotkeys.py `_per_shard`)
    hottest, units = result["hottest_key"], dict(details["top_write_keys"])
    assert "<star>" in hottest
    if hottest in units:
        assert result["projected_wcu_per_s"] == round(units[hottest] / 3 * RATES["follow_surge"], 1)
        assert result["hottest_key_share"] == round(units[hottest] / total, 3)
    # and the follows were written to the star's sharded followers index
    assert details["units_by_table"]["follows/by_followee_shard"]["wcu"] == 3


def test_a_burst_projects_an_item_that_one_request_created_at_that_request_not_at_the_rate(
        client, users, streams, tables, monkeypatch):
    import random

    from chalicelib.services import coupons

    # Given three shoppers who each claim a coupon of one campaign: each claim writes a coupon item
    # of its own (named by the code its response returns) in one transaction. The stock shards they
    # draw are seeded: three claims that happen to share a shard would project that shard at 2/3 of
    # the rate (the bench's bursts of hundreds measure the spread; three claims cannot)
    monkeypatch.setattr(coupons, "_random", random.Random(7))
    world = harness.World(client=client, users=users, streams=streams, aws=tables)
    result, details = measure_scenario(world, [users(f"shopper{n}") for n in range(3)], "flash_coupon")
    # Then no coupon item is projected as if every claim of 10,000 a second landed on it: the
    # hottest item in transactions is shared (the campaign's), and a coupon is a claim's own item
    assert not (result["hottest_tx_item"] or "").startswith("coupons:"), result
    assert (result["hottest_own_key"] or "").split(":")[0] in {"coupons", "wallets", "coupon-claims", "ledger"}, result
    assert result["projected_tx_per_s_per_item"] <= 50, result


def test_a_live_rooms_chat_below_the_sampling_threshold_is_all_stored_over_its_shards(client, users, streams, tables):
    # Given eight viewers of a 5,000-viewer room (every message kept), When each sends a chat message
    world = harness.World(client=client, users=users, streams=streams, aws=tables)
    pool = [users(f"viewer{n}") for n in range(8)]
    result, details = measure_scenario(world, pool, "live_chat")
    # Then every message is stored, under the room's chat shards, so no key takes the room's whole rate
    assert details["units_by_table"]["live-chat"]["wcu"] == 8
    chat_keys = [key for key, _ in details["top_write_keys"] if key.startswith("live-chat:")]
    assert chat_keys and all(key.startswith("live-chat:<room>#") for key in chat_keys)
    assert result["within_limits"] is True
