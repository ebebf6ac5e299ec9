"""Coupon campaigns, redemption with points and use at checkout, through the routes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.domain.ids import iso, utc_now
from chalicelib.domain.points import Award
from tests.support.api import call

FUTURE = iso(utc_now() + timedelta(days=30))


def campaign_body(**overrides) -> dict:
    body = {"title": "10 off camera bags", "discount_cents": 1000, "min_spend_cents": 5000, "points_cost": 30,
            "total_quantity": 5, "per_user_limit": 2, "expires_at": FUTURE}
    body.update(overrides)
    return body


def create(client, merchant, **overrides) -> dict:
    response = call(client, "POST", "/merchants/me/coupons", merchant, campaign_body(**overrides))
    assert response.status_code == 201, response.data
    return response.data


def give_points(user, amount: int) -> None:
    """Credit points through the reward engine itself, so the wallet and the ledger agree."""
    from chalicelib.services.rewards import settle_cause

    settle_cause(user.user_id, f"test#{uuid.uuid4().hex}", Award(amount, "answer_accepted", capped=False),
                 effect_id=f"test:{uuid.uuid4().hex}", at=utc_now(), ref="test")


def points(client, user) -> int:
    return call(client, "GET", "/me/points", user).data["balance"]


def ledger_sum(client, user) -> int:
    return sum(e["amount"] for e in call(client, "GET", "/me/points/ledger?limit=100", user).data["items"])


def redeem(client, user, campaign_id):
    return call(client, "POST", f"/coupons/{campaign_id}/redeem", user)


def expire_campaign(campaign_id: str) -> None:
    """As if its expiry had passed: the campaign and each of its stock shards carry it."""
    from chalicelib.models.points import Campaign

    past = iso(utc_now() - timedelta(seconds=1))
    Campaign(campaign_id).update(actions=[Campaign.expires_at.set(past)])
    expire_stock(campaign_id, past)


def expire_stock(campaign_id: str, past: str) -> None:
    from chalicelib.domain.coupons import shard_key
    from chalicelib.models.points import Campaign, CampaignStock

    for shard in range(int(Campaign.get(campaign_id).shard_count)):
        CampaignStock(shard_key(campaign_id, shard)).update(actions=[CampaignStock.expires_at.set(past)])


def expire_coupon(code: str) -> None:
    from chalicelib.models.points import Coupon

    Coupon(code).update(actions=[Coupon.expires_at.set(iso(utc_now() - timedelta(seconds=1)))])


@pytest.fixture
def store(users):
    return users("store", groups=("merchants",))


# -- campaigns -------------------------------------------------------------------------------------


def test_a_merchant_creates_a_campaign_and_shoppers_see_it_with_what_remains(client, users, store):
    # When a merchant creates a campaign
    campaign = create(client, store)
    # Then it is returned whole, with everything remaining
    assert campaign["merchant_id"] == store.user_id
    assert campaign["remaining"] == campaign["total_quantity"] == 5
    assert campaign["status"] == "active"
    assert campaign["expires_at"].endswith("Z")
    # And a shopper sees it in the store's list
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", users()).data
    assert [c["campaign_id"] for c in listed["items"]] == [campaign["campaign_id"]]
    assert listed["items"][0]["remaining"] == 5


def test_only_merchants_create_campaigns(client, users):
    response = call(client, "POST", "/merchants/me/coupons", users("shopper"), campaign_body())
    assert response.status_code == 403


@pytest.mark.parametrize(("overrides", "field"), [
    ({"discount_cents": 0}, "discount_cents"),
    ({"discount_cents": -5}, "discount_cents"),
    ({"discount_cents": "100"}, "discount_cents"),
    ({"min_spend_cents": -1}, "min_spend_cents"),
    ({"points_cost": -1}, "points_cost"),
    ({"total_quantity": 0}, "total_quantity"),
    ({"per_user_limit": 0}, "per_user_limit"),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
    ({"expires_at": "next week"}, "expires_at"),
    ({"title": ""}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_campaigns_are_validated_naming_the_field(client, store, overrides, field):
    response = call(client, "POST", "/merchants/me/coupons", store, campaign_body(**overrides))
    assert response.status_code == 400, response.data
    assert field in response.data["Message"]


def test_expired_campaigns_leave_the_list_and_pages_are_one_query_each(client, users, store):
    campaigns = [create(client, store, title=f"Offer {i}") for i in range(3)]
    expire_campaign(campaigns[1]["campaign_id"])
    shopper = users()
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", shopper).data["items"]
    assert [c["title"] for c in listed] == ["Offer 2", "Offer 0"]
    first = call(client, "GET", f"/merchants/{store.user_id}/coupons?limit=1", shopper).data
    assert [c["title"] for c in first["items"]] == ["Offer 2"]
    seen, cursor = [], first["next_cursor"]
    while cursor:
        page = call(client, "GET", f"/merchants/{store.user_id}/coupons?limit=1&cursor={cursor}", shopper).data
        seen += [c["title"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["Offer 0"]


# -- redeeming -------------------------------------------------------------------------------------


def test_redeeming_debits_the_points_in_the_ledger_and_issues_an_unguessable_code(client, users, store, streams):
    # Given a shopper with 50 points and a 30-point campaign
    shopper = users("shopper")
    give_points(shopper, 50)
    campaign = create(client, store)
    # When they redeem
    response = redeem(client, shopper, campaign["campaign_id"])
    # Then they hold a coupon, 30 points were debited as a ledger entry, and one fewer remains
    assert response.status_code == 201, response.data
    coupon = response.data
    assert coupon["campaign_id"] == campaign["campaign_id"] and coupon["status"] == "issued"
    assert coupon["expires_at"] == campaign["expires_at"]
    assert len(coupon["coupon_code"]) == 16
    assert points(client, shopper) == 20 == ledger_sum(client, shopper)
    entry = call(client, "GET", "/me/points/ledger", shopper).data["items"][0]
    assert (entry["amount"], entry["reason"], entry["ref"]) == (-30, "coupon_redeemed", campaign["campaign_id"])
    # And once the stock's stream is tallied, the store's list shows one fewer
    streams.drain()
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", shopper).data["items"]
    assert listed[0]["remaining"] == 4
    mine = call(client, "GET", "/me/coupons", shopper).data["items"]
    assert [c["coupon_code"] for c in mine] == [coupon["coupon_code"]]
    assert mine[0]["title"] == "10 off camera bags"


def test_redeeming_without_enough_points_is_409_insufficient_points_and_changes_nothing(client, users, store):
    shopper = users()
    give_points(shopper, 29)
    campaign = create(client, store)
    response = redeem(client, shopper, campaign["campaign_id"])
    assert response.status_code == 409
    assert response.data["Code"] == "InsufficientPoints"
    assert points(client, shopper) == 29
    assert call(client, "GET", f"/merchants/{store.user_id}/coupons", shopper).data["items"][0]["remaining"] == 5
    assert call(client, "GET", "/me/coupons", shopper).data["items"] == []


def test_a_sold_out_campaign_is_409_sold_out(client, users, store, streams):
    campaign = create(client, store, total_quantity=1, points_cost=0)
    assert redeem(client, users(), campaign["campaign_id"]).status_code == 201
    response = redeem(client, users(), campaign["campaign_id"])
    assert (response.status_code, response.data["Code"]) == (409, "SoldOut")
    streams.drain()
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", users()).data["items"]
    assert (listed[0]["remaining"], listed[0]["status"]) == (0, "sold_out")


def test_the_per_user_limit_is_409_limit_reached(client, users, store):
    shopper = users()
    give_points(shopper, 100)
    campaign = create(client, store, per_user_limit=2)
    assert redeem(client, shopper, campaign["campaign_id"]).status_code == 201
    assert redeem(client, shopper, campaign["campaign_id"]).status_code == 201
    response = redeem(client, shopper, campaign["campaign_id"])
    assert (response.status_code, response.data["Code"]) == (409, "LimitReached")
    assert points(client, shopper) == 40 == ledger_sum(client, shopper)
    # And the limit's counter is the shopper's own item, not a row in a campaign-wide partition
    from chalicelib.models.points import CouponClaim

    assert int(CouponClaim.get(shopper.user_id, campaign["campaign_id"], consistent_read=True).count) == 2


def test_an_expired_campaign_is_409_expired(client, users, store):
    shopper = users()
    give_points(shopper, 100)
    campaign = create(client, store)
    expire_campaign(campaign["campaign_id"])
    response = redeem(client, shopper, campaign["campaign_id"])
    assert (response.status_code, response.data["Code"]) == (409, "Expired")
    assert points(client, shopper) == 100


def test_a_campaign_that_expires_between_its_read_and_the_redeem_is_409_expired(client, users, store):
    # Given a shopper whose process read the campaign while it was still on
    from chalicelib.services.coupons import campaigns

    shopper = users()
    give_points(shopper, 100)
    campaign = create(client, store)
    campaigns.get(campaign["campaign_id"])
    # When its expiry passes (the stock the redeem takes from says so) and they redeem
    expire_stock(campaign["campaign_id"], iso(utc_now() - timedelta(seconds=1)))
    response = redeem(client, shopper, campaign["campaign_id"])
    # Then the transaction refuses it and they hear Expired, not SoldOut, and pay nothing
    assert (response.status_code, response.data["Code"]) == (409, "Expired")
    assert points(client, shopper) == 100


def test_an_unknown_campaign_is_404_and_a_store_cannot_buy_its_own_coupons(client, users, store):
    assert redeem(client, users(), "no-such-campaign").status_code == 404
    assert redeem(client, users(), "x" * 3000).status_code == 404
    campaign = create(client, store, points_cost=0)
    assert redeem(client, store, campaign["campaign_id"]).status_code == 403


def test_a_free_campaign_needs_no_points_and_writes_no_ledger_entry(client, users, store):
    shopper = users()
    campaign = create(client, store, points_cost=0)
    assert redeem(client, shopper, campaign["campaign_id"]).status_code == 201
    assert call(client, "GET", "/me/points/ledger", shopper).data["items"] == []


# -- using -----------------------------------------------------------------------------------------


@pytest.fixture
def issued(client, users, store):
    shopper = users("shopper")
    give_points(shopper, 30)
    campaign = create(client, store)
    coupon = redeem(client, shopper, campaign["campaign_id"]).data
    return shopper, coupon


def use(client, merchant, code, **extra):
    return call(client, "POST", "/merchants/me/coupons/use", merchant, {"coupon_code": code, **extra})


def test_the_issuing_store_uses_a_coupon_once(client, store, issued):
    shopper, coupon = issued
    # When the store marks it used (typed in lower case with dashes, as cashiers do)
    typed = "-".join(coupon["coupon_code"][i:i + 4] for i in range(0, 16, 4)).lower()
    response = use(client, store, typed, order_total_cents=6000)
    # Then it is used
    assert response.status_code == 200, response.data
    assert response.data["status"] == "used" and response.data["used_at"]
    assert call(client, "GET", "/me/coupons", shopper).data["items"][0]["status"] == "used"
    # And a second use is refused
    again = use(client, store, coupon["coupon_code"])
    assert (again.status_code, again.data["Code"]) == (409, "AlreadyUsed")


def test_another_store_cannot_use_it_and_unknown_codes_are_404(client, users, issued):
    _, coupon = issued
    other_store = users("other", groups=("merchants",))
    assert use(client, other_store, coupon["coupon_code"]).status_code == 403
    assert use(client, other_store, "ZZZZZZZZZZZZZZZZ").status_code == 404
    assert use(client, other_store, "not a code!").status_code == 404
    assert use(client, users("shopper"), coupon["coupon_code"]).status_code == 403


def test_an_expired_coupon_cannot_be_used(client, store, issued):
    shopper, coupon = issued
    expire_coupon(coupon["coupon_code"])
    response = use(client, store, coupon["coupon_code"])
    assert (response.status_code, response.data["Code"]) == (409, "Expired")
    assert call(client, "GET", "/me/coupons", shopper).data["items"][0]["status"] == "expired"


def test_a_checkout_below_the_minimum_spend_is_refused(client, store, issued):
    _, coupon = issued
    response = use(client, store, coupon["coupon_code"], order_total_cents=4999)
    assert (response.status_code, response.data["Code"]) == (409, "MinimumSpendNotMet")
    assert use(client, store, coupon["coupon_code"], order_total_cents=5000).status_code == 200


def test_use_validates_its_body(client, store):
    assert call(client, "POST", "/merchants/me/coupons/use", store, {}).status_code == 400
    assert call(client, "POST", "/merchants/me/coupons/use", store, {"coupon_code": 5}).status_code == 400
    assert call(client, "POST", "/merchants/me/coupons/use", store,
                {"coupon_code": "A", "order_total_cents": -1}).status_code == 400
