"""Polls: "which one should I buy?" One vote each (or changed, or withdrawn, while open), counts that
trail the votes by a stream batch, and the caller's own vote exactly."""

from __future__ import annotations

import pytest

from chalicelib.domain import polls
from chalicelib.models.posts import Poll, PollTally, PollVote, Post
from tests.support.api import call
from tests.support.posts import follow, publish, with_profiles

TWO_LENSES = {"options": [{"text": "35mm"}, {"text": "50mm"}], "closes_in_hours": 2}
THREE_COLOURS = {"options": [{"text": "red"}, {"text": "gold"}, {"text": "black"}]}


def counts(client, viewer, post_id) -> list[int]:
    return [o["votes"] for o in call(client, "GET", f"/posts/{post_id}", viewer).data["poll"]["options"]]


def votes_of(post_id: str) -> dict[str, int]:
    """Every vote stored for the poll, across its vote shards: {voter: option}."""
    return {vote.user_id: int(vote.option) for key in polls.vote_keys(post_id) for vote in PollVote.query(key)}


def close(post_id: str) -> None:
    post = Post.get(post_id)
    post.update(actions=[Post.poll.set(Poll(options=post.poll.options, closes_at="2000-01-01T00:00:00.000Z"))])


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """Every DynamoDB call made while the returned list is recording: (operation, tables)."""
    from botocore.client import BaseClient

    calls: list[tuple[str, tuple[str, ...]]] = []
    original = BaseClient._make_api_call

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
            for item in params.get("TransactItems", []):
                tables += [value["TableName"] for value in item.values()]
            calls.append((operation, tuple(tables)))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


# -- votes --------------------------------------------------------------------------------------------
def test_votes_are_counted_and_each_voter_sees_their_own(client, users, streams):
    # Given alice's poll
    alice, bob, carol, dave = users("alice"), users("bob"), users("carol"), users("dave")
    post_id = publish(client, alice, "which lens?", poll=TWO_LENSES)
    created = call(client, "GET", f"/posts/{post_id}", alice).data["poll"]
    assert [o["votes"] for o in created["options"]] == [0, 0]
    assert created["closed"] is False and created["my_vote"] is None and created["closes_at"].endswith("Z")
    # When bob and carol vote 1 and dave votes 0
    for voter, option in ((bob, 1), (carol, 1), (dave, 0)):
        response = call(client, "POST", f"/posts/{post_id}/poll/votes", voter, {"option": option})
        assert response.status_code == 200, response.data
        assert response.data["poll"]["my_vote"] == option
    # Then, once the votes' stream is handled, the counts are exact and everyone sees their own vote
    streams.drain()
    for viewer, mine in ((alice, None), (bob, 1), (dave, 0)):
        poll = call(client, "GET", f"/posts/{post_id}", viewer).data["poll"]
        assert [o["votes"] for o in poll["options"]] == [1, 2]
        assert poll["my_vote"] == mine


def test_a_vote_is_one_conditional_write_of_the_voters_own_item_and_nothing_on_the_post(
        client, users, dynamodb_calls):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice, poll=TWO_LENSES)
    before = Post.get(post_id).serialize()
    dynamodb_calls.clear()
    # When bob votes
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1}).status_code == 200
    # Then the one write of the vote is a put of his vote item, under his shard of the poll
    feature = [(op, tables) for op, tables in dynamodb_calls if not tables[0].endswith("-rate-limits")]
    writes = [(op, tables) for op, tables in feature
              if op in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")]
    assert writes == [("PutItem", ("jianghu-test-poll-votes",))]
    assert PollVote.get(polls.vote_key(post_id, bob.user_id), bob.user_id).option == 1
    assert Post.get(post_id).serialize() == before
    # And the request reads the post, then the author and the tallies in one batch (not its own vote)
    assert [op for op, _ in feature if (op, _) not in writes] == ["GetItem", "BatchGetItem"]


def test_a_second_vote_is_409_and_changes_nothing(client, users, streams):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 0}).status_code == 200
    second = call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1})
    assert second.status_code == 409
    assert second.data["Code"] == "AlreadyVoted"
    streams.drain()
    poll = call(client, "GET", f"/posts/{post_id}", bob).data["poll"]
    assert [o["votes"] for o in poll["options"]] == [1, 0] and poll["my_vote"] == 0


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_an_option_out_of_range_is_400(client, users, method):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    path = f"/posts/{post_id}/poll/votes" + ("/me" if method == "PUT" else "")
    for body in ({"option": 2}, {"option": -1}, {"option": "1"}, {"option": True}, {}, {"option": 0, "x": 1}):
        response = call(client, method, path, bob, body)
        assert response.status_code == 400, body
        assert "option" in response.data["Message"] or "x" in response.data["Message"]
    assert votes_of(post_id) == {}


@pytest.mark.parametrize("method,suffix,body", [("POST", "", {"option": 0}), ("PUT", "/me", {"option": 0}),
                                                ("DELETE", "/me", None)])
def test_voting_changing_or_withdrawing_after_the_poll_closed_is_409(client, users, streams, method, suffix, body):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    assert call(client, "PUT", f"/posts/{post_id}/poll/votes/me", bob, {"option": 1}).status_code == 200
    # Given the poll's closing time has passed
    close(post_id)
    # When bob votes, changes or withdraws, he is refused and his vote stands
    response = call(client, method, f"/posts/{post_id}/poll/votes{suffix}", bob, body)
    assert response.status_code == 409
    assert response.data["Code"] == "PollClosed"
    streams.drain()
    poll = call(client, "GET", f"/posts/{post_id}", bob).data["poll"]
    assert poll["closed"] is True and poll["my_vote"] == 1 and [o["votes"] for o in poll["options"]] == [0, 1]


@pytest.mark.parametrize("method,suffix,body", [("POST", "", {"option": 0}), ("PUT", "/me", {"option": 0}),
                                                ("DELETE", "/me", None)])
def test_voting_on_a_post_without_a_poll_or_an_unknown_post_is_404(client, users, method, suffix, body):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice)
    assert call(client, method, f"/posts/{post_id}/poll/votes{suffix}", bob, body).status_code == 404
    unknown = f"/posts/01HNOSUCHPOST0000000000000/poll/votes{suffix}"
    assert call(client, method, unknown, bob, body).status_code == 404


# -- changing and withdrawing -------------------------------------------------------------------------
def test_a_vote_is_cast_changed_and_withdrawn_with_put_and_delete(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    post_id = publish(client, alice, poll=THREE_COLOURS)
    me = f"/posts/{post_id}/poll/votes/me"
    # When bob casts 0 with PUT, carol votes 0 with POST
    cast = call(client, "PUT", me, bob, {"option": 0})
    assert cast.status_code == 200 and cast.data["poll"]["my_vote"] == 0
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", carol, {"option": 0}).status_code == 200
    streams.drain()
    assert counts(client, alice, post_id) == [2, 0, 0]
    # And bob changes to 2 (and says so again), carol changes to 1
    for voter, option in ((bob, 2), (bob, 2), (carol, 1)):
        changed = call(client, "PUT", me, voter, {"option": option})
        assert changed.status_code == 200 and changed.data["poll"]["my_vote"] == option
    streams.drain()
    assert counts(client, alice, post_id) == [0, 1, 1]
    # And bob withdraws, twice (the second finds nothing: still 204)
    assert call(client, "DELETE", me, bob).status_code == 204
    assert call(client, "DELETE", me, bob).status_code == 204
    streams.drain()
    assert counts(client, alice, post_id) == [0, 1, 0]
    assert call(client, "GET", f"/posts/{post_id}", bob).data["poll"]["my_vote"] is None
    # Then bob may vote again, even with POST, and the stored votes are what the counts say
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1}).status_code == 200
    streams.drain()
    assert counts(client, alice, post_id) == [0, 2, 0]
    assert votes_of(post_id) == {bob.user_id: 1, carol.user_id: 1}


def test_putting_the_same_vote_again_writes_nothing(client, users, streams, dynamodb_calls):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    assert call(client, "PUT", f"/posts/{post_id}/poll/votes/me", bob, {"option": 1}).status_code == 200
    streams.drain()
    stored = PollVote.get(polls.vote_key(post_id, bob.user_id), bob.user_id).serialize()
    # When bob puts the same option again
    assert call(client, "PUT", f"/posts/{post_id}/poll/votes/me", bob, {"option": 1}).status_code == 200
    # Then the vote item is as it was (the conditional update was refused), so no record follows
    assert PollVote.get(polls.vote_key(post_id, bob.user_id), bob.user_id).serialize() == stored
    assert streams.drain() == 0
    assert counts(client, alice, post_id) == [0, 1]


# -- tallies --------------------------------------------------------------------------------------------
def _tally_writes(calls) -> int:
    """Writes of tally items: each update inside a transaction, and any single write."""
    return sum(tables.count("jianghu-test-poll-tallies") for op, tables in calls if op != "BatchGetItem")


def test_a_batch_of_votes_writes_each_tally_item_once(client, users, streams, dynamodb_calls):
    alice = users("alice")
    voters = [users(f"voter{n}") for n in range(24)]
    post_id = publish(client, alice, poll=THREE_COLOURS)
    for n, voter in enumerate(voters):
        assert call(client, "POST", f"/posts/{post_id}/poll/votes", voter, {"option": n % 3}).status_code == 200
    dynamodb_calls.clear()
    # When the 24 votes' records are handled (one stream batch)
    streams.drain()
    # Then each tally item was written once, and the tallies add up to the votes
    touched = {polls.tally_key_of_vote(post_id, voter.user_id) for voter in voters}
    assert _tally_writes(dynamodb_calls) == len(touched) <= polls.TALLY_SHARDS
    assert counts(client, alice, post_id) == [8, 8, 8]


def test_votes_changes_and_withdrawals_are_counted_exactly_under_chaos_and_full_replay(
        client, users, chaos_streams, tables):
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    # Given every batch split at random and delivered twice
    alice = users("alice")
    voters = [users(f"voter{n}") for n in range(12)]
    post_id = publish(client, alice, poll=THREE_COLOURS)
    me = f"/posts/{post_id}/poll/votes/me"
    expected: dict[str, int] = {}
    for n, voter in enumerate(voters):
        assert call(client, "PUT", me, voter, {"option": n % 3}).status_code == 200
        expected[voter.user_id] = n % 3
        if n % 4 == 1:  # some drains mid-way, so changes land in later batches than their votes
            chaos_streams.drain()
    for n, voter in enumerate(voters[:6]):
        if n % 2:
            assert call(client, "DELETE", me, voter).status_code == 204
            del expected[voter.user_id]
        else:
            assert call(client, "PUT", me, voter, {"option": (n + 1) % 3}).status_code == 200
            expected[voter.user_id] = (n + 1) % 3
    chaos_streams.drain()
    want = [list(expected.values()).count(option) for option in range(3)]
    # Then the counts are exactly the votes that stand
    assert counts(client, alice, post_id) == want
    assert votes_of(post_id) == expected
    # And replaying the whole stream from its start (a new consumer at TRIM_HORIZON) changes nothing
    replay = StreamRunner(app, tables.session, chaos=True, seed=11,
                          failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])
    assert replay.drain() > 0
    assert replay.set_aside == []
    assert counts(client, alice, post_id) == want


# -- reads ----------------------------------------------------------------------------------------------
def test_a_poll_with_products_shows_them(client, users):
    from chalicelib.domain.ids import now_iso
    from chalicelib.models.advice import Product

    Product("lens-35", merchant_id="m", title="35mm", price_cents=1, created_at=now_iso()).save()
    alice = users("alice")
    poll = {"options": [{"text": "35mm", "product_id": "lens-35"}, {"text": "50mm"}]}
    post = call(client, "POST", "/posts", alice, {"text": "which?", "poll": poll}).data
    assert [o["product_id"] for o in post["poll"]["options"]] == ["lens-35", None]


def test_the_feed_shows_each_reader_their_own_vote(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    post_id = publish(client, alice, poll=TWO_LENSES)
    streams.drain()
    call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1})
    streams.drain()
    bob_view = call(client, "GET", "/feed", bob).data["items"]
    alice_view = call(client, "GET", "/feed", alice).data["items"]
    assert [p["post_id"] for p in bob_view] == [post_id]
    assert bob_view[0]["poll"]["my_vote"] == 1 and alice_view[0]["poll"]["my_vote"] is None
    assert [o["votes"] for o in alice_view[0]["poll"]["options"]] == [0, 1]


def test_a_circles_posts_show_their_polls_counts_and_the_readers_vote(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    group = call(client, "POST", "/groups", alice, {"name": "Lens talk", "description": "Lenses", "label": "camera"})
    group_id = group.data["group_id"]
    assert call(client, "PUT", f"/groups/{group_id}/members/me", bob).status_code in (200, 201)
    post_id = publish(client, alice, group_id=group_id, poll=TWO_LENSES)
    assert call(client, "PUT", f"/posts/{post_id}/poll/votes/me", bob, {"option": 0}).status_code == 200
    streams.drain()
    items = call(client, "GET", f"/groups/{group_id}/posts", bob).data["items"]
    assert [(p["poll"]["my_vote"], [o["votes"] for o in p["poll"]["options"]]) for p in items] == [(0, [1, 0])]


# -- deletion -------------------------------------------------------------------------------------------
def test_deleting_a_poll_post_removes_its_votes_from_every_shard_and_its_tallies(client, users, chaos_streams):
    alice = users("alice")
    voters = [users(f"voter{n}") for n in range(10)]
    post_id = publish(client, alice, poll=TWO_LENSES)
    for n, voter in enumerate(voters):
        call(client, "POST", f"/posts/{post_id}/poll/votes", voter, {"option": n % 2})
    chaos_streams.drain()
    assert len({polls.vote_key(post_id, voter.user_id) for voter in voters}) > 1  # the votes are spread
    # When alice deletes the post and the streams are handled (the votes' removals too)
    assert call(client, "DELETE", f"/posts/{post_id}", alice).status_code == 204
    chaos_streams.drain()
    # Then no vote is left in any shard, and the tally items hold no count (and expire)
    assert votes_of(post_id) == {}
    tallies = [PollTally.get(key) for key in polls.tally_keys(post_id) if PollTally.count(key)]
    assert tallies and all(t.counts() == {} and t.expires_at and t.votes_0 is None for t in tallies)
    # And a vote that raced the delete (written after it) moves no count
    late = PollVote(polls.vote_key(post_id, "late"), "late", post_id=post_id, option=0, created_at="x")
    late.save()
    chaos_streams.drain()
    assert all(PollTally.get(key).counts() == {} for key in polls.tally_keys(post_id) if PollTally.count(key))
