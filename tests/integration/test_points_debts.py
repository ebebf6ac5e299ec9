"""Spent points cannot be earned twice: exact reversals, debts and the redeem refusal, end to end.

Issue #12, defects 1 and 2. Each scenario is the attack as a helper account would run it through the
routes, with the real stream runner carrying the votes and acceptances to the reward engine.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.ids import iso, utc_now
from chalicelib.domain.points import DAILY_CAP
from tests.support.advice import answer, ask, vote
from tests.support.api import call
from tests.support.points import balance, ledger, points


def campaign(client, store, points_cost: int) -> str:
    body = {"title": f"{points_cost} points off", "discount_cents": 500, "min_spend_cents": 0,
            "points_cost": points_cost, "total_quantity": 100, "per_user_limit": 100,
            "expires_at": iso(utc_now() + timedelta(days=30))}
    response = call(client, "POST", "/merchants/me/coupons", store, body)
    assert response.status_code == 201, response.data
    return response.data["campaign_id"]


def redeem(client, user, campaign_id: str):
    return call(client, "POST", f"/coupons/{campaign_id}/redeem", user)


def coupons_held(client, user) -> int:
    return len(call(client, "GET", "/me/coupons?limit=100", user).data["items"])


def accept(client, asker, question_id: str, answer_id: str) -> None:
    response = call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id})
    assert response.status_code == 200, response.data


@pytest.fixture
def store(users):
    return users("store", groups=("merchants",))


@pytest.fixture
def two_answers(client, users):
    """A helper account's question with two answers by the farmer and one by someone else."""
    helper, farmer, other = users("helper"), users("farmer"), users("other")
    for user in (helper, farmer, other):
        call(client, "GET", "/me", user)
    question_id = ask(client, helper)["question_id"]
    farmed = answer(client, farmer, question_id)["answer_id"]
    elsewhere = answer(client, other, question_id, "Take the other one")["answer_id"]
    return helper, farmer, question_id, farmed, elsewhere


def test_moving_an_acceptance_away_and_back_after_redeeming_mints_no_second_coupon(
        client, users, streams, store, two_answers):
    # Given the farmer's answer accepted (+15) and the 15 points spent on a coupon
    helper, farmer, question_id, farmed, elsewhere = two_answers
    offer = campaign(client, store, points_cost=15)
    accept(client, helper, question_id, farmed)
    streams.drain()
    assert balance(client, farmer) == 15
    assert redeem(client, farmer, offer).status_code == 201
    for _ in range(3):
        # When the helper moves the acceptance away: the 15 are taken back, into a debt
        accept(client, helper, question_id, elsewhere)
        streams.drain()
        assert balance(client, farmer) == -15
        # and a debt redeems nothing, not even a free coupon
        for cost in (15, 0):
            refused = redeem(client, farmer, campaign(client, store, points_cost=cost))
            assert (refused.status_code, refused.data["Code"]) == (409, "InsufficientPoints")
        # When the acceptance comes back, the 15 pay the debt, and nothing is left to redeem
        accept(client, helper, question_id, farmed)
        streams.drain()
        assert balance(client, farmer) == 0
        refused = redeem(client, farmer, offer)
        assert (refused.status_code, refused.data["Code"]) == (409, "InsufficientPoints")
    # Then one acceptance bought one coupon, and every move is in the ledger at its full amount
    assert coupons_held(client, farmer) == 1
    # (stream records carry whole seconds, so entries of one second need not sort in order of writing)
    moves = sorted((e["reason"], e["amount"]) for e in ledger(client, farmer))
    assert moves == [("acceptance_moved", -15)] * 3 + [("answer_accepted", 15)] * 4 + [("coupon_redeemed", -15)]
    assert points(client, farmer)["lifetime_earned"] == 15


def test_upvoting_redeeming_and_withdrawing_buys_at_most_the_daily_cap(client, users, streams, store):
    # Given a farmer with 20 answers and a helper who upvotes all of them: 200 points, the day's cap
    helper, farmer = users("helper"), users("farmer")
    for user in (helper, farmer):
        call(client, "GET", "/me", user)
    question_id = ask(client, helper)["question_id"]
    answers = [answer(client, farmer, question_id, f"Take model {i}")["answer_id"] for i in range(20)]
    offer = campaign(client, store, points_cost=DAILY_CAP)

    def vote_all(value: int) -> None:
        for answer_id in answers:
            assert vote(client, helper, answer_id, value).status_code == 200
        streams.drain()

    vote_all(1)
    assert balance(client, farmer) == DAILY_CAP
    assert redeem(client, farmer, offer).status_code == 201
    for _ in range(2):
        # When every upvote is withdrawn: each takes back its 10, and frees 10 of the day's cap
        vote_all(0)
        assert balance(client, farmer) == -DAILY_CAP
        assert points(client, farmer)["capped_earned_today"] == 0
        # When they are cast again: the 200 only pay the debt
        vote_all(1)
        assert balance(client, farmer) == 0
        assert points(client, farmer)["capped_earned_today"] == DAILY_CAP
        refused = redeem(client, farmer, offer)
        assert (refused.status_code, refused.data["Code"]) == (409, "InsufficientPoints")
    # Then the day's votes bought one cap's worth of coupons, not three
    assert coupons_held(client, farmer) == 1


def test_debts_replayed_by_the_streams_change_nothing(client, users, tables, chaos_streams, store, two_answers):
    # Given the acceptance farming played with every stream record delivered twice, batches split at random
    helper, farmer, question_id, farmed, elsewhere = two_answers
    offer = campaign(client, store, points_cost=15)
    accept(client, helper, question_id, farmed)
    chaos_streams.drain()
    assert redeem(client, farmer, offer).status_code == 201
    accept(client, helper, question_id, elsewhere)
    accept(client, helper, question_id, farmed)
    accept(client, helper, question_id, elsewhere)
    chaos_streams.drain()
    # Then each move counted once: the farmer owes the 15 spent, the asker has one +2
    assert balance(client, farmer) == -15
    assert balance(client, helper) == 2
    # And replaying every stream from its first record changes nothing
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    people = (farmer, helper)
    before = {u.user_id: (points(client, u), ledger(client, u)) for u in people}
    assert StreamRunner(app, tables.session).drain() > 0
    assert {u.user_id: (points(client, u), ledger(client, u)) for u in people} == before
