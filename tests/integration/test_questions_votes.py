"""Votes on answers: one per user per answer, changeable, counted exactly through the stream."""

import pytest

from tests.support.advice import answer, ask, vote
from tests.support.api import call


@pytest.fixture
def answered(client, users):
    """alice asked, bob answered."""
    alice, bob = users("alice"), users("bob")
    qid = ask(client, alice)["question_id"]
    return alice, bob, qid, answer(client, bob, qid)["answer_id"]


def _answer(client, user, qid, answer_id):
    items = call(client, "GET", f"/questions/{qid}/answers", user).data["items"]
    return next(a for a in items if a["answer_id"] == answer_id)


def test_an_upvote_raises_the_score(client, users, streams, answered):
    alice, bob, qid, answer_id = answered
    response = vote(client, alice, answer_id, 1)
    assert response.status_code == 200
    assert response.data == {"answer_id": answer_id, "value": 1}
    streams.drain()
    seen = _answer(client, alice, qid, answer_id)
    assert (seen["score"], seen["upvotes"], seen["downvotes"], seen["my_vote"]) == (1, 1, 0, 1)


def test_changing_and_withdrawing_a_vote_moves_the_score_by_the_difference(client, users, streams, answered):
    alice, bob, qid, answer_id = answered
    carol = users("carol")
    vote(client, carol, answer_id, 1)
    vote(client, alice, answer_id, 1)
    streams.drain()
    assert _answer(client, alice, qid, answer_id)["score"] == 2
    # When alice turns her upvote into a downvote
    vote(client, alice, answer_id, -1)
    streams.drain()
    seen = _answer(client, alice, qid, answer_id)
    assert (seen["score"], seen["upvotes"], seen["downvotes"]) == (0, 1, 1)
    # When she withdraws it
    assert vote(client, alice, answer_id, 0).data == {"answer_id": answer_id, "value": 0}
    streams.drain()
    seen = _answer(client, alice, qid, answer_id)
    assert (seen["score"], seen["upvotes"], seen["downvotes"], seen["my_vote"]) == (1, 1, 0, 0)


def test_repeated_votes_from_one_user_count_once(client, users, streams, answered):
    alice, bob, qid, answer_id = answered
    for value in (1, 1, 1, -1, -1, 1, 0, 0, -1, -1):
        assert vote(client, alice, answer_id, value).status_code == 200
    streams.drain()
    seen = _answer(client, alice, qid, answer_id)
    assert (seen["score"], seen["upvotes"], seen["downvotes"], seen["my_vote"]) == (-1, 0, 1, -1)


def test_the_vote_item_carries_who_it_rewards(client, users, answered):
    from chalicelib.models.advice import AnswerVote

    alice, bob, qid, answer_id = answered
    vote(client, alice, answer_id, -1)
    stored = AnswerVote.get(*AnswerVote.key(answer_id, alice.user_id))
    assert (stored.value, stored.author_id, stored.question_id, stored.labels) == (-1, bob.user_id, qid, ["camera"])
    # Withdrawing deletes the item: its REMOVE record is what reverses the vote's reward
    vote(client, alice, answer_id, 0)
    with pytest.raises(AnswerVote.DoesNotExist):
        AnswerVote.get(*AnswerVote.key(answer_id, alice.user_id))


def test_voting_on_your_own_answer_is_403(client, users, streams, answered):
    alice, bob, qid, answer_id = answered
    response = vote(client, bob, answer_id, 1)
    assert response.status_code == 403
    streams.drain()
    assert _answer(client, alice, qid, answer_id)["score"] == 0


def test_voting_on_an_unknown_answer_is_404(client, users):
    assert vote(client, users(), "no-such-answer", 1).status_code == 404


def test_a_vote_must_be_1_minus_1_or_0(client, users, answered):
    alice, bob, qid, answer_id = answered
    for body in ({"value": 2}, {"value": "1"}, {"value": 0.5}, {"value": True}, {}, {"value": 1, "x": 1}):
        response = call(client, "PUT", f"/answers/{answer_id}/vote", alice, body)
        assert response.status_code == 400, body
        assert response.data["Code"] == "BadRequestError"


def test_a_whole_number_written_with_a_fraction_is_that_number(client, users, answered):
    # JSON has one number type and JSON Schema's "integer" includes 1.0, so the API takes it as 1
    alice, bob, qid, answer_id = answered
    response = call(client, "PUT", f"/answers/{answer_id}/vote", alice, {"value": -1.0})
    assert response.status_code == 200, response.data
    assert response.data["value"] == -1


def test_replayed_vote_records_leave_the_tallies_unchanged(client, users, chaos_streams, answered):
    # Given many vote changes delivered in random splits, every batch twice
    alice, bob, qid, answer_id = answered
    others = [users(f"v{i}") for i in range(4)]
    for voter, values in zip(others, ([1], [1, -1], [-1, 0], [1, 0, 1]), strict=True):
        for value in values:
            vote(client, voter, answer_id, value)
    vote(client, alice, answer_id, 1)
    chaos_streams.drain()
    # Then the tallies are what one delivery would give
    seen = _answer(client, alice, qid, answer_id)
    assert (seen["score"], seen["upvotes"], seen["downvotes"]) == (2, 3, 1)
