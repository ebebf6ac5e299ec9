"""Points and experts through the routes and the real stream path.

Votes, acceptances and helpful marks go through the advice routes where one shopper each is
enough; where a scenario needs dozens of voters (the daily cap, expert levels), AnswerVote and
HelpfulMark items are written directly, shaped as the advice routes write them, and the real
streams deliver them.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.ids import now_iso
from chalicelib.domain.points import Purse, settle, vote_transitions
from tests.support.advice import answer, ask, given_answer, notifications, product, review, vote
from tests.support.api import call
from tests.support.points import balance, ledger, points


def write_vote(answer_id: str, voter_id: str, value: int, author_id: str, labels=("camera",)) -> None:
    """An AnswerVote item as the vote route writes it (value 0 deletes it)."""
    from chalicelib.models.advice import AnswerVote

    if value == 0:
        AnswerVote.of(answer_id, voter_id).delete()
        return
    given_answer(answer_id, author_id, labels)
    AnswerVote.of(answer_id, voter_id, value=value, author_id=author_id, question_id="q-" + answer_id,
               labels=list(labels), updated_at=now_iso()).save()


def write_mark(review_id: str, marker_id: str, reviewer_id: str, marked: bool, labels=("makeup",)) -> None:
    from chalicelib.models.advice import HelpfulMark

    if not marked:
        HelpfulMark(review_id, marker_id).delete()
        return
    HelpfulMark(review_id, marker_id, reviewer_id=reviewer_id, product_id="p-" + review_id, labels=list(labels),
                created_at=now_iso()).save()


@pytest.fixture
def qa(client, users):
    """An asker's question (labels camera, phone) with one answer by an answerer."""
    asker, answerer = users("asker"), users("answerer")
    for user in (asker, answerer):
        call(client, "GET", "/me", user)
    question = ask(client, asker, labels=("camera", "phone"))
    given_answer = answer(client, answerer, question["question_id"])
    return asker, answerer, question["question_id"], given_answer["answer_id"]


# -- rewards ---------------------------------------------------------------------------------------


def test_an_upvote_gives_the_answerer_ten_points_as_a_ledger_entry(client, users, streams, qa):
    # Given an answer
    _, answerer, _, answer_id = qa
    voter = users("voter")
    # When a shopper upvotes it
    assert vote(client, voter, answer_id, 1).status_code == 200
    streams.drain()
    # Then the answerer has 10 points, earned, recorded as one entry about that answer
    assert points(client, answerer)["balance"] == 10
    assert points(client, answerer)["lifetime_earned"] == 10
    [entry] = ledger(client, answerer)
    assert (entry["amount"], entry["reason"], entry["ref"]) == (10, "answer_upvoted", answer_id)
    assert entry["created_at"].endswith("Z")
    # and the voter got nothing
    assert points(client, voter)["balance"] == 0


def test_changing_and_withdrawing_a_vote_reverses_exactly_what_it_gave(client, users, streams, qa):
    # Given an answer with two upvotes (20 points)
    _, answerer, _, answer_id = qa
    first, second = users("first"), users("second")
    vote(client, first, answer_id, 1)
    vote(client, second, answer_id, 1)
    streams.drain()
    assert balance(client, answerer) == 20
    # When one voter changes to a downvote
    vote(client, first, answer_id, -1)
    streams.drain()
    # Then the +10 is reversed and -2 taken: 8
    assert balance(client, answerer) == 8
    # When the downvote is withdrawn
    vote(client, first, answer_id, 0)
    streams.drain()
    # Then the 2 come back
    assert balance(client, answerer) == 10
    reasons = [entry["reason"] for entry in reversed(ledger(client, answerer))]
    assert reasons == ["answer_upvoted", "answer_upvoted", "upvote_withdrawn", "answer_downvoted",
                       "downvote_withdrawn"]


def test_a_downvote_never_takes_the_balance_below_zero_and_records_what_it_took(client, users, streams, qa):
    # Given an answerer with no points
    _, answerer, _, answer_id = qa
    # When their answer is downvoted
    vote(client, users(), answer_id, -1)
    streams.drain()
    # Then the balance stays 0 and the ledger says the penalty took 0
    assert balance(client, answerer) == 0
    [entry] = ledger(client, answerer)
    assert (entry["amount"], entry["reason"]) == (0, "answer_downvoted")


def test_acceptance_rewards_both_and_moving_it_reverses_both(client, users, streams, qa):
    # Given a question with two answers
    asker, first_answerer, question_id, first_answer = qa
    second_answerer = users("second")
    call(client, "GET", "/me", second_answerer)
    second_answer = answer(client, second_answerer, question_id, "Take the other one")["answer_id"]
    # When the asker accepts the first
    assert call(client, "POST", f"/questions/{question_id}/accept", asker,
                {"answer_id": first_answer}).status_code == 200
    streams.drain()
    # Then its author gets 15 and the asker 2
    assert balance(client, first_answerer) == 15
    assert balance(client, asker) == 2
    # When the acceptance moves to the second answer
    assert call(client, "POST", f"/questions/{question_id}/accept", asker,
                {"answer_id": second_answer}).status_code == 200
    streams.drain()
    # Then the first author's 15 are reversed, the second's granted; the asker keeps one +2
    assert balance(client, first_answerer) == 0
    assert balance(client, second_answerer) == 15
    assert balance(client, asker) == 2
    assert sorted((e["reason"], e["amount"]) for e in ledger(client, asker)) == [
        ("acceptance_moved", -2), ("accepted_an_answer", 2), ("accepted_an_answer", 2)]


def test_a_helpful_mark_gives_the_reviewer_five_and_unmarking_takes_them_back(client, users, streams):
    # Given a review of a merchant's product
    merchant, reviewer, reader = users("store", groups=("merchants",)), users("reviewer"), users("reader")
    for user in (merchant, reviewer, reader):
        call(client, "GET", "/me", user)
    review_id = review(client, reviewer, product(client, merchant)["product_id"])["review_id"]
    # When a reader marks it helpful
    assert call(client, "PUT", f"/reviews/{review_id}/helpful", reader, {"value": True}).status_code == 200
    streams.drain()
    # Then the reviewer gets 5
    assert balance(client, reviewer) == 5
    # When the reader takes the mark back
    assert call(client, "PUT", f"/reviews/{review_id}/helpful", reader, {"value": False}).status_code == 200
    streams.drain()
    # Then the 5 are taken back
    assert balance(client, reviewer) == 0
    assert [e["amount"] for e in reversed(ledger(client, reviewer))] == [5, -5]


def test_votes_and_helpful_marks_are_capped_at_200_a_day_and_a_capped_award_is_reversed_exactly(
        client, users, streams):
    # Given a shopper whose answer gets 19 upvotes (190) and whose review gets 3 helpful marks
    author = users("popular")
    for i in range(19):
        write_vote("ans-cap", f"voter-{i}", 1, author.user_id)
    for i in range(3):
        write_mark("rev-cap", f"marker-{i}", author.user_id, True)
    streams.drain()
    # Then the 200 cap holds: 190 + 5 + 5 + 0, and the capped mark is recorded as 0
    assert balance(client, author) == 200
    assert points(client, author)["capped_earned_today"] == 200
    amounts = sorted(entry["amount"] for entry in ledger(client, author))
    assert amounts.count(0) == 1
    # When the capped mark (the third) is withdrawn, it takes back 0; a full upvote's withdrawal takes 10
    write_mark("rev-cap", "marker-2", author.user_id, False)
    write_vote("ans-cap", "voter-0", 0, author.user_id)
    streams.drain()
    assert balance(client, author) == 190
    # When a new upvote arrives, the freed room lets it count in full
    write_vote("ans-cap", "voter-new", 1, author.user_id)
    streams.drain()
    assert balance(client, author) == 200


def test_acceptance_bonuses_are_not_capped(client, users, streams, qa):
    asker, answerer, question_id, answer_id = qa
    for i in range(20):
        write_vote(answer_id, f"fan-{i}", 1, answerer.user_id)
    streams.drain()
    assert points(client, answerer)["balance"] == 200
    call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id})
    streams.drain()
    assert balance(client, answerer) == 215


def test_the_ledger_pages_newest_first_with_cursors(client, users, streams):
    author = users()
    for i in range(5):
        write_vote(f"ans-{i}", "fan", 1, author.user_id)
        streams.drain()
    first = call(client, "GET", "/me/points/ledger?limit=2", author).data
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = call(client, "GET", f"/me/points/ledger?limit=2&cursor={first['next_cursor']}", author).data
    refs = [e["ref"] for e in first["items"] + second["items"]]
    assert refs == ["ans-4", "ans-3", "ans-2", "ans-1"]
    tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
    assert call(client, "GET", f"/me/points/ledger?cursor={tampered}", author).status_code == 400
    assert call(client, "GET", "/me/points/ledger?limit=0", author).status_code == 400


def test_points_need_a_token(client):
    assert call(client, "GET", "/me/points").status_code == 401
    assert call(client, "GET", "/me/points/ledger").status_code == 401


def test_every_reward_record_delivered_twice_changes_nothing(client, users, tables, chaos_streams, qa):
    # Given votes, a change, a withdrawal, an acceptance and a move, and helpful marks, all delivered twice
    asker, answerer, question_id, answer_id = qa
    voters = [users(f"v{i}") for i in range(3)]
    other = users("other")
    call(client, "GET", "/me", other)
    other_answer = answer(client, other, question_id)["answer_id"]
    vote(client, voters[0], answer_id, 1)
    vote(client, voters[1], answer_id, 1)
    vote(client, voters[2], answer_id, -1)
    vote(client, voters[1], answer_id, -1)
    vote(client, voters[2], answer_id, 0)
    call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id})
    call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": other_answer})
    call(client, "POST", f"/questions/{question_id}/accept", asker, {"answer_id": answer_id})
    write_mark("rev-chaos", "m1", answerer.user_id, True)
    write_mark("rev-chaos", "m2", answerer.user_id, True)
    write_mark("rev-chaos", "m1", answerer.user_id, False)
    chaos_streams.drain()
    # Then every balance is what one delivery gives, and equals its ledger
    # answerer: +10 (v0) +10 -10 -2 (v1) -> 8; v2's -2 and its withdrawal net 0; +15 -15 +15; +5 (m2)
    assert balance(client, answerer) == 8 + 15 + 5
    assert balance(client, other) == 0
    assert balance(client, asker) == 2
    # And replaying every stream from its start once more changes nothing either
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    before = {u.user_id: (points(client, u), ledger(client, u)) for u in (answerer, other, asker)}
    replay = StreamRunner(app, tables.session)  # a new reader starts at each stream's first record
    assert replay.drain() > 0
    after = {u.user_id: (points(client, u), ledger(client, u)) for u in (answerer, other, asker)}
    assert after == before


# -- experts ---------------------------------------------------------------------------------------


def expertise(client, viewer, user_id) -> dict:
    profile = call(client, "GET", f"/users/{user_id}", viewer).data
    return {e["label"]: e["level"] for e in profile["expert"]}


def test_ten_upvotes_in_a_label_make_a_level_one_expert_who_is_notified_once(client, users, streams):
    # Given a shopper with a profile
    expert = users("expert")
    call(client, "GET", "/me", expert)
    # When nine answers' upvotes arrive in camera and phone, nothing yet
    for i in range(9):
        write_vote("ans-exp", f"fan-{i}", 1, expert.user_id, labels=("camera", "phone"))
    streams.drain()
    assert expertise(client, expert, expert.user_id) == {}
    # When the tenth arrives
    write_vote("ans-exp", "fan-9", 1, expert.user_id, labels=("camera", "phone"))
    streams.drain()
    # Then they are a level 1 expert in both labels, shown on the profile and notified once per label
    assert expertise(client, expert, expert.user_id) == {"camera": 1, "phone": 1}
    notes = notifications(client, expert, "expert_level")
    assert sorted((n["data"]["label"], n["data"]["level"]) for n in notes) == [("camera", 1), ("phone", 1)]


def test_downvotes_lower_the_score_but_levels_are_never_lost(client, users, streams):
    expert = users("expert")
    call(client, "GET", "/me", expert)
    for i in range(10):
        write_vote("ans-keep", f"fan-{i}", 1, expert.user_id)
    streams.drain()
    # When three upvotes turn into downvotes (score 10 -> 4)
    for i in range(3):
        write_vote("ans-keep", f"fan-{i}", -1, expert.user_id)
    streams.drain()
    # Then the level stays and the leaderboard shows the lower score
    assert expertise(client, expert, expert.user_id) == {"camera": 1}
    board = call(client, "GET", "/leaderboards/camera", expert).data["items"]
    assert [(row["user_id"], row["score"], row["level"]) for row in board] == [(expert.user_id, 4, 1)]
    # And climbing back to 10 does not notify again
    for i in range(3):
        write_vote("ans-keep", f"fan-{i}", 1, expert.user_id)
    streams.drain()
    assert len(notifications(client, expert, "expert_level")) == 1


def test_helpful_marks_count_towards_the_product_labels(client, users, streams):
    reviewer = users("reviewer")
    call(client, "GET", "/me", reviewer)
    for i in range(10):
        write_mark("rev-exp", f"reader-{i}", reviewer.user_id, True, labels=("makeup",))
    streams.drain()
    assert expertise(client, reviewer, reviewer.user_id) == {"makeup": 1}


def test_the_leaderboard_follows_scores_up_and_down(client, users, streams):
    # Given three experts in camera with scores 3, 2 and 1
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    for user, n in ((alice, 3), (bob, 2), (carol, 1)):
        call(client, "PUT", "/me", user, {"display_name": user.email.split("-")[0].title()})
        for i in range(n):
            write_vote(f"ans-{user.user_id}", f"fan-{i}", 1, user.user_id)
    write_vote("ans-other-label", "fan", 1, carol.user_id, labels=("phone",))
    streams.drain()
    board = call(client, "GET", "/leaderboards/camera", alice).data
    assert [(r["display_name"], r["score"]) for r in board["items"]] == [("Alice", 3), ("Bob", 2), ("Carol", 1)]
    # When alice's votes turn into downvotes and carol gains four
    for i in range(3):
        write_vote(f"ans-{alice.user_id}", f"fan-{i}", -1, alice.user_id)
    for i in range(1, 5):
        write_vote(f"ans-{carol.user_id}", f"fan-{i}", 1, carol.user_id)
    streams.drain()
    # Then the order follows; someone without a positive score is not on the board
    board = call(client, "GET", "/leaderboards/camera", alice).data
    assert [(r["user_id"], r["score"]) for r in board["items"]] == [(carol.user_id, 5), (bob.user_id, 2)]
    first = call(client, "GET", "/leaderboards/camera?limit=1", alice).data
    assert [r["user_id"] for r in first["items"]] == [carol.user_id]
    rest = call(client, "GET", f"/leaderboards/camera?limit=1&cursor={first['next_cursor']}", alice).data
    assert [r["user_id"] for r in rest["items"]] == [bob.user_id]
    assert [r["user_id"] for r in call(client, "GET", "/leaderboards/phone", alice).data["items"]] == [carol.user_id]


def test_an_unknown_leaderboard_label_is_a_400(client, users):
    response = call(client, "GET", "/leaderboards/not-a-label", users())
    assert response.status_code == 400
    assert "label" in response.data["Message"]


# -- a property through the streams ---------------------------------------------------------------

VOTES = st.lists(st.tuples(st.sampled_from(("v1", "v2", "v3")), st.sampled_from((1, -1, 0))), min_size=1, max_size=10)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(VOTES)
def test_any_vote_history_through_the_streams_ends_where_the_rules_say(client, users, streams, history):
    # Given a fresh author (the tables are shared across examples, the ids are not)
    author = f"author-{uuid.uuid4().hex}"
    answer_id = f"ans-{uuid.uuid4().hex}"
    expected, standing, current = Purse(), {}, {}
    day = now_iso()[:10]
    for voter, value in history:
        # When each vote, change or withdrawal is written and delivered
        old = {"answer_id": answer_id, "voter_id": voter, "value": current[voter], "author_id": author} \
            if voter in current else None
        write_vote(answer_id, voter, value, author)
        if value:
            current[voter] = value
        else:
            current.pop(voter, None)
        new = {"answer_id": answer_id, "voter_id": voter, "value": value, "author_id": author} if value else None
        for transition in vote_transitions(old, new):
            outcome = settle(expected, standing.get(transition.cause), transition.award, day)
            expected, standing[transition.cause] = outcome.purse, outcome.standing
        streams.drain()
    # Then the wallet is what the rules give, and the ledger sums to it
    from chalicelib.models.points import LedgerEntry
    from chalicelib.services.points import read_wallet

    wallet = read_wallet(author)
    balance = int(wallet.balance) if wallet else 0
    assert balance == expected.balance
    assert balance == sum(int(e.amount) for partition in LedgerEntry.partitions(author)
                          for e in LedgerEntry.query(partition))
