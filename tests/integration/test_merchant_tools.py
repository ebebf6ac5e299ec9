"""The merchants' own campaign tools (list by status, end, look up a code) and the judge's own score."""

from __future__ import annotations

import threading

import pytest

from tests.integration.test_coupons import create, expire_campaign, give_points, redeem, use
from tests.support.api import call


def caller_of(user, *groups):
    from chalicelib.auth import Caller

    return Caller(user_id=user.user_id, username=user.email, groups=frozenset(groups))


def outcome(action):
    """(201, view) or (409, Code): a service call as its route would answer."""
    from chalicelib.errors import Conflict

    try:
        return 201, action()
    except Conflict as exc:
        return 409, exc.code


@pytest.fixture
def store(users):
    return users("store", groups=("merchants",))


def mine(client, merchant, status, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"status": status, **extra}.items())
    return call(client, "GET", f"/merchants/me/coupons?{query}", merchant)


def end(client, merchant, campaign_id):
    return call(client, "POST", f"/merchants/me/coupons/{campaign_id}/end", merchant)


def test_a_merchant_lists_own_campaigns_by_status_with_redeemed_and_used(client, users, store, streams):
    # Given an active, a sold-out, an expired and an ended campaign, and another store's campaign
    shopper = users("shopper")
    give_points(shopper, 500)
    active = create(client, store, total_quantity=5, points_cost=10)
    sold_out = create(client, store, total_quantity=1, points_cost=10)
    expired = create(client, store)
    ended = create(client, store)
    create(client, users("other", groups=("merchants",)))
    codes = [redeem(client, shopper, active["campaign_id"]).data["coupon_code"] for _ in range(2)]
    assert redeem(client, shopper, sold_out["campaign_id"]).status_code == 201
    assert use(client, store, codes[0]).status_code == 200
    expire_campaign(expired["campaign_id"])
    assert end(client, store, ended["campaign_id"]).status_code == 200
    streams.drain()
    # When the merchant lists each status
    statuses = ("active", "sold_out", "expired", "ended")
    listed = {status: mine(client, store, status).data["items"] for status in statuses}
    # Then each status holds exactly its own campaign, with what was redeemed and used
    assert {status: [c["campaign_id"] for c in items] for status, items in listed.items()} == {
        "active": [active["campaign_id"]], "sold_out": [sold_out["campaign_id"]],
        "expired": [expired["campaign_id"]], "ended": [ended["campaign_id"]]}
    assert (listed["active"][0]["redeemed"], listed["active"][0]["used"], listed["active"][0]["remaining"]) == (2, 1, 3)
    assert listed["sold_out"][0]["redeemed"] == 1 and listed["ended"][0]["status"] == "ended"
    # And the ended campaign left the public list
    public = call(client, "GET", f"/merchants/{store.user_id}/coupons", shopper).data["items"]
    assert ended["campaign_id"] not in {c["campaign_id"] for c in public}


def test_used_counts_each_coupon_once_even_when_used_six_times_at_once(client, users, store, atomic_dynamodb):
    from chalicelib.services.coupons import use_coupon

    shopper = users("shopper")
    give_points(shopper, 100)
    campaign = create(client, store, per_user_limit=2)
    code = redeem(client, shopper, campaign["campaign_id"]).data["coupon_code"]
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(outcome(lambda: use_coupon(caller_of(store), code))[0]))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    from chalicelib.models.points import Campaign

    assert int(Campaign.get(campaign["campaign_id"]).used) == 1


def test_listing_own_campaigns_is_for_merchants_and_checks_the_status(client, users, store):
    assert mine(client, users("shopper"), "active").status_code == 403
    for bad in ("", "open", "ACTIVE"):
        response = mine(client, store, bad)
        assert response.status_code == 400 and "status" in response.data["Message"], response.data
    missing = call(client, "GET", "/merchants/me/coupons", store)
    assert missing.status_code == 400 and "status" in missing.data["Message"]


def test_ending_stops_redemptions_keeps_issued_coupons_and_is_idempotent(client, users, store):
    shopper = users("shopper")
    give_points(shopper, 100)
    campaign = create(client, store, total_quantity=50, per_user_limit=5)
    code = redeem(client, shopper, campaign["campaign_id"]).data["coupon_code"]
    # When the store ends it (twice)
    first, second = end(client, store, campaign["campaign_id"]), end(client, store, campaign["campaign_id"])
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.data["status"] == second.data["status"] == "ended"
    # Then a redeem is 409 Ended, in this process and in one whose campaign cache is fresh
    refused = redeem(client, shopper, campaign["campaign_id"])
    assert (refused.status_code, refused.data["Code"]) == (409, "Ended")
    from chalicelib.services.coupons import campaigns

    campaigns.clear()
    assert redeem(client, shopper, campaign["campaign_id"]).data["Code"] == "Ended"
    # And the coupon already issued is still used at checkout
    assert use(client, store, code).status_code == 200


def test_a_redeem_with_a_stale_campaign_copy_is_refused_by_the_shards(client, users, store):
    """A process that read the campaign before the end still cannot redeem: every shard says ended."""
    from chalicelib.services.coupons import campaigns

    shopper = users("shopper")
    give_points(shopper, 100)
    campaign = create(client, store, total_quantity=40, per_user_limit=5)
    assert redeem(client, shopper, campaign["campaign_id"]).status_code == 201  # cached, not ended
    from chalicelib.models.points import Campaign

    stale = Campaign.get(campaign["campaign_id"])
    assert end(client, store, campaign["campaign_id"]).status_code == 200
    import time

    from chalicelib.services.coupons import _Known

    campaigns._known[campaign["campaign_id"]] = _Known(stale, time.monotonic())  # another process's copy, read before
    refused = redeem(client, shopper, campaign["campaign_id"])
    assert (refused.status_code, refused.data["Code"]) == (409, "Ended")


def test_a_redeem_racing_the_end_wins_only_before_the_end_is_recorded(client, users, store, atomic_dynamodb):
    from chalicelib.domain.coupons import shard_key
    from chalicelib.models.points import Campaign, CampaignStock
    from chalicelib.services import coupons

    campaign = create(client, store, total_quantity=200, per_user_limit=5, points_cost=0)
    shoppers = [users(f"racer{i}") for i in range(12)]
    results: dict[str, tuple[int, object]] = {}
    start = threading.Barrier(len(shoppers) + 1)

    def shop(shopper):
        start.wait()
        for _ in range(5):  # keep trying until refused, so some attempts straddle the end
            results[shopper.user_id] = outcome(lambda: coupons.redeem(caller_of(shopper), campaign["campaign_id"]))
            if results[shopper.user_id][0] == 409:
                return

    threads = [threading.Thread(target=shop, args=(shopper,)) for shopper in shoppers]
    for thread in threads:
        thread.start()
    start.wait()
    coupons.end_campaign(caller_of(store, "merchants"), campaign["campaign_id"])
    for thread in threads:
        thread.join()
    recorded = Campaign.get(campaign["campaign_id"])
    assert all(status == 201 or code in ("Ended", "LimitReached") for status, code in results.values())
    # every coupon won was issued before the end was recorded, and the shards sold exactly those
    from chalicelib.models.points import Coupon

    won = [c for shopper in shoppers for c in Coupon.by_owner.query(shopper.user_id)]
    assert all(coupon.issued_at <= recorded.ended_at for coupon in won)
    shards = [CampaignStock.get(shard_key(campaign["campaign_id"], s)) for s in range(int(recorded.shard_count))]
    assert all(shard.ended for shard in shards)
    assert sum(int(s.allotment) - int(s.remaining) for s in shards) == len(won)
    # and after it, no one wins
    late = redeem(client, users("late"), campaign["campaign_id"])
    assert (late.status_code, late.data["Code"]) == (409, "Ended")


def test_only_the_owner_ends_a_campaign_and_unknown_ones_are_404(client, users, store):
    campaign = create(client, store)
    other = users("other", groups=("merchants",))
    assert end(client, other, campaign["campaign_id"]).status_code == 403
    assert end(client, users("shopper"), campaign["campaign_id"]).status_code == 403
    assert end(client, store, "01HZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


def test_the_issuing_store_looks_up_a_code_without_using_it(client, users, store):
    shopper = users("shopper")
    call(client, "GET", "/me", shopper)
    give_points(shopper, 100)
    campaign = create(client, store)
    code = redeem(client, shopper, campaign["campaign_id"]).data["coupon_code"]
    typed = "-".join(code[i:i + 4] for i in range(0, 16, 4)).lower()
    found = call(client, "GET", f"/merchants/me/coupons/lookup?code={typed}", store)
    assert found.status_code == 200, found.data
    assert (found.data["coupon_code"], found.data["campaign_id"], found.data["status"]) == (
        code, campaign["campaign_id"], "issued")
    assert found.data["discount_cents"] == 1000 and found.data["owner"]["user_id"] == shopper.user_id
    # not used by the look-up
    assert use(client, store, code).status_code == 200
    assert call(client, "GET", f"/merchants/me/coupons/lookup?code={code}", store).data["status"] == "used"
    # another store's look-up is 404 as for an unknown code; a shopper's is 403; no code is 400
    other = users("other", groups=("merchants",))
    assert call(client, "GET", f"/merchants/me/coupons/lookup?code={code}", other).status_code == 404
    assert call(client, "GET", "/merchants/me/coupons/lookup?code=ZZZZZZZZZZZZZZZZ", store).status_code == 404
    assert call(client, "GET", f"/merchants/me/coupons/lookup?code={code}", shopper).status_code == 403
    missing = call(client, "GET", "/merchants/me/coupons/lookup", store)
    assert missing.status_code == 400 and "code" in missing.data["Message"]


def test_a_looked_up_expired_coupon_says_expired(client, users, store):
    from tests.integration.test_coupons import expire_coupon

    shopper = users("shopper")
    give_points(shopper, 100)
    code = redeem(client, shopper, create(client, store)["campaign_id"]).data["coupon_code"]
    expire_coupon(code)
    assert call(client, "GET", f"/merchants/me/coupons/lookup?code={code}", store).data["status"] == "expired"


def test_a_judge_reads_their_own_score(client, users):
    merchant = users("merchant", groups=("merchants",))
    assert call(client, "PUT", "/merchants/me", merchant, {"store_name": "Lens Corner"}).status_code == 200
    judge, other = users("judge", groups=("judges",)), users("judge2", groups=("judges",))
    path = f"/merchants/{merchant.user_id}/ratings/me"
    assert call(client, "GET", path, judge).status_code == 404
    assert call(client, "PUT", path, judge, {"score": 81, "comment": "tidy"}).status_code == 200
    assert call(client, "PUT", path, other, {"score": 40}).status_code == 200
    mine_ = call(client, "GET", path, judge)
    assert mine_.status_code == 200
    assert (mine_.data["merchant_id"], mine_.data["score"], mine_.data["comment"]) == (merchant.user_id, 81, "tidy")
    assert mine_.data["updated_at"]
    assert call(client, "GET", path, users("shopper")).status_code == 403
    assert call(client, "GET", "/merchants/nobody/ratings/me", judge).status_code == 404
