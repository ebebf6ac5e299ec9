"""Coupons under real concurrency: threads racing through the HTTP API of the local stack.

Only the stack can prove this (moto server serialises DynamoDB calls the way DynamoDB is atomic;
in-process moto is not atomic across threads). Points are earned the way shoppers earn them: an
upvote through the API, rewarded by the real AnswerVotes stream handler. A campaign's stock is
sharded (one shard a coupon for these small campaigns); `remaining` is the stream's tally, so it is
read with `eventually`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

RACERS = 12


def race(stack, calls: list[tuple]) -> list[requests.Response]:
    """Fire every (method, path, user) at once from its own thread and connection."""
    barrier = threading.Barrier(len(calls))

    def fire(method, path, user):
        with requests.Session() as session:
            barrier.wait()
            return session.request(method, stack.api_url + path, headers=user.headers, timeout=60)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: fire(*call), calls))


def campaign(stack, merchant, **overrides) -> dict:
    body = {"title": "Race day", "discount_cents": 500, "min_spend_cents": 0, "points_cost": 0,
            "total_quantity": 1, "per_user_limit": 1,
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")}
    body.update(overrides)
    response = stack.call("POST", "/merchants/me/coupons", merchant, body)
    assert response.status_code == 201, response.text
    return response.json()


def earn_points(stack, shopper, upvotes: int) -> None:
    """`upvotes` shoppers upvote an answer of `shopper`'s: 10 points each, through the stream."""
    asker = stack.sign_up("asker")
    question = stack.call("POST", "/questions", asker, {"title": "Which lens?", "body": "For portraits",
                                                         "labels": ["camera"]})
    assert question.status_code == 201, question.text
    answer = stack.call("POST", f"/questions/{question.json()['question_id']}/answers", shopper,
                        {"body": "The 50 mm"})
    assert answer.status_code == 201, answer.text
    for _ in range(upvotes):
        voter = stack.sign_up("voter")
        assert stack.call("PUT", f"/answers/{answer.json()['answer_id']}/vote", voter, {"value": 1}).ok
    stack.eventually(lambda: balance(stack, shopper) == 10 * upvotes, timeout=10)


def balance(stack, user) -> int:
    return stack.call("GET", "/me/points", user).json()["balance"]


def ledger_sum(stack, user) -> int:
    return sum(e["amount"] for e in stack.call("GET", "/me/points/ledger?limit=100", user).json()["items"])


def remaining(stack, merchant, campaign_id) -> int:
    items = stack.call("GET", f"/merchants/{merchant.user_id}/coupons?limit=100", merchant).json()["items"]
    return next(c["remaining"] for c in items if c["campaign_id"] == campaign_id)


def settles_at(stack, merchant, campaign_id, expected: int) -> None:
    """The tally reaches `expected` (it trails the shards by the stream's delay)."""
    stack.eventually(lambda: remaining(stack, merchant, campaign_id) == expected, timeout=10)


def test_racers_for_the_last_coupon_exactly_one_wins(stack):
    # Given a campaign with one coupon left
    merchant = stack.sign_up("store", groups=("merchants",))
    offer = campaign(stack, merchant, total_quantity=2)
    assert stack.call("POST", f"/coupons/{offer['campaign_id']}/redeem", stack.sign_up()).status_code == 201
    racers = [stack.sign_up(f"racer{i}") for i in range(RACERS)]
    # When many shoppers redeem it at the same moment
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", racer) for racer in racers])
    # Then exactly one gets it, everyone else hears SoldOut, and nothing is left
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    assert {r.json()["Code"] for r in responses if r.status_code == 409} == {"SoldOut"}
    settles_at(stack, merchant, offer["campaign_id"], 0)
    holders = [racer for racer in racers if stack.call("GET", "/me/coupons", racer).json()["items"]]
    assert len(holders) == 1


def test_one_shopper_with_points_for_one_coupon_gets_exactly_one(stack):
    # Given a shopper with 10 points, earned by an upvote, and a plentiful 10-point campaign
    merchant = stack.sign_up("store", groups=("merchants",))
    shopper = stack.sign_up("shopper")
    earn_points(stack, shopper, upvotes=1)
    offer = campaign(stack, merchant, points_cost=10, total_quantity=50, per_user_limit=50)
    # When they fire many redemptions at once
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", shopper)] * RACERS)
    # Then exactly one succeeds, the rest are InsufficientPoints, and the balance is 0, not below
    assert sorted(r.status_code for r in responses) == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    assert {r.json()["Code"] for r in responses if r.status_code == 409} == {"InsufficientPoints"}
    assert balance(stack, shopper) == 0 == ledger_sum(stack, shopper)
    assert len(stack.call("GET", "/me/coupons", shopper).json()["items"]) == 1
    settles_at(stack, merchant, offer["campaign_id"], 49)


def test_one_shopper_racing_the_per_user_limit_gets_exactly_the_limit(stack):
    # Given a shopper with 30 points and a 1-point campaign allowing 2 per shopper
    merchant = stack.sign_up("store", groups=("merchants",))
    shopper = stack.sign_up("shopper")
    earn_points(stack, shopper, upvotes=3)
    offer = campaign(stack, merchant, points_cost=1, total_quantity=50, per_user_limit=2)
    # When they fire many redemptions at once
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", shopper)] * RACERS)
    # Then exactly two succeed and exactly two points are spent
    assert sorted(r.status_code for r in responses) == [201, 201] + [409] * (RACERS - 2)
    assert {r.json()["Code"] for r in responses if r.status_code == 409} == {"LimitReached"}
    assert balance(stack, shopper) == 28 == ledger_sum(stack, shopper)


def test_many_shoppers_with_just_enough_points_never_overspend_or_oversell(stack):
    # Given five shoppers with 10 points each and three 10-point coupons
    merchant = stack.sign_up("store", groups=("merchants",))
    shoppers = [stack.sign_up(f"shopper{i}") for i in range(5)]
    for shopper in shoppers:
        earn_points(stack, shopper, upvotes=1)
    offer = campaign(stack, merchant, points_cost=10, total_quantity=3, per_user_limit=3)
    # When each fires three redemptions at once
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", s) for s in shoppers] * 3)
    # Then three coupons are issued in all, to three different shoppers, and no balance is negative
    assert [r.status_code for r in responses].count(201) == 3
    balances = [balance(stack, s) for s in shoppers]
    assert sorted(balances) == [0, 0, 0, 10, 10]
    assert all(b == ledger_sum(stack, s) for b, s in zip(balances, shoppers, strict=True))
    settles_at(stack, merchant, offer["campaign_id"], 0)


def test_forty_racers_for_ten_coupons_over_ten_shards_exactly_ten_win(stack):
    # Given a free campaign of 10 coupons, one on each of its 10 stock shards
    merchant = stack.sign_up("store", groups=("merchants",))
    offer = campaign(stack, merchant, total_quantity=10)
    racers = [stack.sign_up(f"racer{i}") for i in range(40)]
    # When 40 shoppers redeem at the same moment
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", racer) for racer in racers])
    # Then exactly 10 win, to 10 different shoppers, and the other 30 hear SoldOut (never a 500)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 30, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["Code"] for r in responses if r.status_code == 409} == {"SoldOut"}
    holders = [racer for racer in racers if stack.call("GET", "/me/coupons", racer).json()["items"]]
    assert len(holders) == 10
    # And the tally comes to 0, and later shoppers hear SoldOut too
    settles_at(stack, merchant, offer["campaign_id"], 0)
    late = stack.call("POST", f"/coupons/{offer['campaign_id']}/redeem", stack.sign_up("late"))
    assert (late.status_code, late.json()["Code"]) == (409, "SoldOut")


def test_one_shopper_racing_a_sharded_campaign_gets_exactly_the_limit(stack):
    # Given a free campaign of 30 coupons over 30 shards allowing 3 per shopper
    merchant = stack.sign_up("store", groups=("merchants",))
    shopper = stack.sign_up("shopper")
    offer = campaign(stack, merchant, total_quantity=30, per_user_limit=3)
    # When they fire 20 redemptions at once (landing on different shards)
    responses = race(stack, [("POST", f"/coupons/{offer['campaign_id']}/redeem", shopper)] * 20)
    # Then exactly 3 succeed, the rest are LimitReached, and 27 remain
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 17, [r.text for r in responses]
    assert {r.json()["Code"] for r in responses if r.status_code == 409} == {"LimitReached"}
    assert len(stack.call("GET", "/me/coupons", shopper).json()["items"]) == 3
    settles_at(stack, merchant, offer["campaign_id"], 27)
