"""Sharded coupon stock through the routes: shards, the last coupon on any shard, the trailing tally.

What the stock tables hold is read directly (`CampaignStock`, `Campaign.sold_by_shard`); DynamoDB
calls are counted with the conflict injector's rules at rate 0 (they match and count, never refuse).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.coupons import MAX_SHARDS, shard_key
from chalicelib.domain.ids import iso, utc_now
from chalicelib.models.points import Campaign, CampaignStock
from chalicelib.services.coupons import campaigns
from tests.support.api import call
from tests.support.conflicts import ConflictInjector


@pytest.fixture
def store(users):
    return users("store", groups=("merchants",))


@pytest.fixture
def watch(tables):
    with ConflictInjector() as injector:
        yield injector


def create(client, store, quantity: int, per_user_limit: int = 1) -> str:
    body = {"title": "Flash sale", "discount_cents": 500, "min_spend_cents": 0, "points_cost": 0,
            "total_quantity": quantity, "per_user_limit": per_user_limit,
            "expires_at": iso(utc_now() + timedelta(days=1))}
    response = call(client, "POST", "/merchants/me/coupons", store, body)
    assert response.status_code == 201, response.data
    return response.data["campaign_id"]


def redeem(client, user, campaign_id):
    return call(client, "POST", f"/coupons/{campaign_id}/redeem", user)


def shards_of(campaign_id: str) -> list[CampaignStock]:
    count = int(Campaign.get(campaign_id, consistent_read=True).shard_count)
    return [CampaignStock.get(shard_key(campaign_id, shard), consistent_read=True) for shard in range(count)]


def listed_remaining(client, store, campaign_id: str) -> int:
    items = call(client, "GET", f"/merchants/{store.user_id}/coupons?limit=100", store).data["items"]
    return next(item["remaining"] for item in items if item["campaign_id"] == campaign_id)


def take_elsewhere(campaign_id: str, shard: int) -> None:
    """Another process sells out one shard (this one has not heard of it)."""
    CampaignStock(shard_key(campaign_id, shard)).update(actions=[CampaignStock.remaining.set(0)])


def test_the_stock_is_split_over_one_shard_a_coupon_up_to_the_maximum(client, store):
    # When campaigns of 10 and of 1,000 coupons are created
    small, large = create(client, store, 10), create(client, store, 1_000)
    # Then the small one has 10 shards of 1, the large one 400 shards holding 1,000 between them
    assert [(int(s.allotment), int(s.remaining)) for s in shards_of(small)] == [(1, 1)] * 10
    shards = shards_of(large)
    assert len(shards) == MAX_SHARDS
    assert sum(int(s.remaining) for s in shards) == 1_000 and {int(s.allotment) for s in shards} == {2, 3}


@pytest.mark.parametrize("last", range(5))
def test_the_last_coupon_is_found_on_whichever_shard_holds_it_and_only_then_sold_out(client, users, store, last):
    # Given a campaign of 5 coupons (5 shards) of which other processes sold all but shard `last`'s
    campaign_id = create(client, store, 5)
    for shard in range(5):
        if shard != last:
            take_elsewhere(campaign_id, shard)
    # When a shopper redeems
    first = redeem(client, users(), campaign_id)
    # Then they get the last coupon, from that shard
    assert first.status_code == 201, first.data
    assert [int(s.remaining) for s in shards_of(campaign_id)] == [0] * 5
    # And only now is the campaign sold out
    second = redeem(client, users(), campaign_id)
    assert (second.status_code, second.data["Code"]) == (409, "SoldOut")


def test_a_sold_out_campaign_is_answered_from_the_tally_without_a_transaction(client, users, store, streams, watch):
    # Given a campaign of 3, sold out, whose stock the stream has tallied
    campaign_id = create(client, store, 3)
    for _ in range(3):
        assert redeem(client, users(), campaign_id).status_code == 201
    streams.drain()
    campaigns.clear()  # a process that has not seen any shard empty itself
    transactions = watch.cancel(CampaignStock, rate=0.0)
    # When another shopper redeems
    response = redeem(client, users(), campaign_id)
    # Then they hear SoldOut, and no shard was written or even tried
    assert (response.status_code, response.data["Code"]) == (409, "SoldOut")
    assert transactions.matched == 0


def test_remaining_trails_the_shards_then_is_tallied_with_one_update_per_campaign_per_batch(
        client, users, store, streams, watch):
    # Given 7 coupons of 10 redeemed by 7 shoppers over the shards
    campaign_id = create(client, store, 10)
    for _ in range(7):
        assert redeem(client, users(), campaign_id).status_code == 201
    assert sum(int(s.remaining) for s in shards_of(campaign_id)) == 3
    # Then the list may still say 10 until the stock's stream is read
    assert listed_remaining(client, store, campaign_id) == 10
    # When the stream is delivered (one batch)
    campaign_writes = watch.cancel(Campaign, rate=0.0)
    streams.drain()
    # Then 3 remain, written by one update of the campaign
    assert listed_remaining(client, store, campaign_id) == 3
    assert campaign_writes.matched == 1
    # And delivering it all again changes nothing
    streams.drain()
    assert listed_remaining(client, store, campaign_id) == 3


def test_the_tally_is_exact_when_every_batch_is_split_and_delivered_twice(client, users, store, chaos_streams):
    first, second = create(client, store, 12), create(client, store, 4)
    for _ in range(9):
        assert redeem(client, users(), first).status_code == 201
    for _ in range(4):
        assert redeem(client, users(), second).status_code == 201
    chaos_streams.drain()
    assert (listed_remaining(client, store, first), listed_remaining(client, store, second)) == (3, 0)
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", store).data["items"]
    assert {item["campaign_id"]: item["status"] for item in listed} == {first: "active", second: "sold_out"}
    assert chaos_streams.set_aside == []


def test_a_replayed_old_record_never_lowers_the_tally(client, store):
    # Given a tally that has seen the one coupon of a 1-shard campaign sold
    from chalicelib.services.coupons import tally_stock

    campaign_id = create(client, store, 1)
    assert tally_stock([(campaign_id, 0, 1)]) == {}
    # When an older record (0 sold) and the same one again arrive late
    assert tally_stock([(campaign_id, 0, 0), (campaign_id, 0, 1)]) == {}
    # Then the tally keeps the highest count
    assert listed_remaining(client, store, campaign_id) == 0


def test_one_shopper_is_held_to_the_per_user_limit_across_shards(client, users, store):
    campaign_id = create(client, store, 50, per_user_limit=3)
    shopper = users()
    codes = [redeem(client, shopper, campaign_id) for _ in range(5)]
    assert [r.status_code for r in codes] == [201, 201, 201, 409, 409]
    assert {r.data["Code"] for r in codes[3:]} == {"LimitReached"}
    assert sum(int(s.remaining) for s in shards_of(campaign_id)) == 47


def test_a_tally_update_stays_within_dynamodbs_expression_limits():
    # Given the widest update: the most shards one update raises, with 3-digit shard numbers
    from chalicelib.services.coupons import TALLY_SHARDS_PER_UPDATE, tally_update

    actions, condition = tally_update({shard: 10_000 for shard in range(400 - TALLY_SHARDS_PER_UPDATE, 400)})
    request = Campaign("c" * 26).get_update_kwargs_from_instance(actions=actions, condition=condition)
    # Then its condition and update expressions are under DynamoDB's 4 KB each
    assert len(request["ConditionExpression"].encode()) < 4096
    assert len(request["UpdateExpression"].encode()) < 4096


def test_a_batch_touching_many_shards_is_tallied_in_a_few_bounded_updates(client, store, watch):
    from chalicelib.services.coupons import TALLY_SHARDS_PER_UPDATE, tally_stock

    campaign_id = create(client, store, 1_000)
    campaign_writes = watch.cancel(Campaign, rate=0.0)
    assert tally_stock([(campaign_id, shard, 1) for shard in range(100)]) == {}
    assert campaign_writes.matched == -(-100 // TALLY_SHARDS_PER_UPDATE) == 4
    assert listed_remaining(client, store, campaign_id) == 900


def test_a_tally_that_loses_races_is_delivered_again_and_lands_once(client, users, store, streams, watch,
                                                                    monkeypatch):
    from chalicelib.models import transactions

    monkeypatch.setattr(transactions, "_pause", lambda seconds: None)
    campaign_id = create(client, store, 6)
    for _ in range(4):
        assert redeem(client, users(), campaign_id).status_code == 201
    # Given the campaign's first writes (all of one delivery's tries, and then some) meet other writers
    refused = watch.cancel(Campaign, rate=1.0, first=transactions.ATTEMPTS + 2)
    streams.drain()
    # Then the batch came again until its tally landed, once
    assert refused.injected == transactions.ATTEMPTS + 2
    assert listed_remaining(client, store, campaign_id) == 2
    assert streams.set_aside == []


def test_a_process_that_found_every_shard_empty_reads_no_shard_again(client, users, store, monkeypatch):
    # Given a campaign of 4 whose shards other processes sold out, unknown to this one and to the tally
    from chalicelib.services import coupons

    campaign_id = create(client, store, 4)
    for shard in range(4):
        take_elsewhere(campaign_id, shard)
    reads: list[int] = []
    real_batch_get = coupons.batch_get
    monkeypatch.setattr(coupons, "batch_get", lambda keys: reads.append(len(keys)) or real_batch_get(keys))
    # When shoppers redeem, one after another
    answers = [redeem(client, users(), campaign_id) for _ in range(3)]
    # Then each hears SoldOut, and only the first read the shards (all 4, in one batch)
    assert [(r.status_code, r.data["Code"]) for r in answers] == [(409, "SoldOut")] * 3
    assert reads == [4]
