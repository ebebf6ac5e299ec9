"""Under contention (DynamoDB's conflicts, injected) no request answers 500, nothing is lost or doubled.

Each test chooses hot items with the conflict injector and drives the real routes and the real
stream runner. An attempt that loses a race is run again under the one retry rule; when the
attempts run out the client gets 503 `Busy` with `Retry-After` and nothing was written, and a
stream record fails and is delivered again until its effects land exactly once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chalicelib.domain import polls
from chalicelib.domain.ids import iso, utc_now
from chalicelib.domain.points import ACCEPTED_ANSWER, ACCEPTING_ASKER, VOTE_UP, Award
from chalicelib.models import transactions
from chalicelib.models.advice import Answer, AnswerVote, Question
from chalicelib.models.effects import AppliedEffect
from chalicelib.models.points import CampaignStock, Coupon, Wallet
from chalicelib.models.posts import PollTally, PollVote
from tests.support.advice import answer, ask, vote
from tests.support.api import call
from tests.support.conflicts import ConflictInjector
from tests.support.posts import publish

TWO_LENSES = {"options": [{"text": "35mm"}, {"text": "50mm"}], "closes_in_hours": 2}


@pytest.fixture
def conflicts(tables):
    with ConflictInjector(seed=5) as injector:
        yield injector


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The retry rule's backoffs, recorded instead of slept (counted, never timed)."""
    slept: list[float] = []
    monkeypatch.setattr(transactions, "_pause", slept.append)
    return slept


def assert_busy(response) -> None:
    assert response.status_code == 503, response.data
    assert response.data["Code"] == "Busy"
    assert int(response.headers["Retry-After"]) >= 1


# -- poll votes -------------------------------------------------------------------------------------
def _votes(post_id: str) -> dict[str, int]:
    return {vote.user_id: int(vote.option) for key in polls.vote_keys(post_id) for vote in PollVote.query(key)}


def _tally(client, user, post_id: str) -> list[int]:
    return [option["votes"] for option in call(client, "GET", f"/posts/{post_id}", user).data["poll"]["options"]]


@pytest.mark.parametrize("method,suffix,body", [("POST", "", {"option": 1}), ("PUT", "/me", {"option": 1}),
                                                ("DELETE", "/me", None)])
def test_a_poll_vote_that_keeps_losing_races_is_503_busy_and_writes_nothing(
        client, users, conflicts, pauses, streams, method, suffix, body):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    if method == "DELETE":
        assert call(client, "PUT", f"/posts/{post_id}/poll/votes/me", bob, {"option": 0}).status_code == 200
    before = _votes(post_id)
    # Given every write of the poll's votes is refused as DynamoDB refuses a contended item
    rule = conflicts.cancel(PollVote, lambda key: key.get("vote_key", "").startswith(f"{post_id}#"))
    # When bob votes, changes or withdraws
    response = call(client, method, f"/posts/{post_id}/poll/votes{suffix}", bob, body)
    # Then he is told to come back, after the bounded retries, and nothing was written
    assert_busy(response)
    assert rule.injected == transactions.ATTEMPTS and len(pauses) == transactions.ATTEMPTS - 1
    assert _votes(post_id) == before
    # And once the contention is gone his request goes through and is counted
    conflicts.clear()
    assert call(client, method, f"/posts/{post_id}/poll/votes{suffix}", bob, body).status_code in (200, 204)
    streams.drain()
    assert _tally(client, alice, post_id) == ([0, 1] if body else [0, 0])


def test_poll_votes_and_tallies_under_random_conflicts_are_counted_exactly(client, users, conflicts, pauses, streams):
    alice = users("alice")
    voters = [users(f"voter{index}") for index in range(10)]
    post_id = publish(client, alice, poll=TWO_LENSES)
    # Given conflicts on 70 % of the poll's vote writes and of its tally items' transactions
    votes = conflicts.cancel(PollVote, lambda key: key.get("vote_key", "").startswith(f"{post_id}#"), rate=0.7)
    tallies = conflicts.cancel(PollTally, lambda key: key["tally_key"].startswith(f"{post_id}#"), rate=0.7)
    statuses = {}
    for index, voter in enumerate(voters):
        statuses[voter.user_id] = call(client, "PUT", f"/posts/{post_id}/poll/votes/me", voter,
                                       {"option": index % 2}).status_code
    for voter in voters[:4]:  # some change their minds
        statuses[voter.user_id] = call(client, "DELETE", f"/posts/{post_id}/poll/votes/me", voter).status_code
    streams.drain()
    # No 500; every vote that stands is counted once, under the conflicts on the tallies too
    assert set(statuses.values()) <= {200, 204, 503}
    stored = _votes(post_id)
    conflicts.clear()
    assert _tally(client, alice, post_id) == [list(stored.values()).count(option) for option in (0, 1)]
    assert votes.injected > len(voters) and tallies.injected > 0 and len(pauses) > 0  # the races were real


# -- coupon redemption ------------------------------------------------------------------------------
def _give_points(user, amount: int) -> None:
    from chalicelib.services.rewards import settle_cause

    settle_cause(user.user_id, f"test#{uuid.uuid4().hex}", Award(amount, "answer_accepted", capped=False),
                 effect_id=f"test:{uuid.uuid4().hex}", at=utc_now(), ref="test")


def _campaign(client, store, quantity: int) -> str:
    body = {"title": "10 off", "discount_cents": 1000, "min_spend_cents": 5000, "points_cost": 30,
            "total_quantity": quantity, "per_user_limit": 1, "expires_at": iso(utc_now() + timedelta(days=3))}
    response = call(client, "POST", "/merchants/me/coupons", store, body)
    assert response.status_code == 201, response.data
    return response.data["campaign_id"]


def _stock_left(campaign_id: str) -> int:
    from chalicelib.domain.coupons import shard_key
    from chalicelib.models.points import Campaign

    count = int(Campaign.get(campaign_id, consistent_read=True).shard_count)
    return sum(int(CampaignStock.get(shard_key(campaign_id, shard), consistent_read=True).remaining)
               for shard in range(count))


def _shards_of(campaign_id: str):
    return lambda key: key["stock_id"].startswith(f"{campaign_id}#")


def _ledger(client, user) -> list[int]:
    return [entry["amount"] for entry in call(client, "GET", "/me/points/ledger?limit=100", user).data["items"]]


def test_coupon_redeems_under_conflicts_never_oversell_lose_or_double(client, users, conflicts, pauses):
    store = users("store", groups=("merchants",))
    shoppers = [users(f"shopper{index}") for index in range(8)]
    for shopper in shoppers:
        _give_points(shopper, 50)
    campaign_id = _campaign(client, store, quantity=4)
    # Given the campaign's stock shards (the hot items of a flash sale) are contended on most attempts
    rule = conflicts.cancel(CampaignStock, _shards_of(campaign_id), rate=0.75)
    statuses = {s.user_id: call(client, "POST", f"/coupons/{campaign_id}/redeem", s).status_code for s in shoppers}
    assert set(statuses.values()) <= {201, 409, 503}, statuses
    # And the ones turned away try again once it has calmed down
    conflicts.clear()
    for shopper in shoppers:
        if statuses[shopper.user_id] == 503:
            statuses[shopper.user_id] = call(client, "POST", f"/coupons/{campaign_id}/redeem", shopper).status_code
    # Then no 500, the stock sold exactly once each, and each buyer paid exactly once
    assert set(statuses.values()) <= {201, 409}, statuses
    buyers = {user_id for user_id, status in statuses.items() if status == 201}
    assert len(buyers) == 4
    assert _stock_left(campaign_id) == 0
    for shopper in shoppers:
        owned = [c for c in Coupon.by_owner.query(shopper.user_id) if c.campaign_id == campaign_id]
        bought = shopper.user_id in buyers
        assert len(owned) == (1 if bought else 0)
        assert int(Wallet.get(shopper.user_id, consistent_read=True).balance) == (20 if bought else 50)
        assert sorted(_ledger(client, shopper)) == ([-30, 50] if bought else [50])
    assert rule.injected > 0 and len(pauses) > 0


def test_a_redeem_that_keeps_losing_races_is_503_busy_and_spends_nothing(client, users, conflicts, pauses):
    store, shopper = users("store", groups=("merchants",)), users("shopper")
    _give_points(shopper, 50)
    campaign_id = _campaign(client, store, quantity=2)
    conflicts.cancel(Wallet, lambda key: key["user_id"] == shopper.user_id)
    assert_busy(call(client, "POST", f"/coupons/{campaign_id}/redeem", shopper))
    assert _stock_left(campaign_id) == 2
    assert int(Wallet.get(shopper.user_id, consistent_read=True).balance) == 50
    assert _ledger(client, shopper) == [50] and list(Coupon.by_owner.query(shopper.user_id)) == []


def test_a_flash_sale_under_realistic_contention_sells_out_exactly_and_never_answers_500(client, users, streams,
                                                                                         conflicts, pauses):
    # Given 12 coupons over 12 shards, 30 shoppers, and a third of the attempts on any shard or
    # wallet meeting another transaction (DynamoDB at ~50 tx/s per item)
    store = users("store", groups=("merchants",))
    shoppers = [users(f"shopper{index}") for index in range(30)]
    for shopper in shoppers:
        _give_points(shopper, 30)
    campaign_id = _campaign(client, store, quantity=12)
    shards = conflicts.cancel(CampaignStock, _shards_of(campaign_id), rate=0.33)
    wallets = conflicts.cancel(Wallet, rate=0.33)
    # When each shopper redeems, and tries again after any 503
    answers: dict[str, list[int]] = {s.user_id: [] for s in shoppers}
    for _ in range(3):
        for shopper in shoppers:
            if answers[shopper.user_id][-1:] in ([], [503]):
                response = call(client, "POST", f"/coupons/{campaign_id}/redeem", shopper)
                if response.status_code == 503:
                    assert_busy(response)
                answers[shopper.user_id].append(response.status_code)
    # Then no request answered 500, and exactly 12 coupons went to 12 shoppers who paid once each
    codes = [code for seen in answers.values() for code in seen]
    assert set(codes) <= {201, 409, 503} and codes.count(201) == 12, answers
    assert _stock_left(campaign_id) == 0
    paid = [s for s in shoppers if int(Wallet.get(s.user_id, consistent_read=True).balance) == 0]
    assert sorted(s.user_id for s in paid) == sorted(u for u, seen in answers.items() if 201 in seen)
    assert sum(len([c for c in Coupon.by_owner.query(s.user_id) if c.campaign_id == campaign_id])
               for s in shoppers) == 12
    # And those who were turned away heard SoldOut, once every shard was empty
    last = [seen[-1] for seen in answers.values()]
    assert last.count(409) == 18
    conflicts.clear()
    streams.drain()
    listed = call(client, "GET", f"/merchants/{store.user_id}/coupons", store).data["items"]
    assert (listed[0]["remaining"], listed[0]["status"]) == (0, "sold_out")
    assert shards.injected > 0 and wallets.injected > 0 and len(pauses) > 0


# -- answer votes and acceptance --------------------------------------------------------------------
@pytest.fixture
def answered(client, users):
    """alice asked, bob answered."""
    alice, bob = users("alice"), users("bob")
    question_id = ask(client, alice)["question_id"]
    return alice, bob, question_id, answer(client, bob, question_id)["answer_id"]


def _answer(answer_id: str) -> Answer:
    return Answer.get(answer_id, consistent_read=True)


def test_an_answer_vote_refused_by_conflicts_is_retried_and_counted_once(client, users, streams, conflicts,
                                                                         pauses, answered):
    alice, bob, question_id, answer_id = answered
    carol = users("carol")
    # Given the first two writes of carol's vote item meet a transaction holding it
    rule = conflicts.cancel(AnswerVote, lambda key: key["voter_id"] == carol.user_id, first=2)
    response = vote(client, carol, answer_id, 1)
    assert response.status_code == 200, response.data
    assert rule.injected == 2 and len(pauses) == 2
    streams.drain()
    assert (int(_answer(answer_id).score), int(_answer(answer_id).upvotes)) == (1, 1)


def test_an_answer_vote_that_keeps_losing_races_is_503_busy(client, users, streams, conflicts, pauses, answered):
    alice, bob, question_id, answer_id = answered
    conflicts.cancel(AnswerVote, conditional_only=False)
    assert_busy(vote(client, alice, answer_id, 1))
    conflicts.clear()
    assert vote(client, alice, answer_id, 1).status_code == 200
    conflicts.cancel(AnswerVote, conditional_only=False)
    assert_busy(vote(client, alice, answer_id, 0))  # a withdrawal too
    streams.drain()
    assert int(_answer(answer_id).score) == 1  # the vote that got through, once


def test_acceptance_under_conflicts_is_retried_then_busy_and_leaves_one_accepted(client, users, conflicts, pauses,
                                                                                 answered):
    alice, bob, question_id, first_id = answered
    second_id = answer(client, users("carol"), question_id)["answer_id"]
    # Given the question is held by other transactions on its first three attempts
    rule = conflicts.cancel(Question, lambda key: key["question_id"] == question_id, first=3)
    accepted = call(client, "POST", f"/questions/{question_id}/accept", alice, {"answer_id": first_id})
    assert accepted.status_code == 200, accepted.data
    assert rule.injected == 3
    # When moving the acceptance keeps losing races
    conflicts.cancel(Answer, lambda key: key["answer_id"] == second_id)
    assert_busy(call(client, "POST", f"/questions/{question_id}/accept", alice, {"answer_id": second_id}))
    # Then nothing moved: exactly the first answer is accepted
    assert Question.get(question_id, consistent_read=True).accepted_answer_id == first_id
    assert (bool(_answer(first_id).accepted), bool(_answer(second_id).accepted)) == (True, False)


# -- stream effects ---------------------------------------------------------------------------------
def test_stream_effects_under_conflicts_converge_exactly_after_the_runner_retries(client, users, streams, conflicts,
                                                                                  pauses, answered):
    alice, bob, question_id, answer_id = answered
    voters = [users(f"voter{index}") for index in range(3)]
    streams.drain()
    for voter in voters:
        assert vote(client, voter, answer_id, 1).status_code == 200
    assert call(client, "POST", f"/questions/{question_id}/accept", alice, {"answer_id": answer_id}).status_code == 200
    # Given the first stream transaction loses every race (its record fails and is delivered again),
    # and every effect's marker and every wallet lose half of them after that
    exhausted = conflicts.cancel(AppliedEffect, rate=1.0, first=transactions.ATTEMPTS)
    markers = conflicts.cancel(AppliedEffect, rate=0.5)
    wallets = conflicts.cancel(Wallet, rate=0.5)
    streams.drain()
    conflicts.clear()
    # Then every effect landed exactly once
    seen = _answer(answer_id)
    assert (int(seen.score), int(seen.upvotes), bool(seen.accepted)) == (3, 3, True)
    assert int(Question.get(question_id, consistent_read=True).answer_count) == 1
    assert int(Wallet.get(bob.user_id, consistent_read=True).balance) == 3 * VOTE_UP + ACCEPTED_ANSWER
    assert int(Wallet.get(alice.user_id, consistent_read=True).balance) == ACCEPTING_ASKER
    assert sorted(_ledger(client, bob)) == sorted([VOTE_UP] * 3 + [ACCEPTED_ANSWER])
    leaders = call(client, "GET", "/leaderboards/camera", alice).data["items"]
    assert [(row["user_id"], row["score"]) for row in leaders] == [(bob.user_id, 3)]
    assert streams.set_aside == []
    assert exhausted.injected == transactions.ATTEMPTS and markers.injected > 0 and wallets.injected > 0
