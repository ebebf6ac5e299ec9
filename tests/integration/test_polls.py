"""Polls: "which one should I buy?" One vote each, none after close, counts and the caller's vote."""

from chalicelib.models.posts import Poll, Post
from tests.support.api import call
from tests.support.posts import follow, publish, with_profiles

TWO_LENSES = {"options": [{"text": "35mm"}, {"text": "50mm"}], "closes_in_hours": 2}


def test_votes_are_counted_and_each_voter_sees_their_own(client, users):
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
    # Then the counts are exact and everyone sees their own vote
    for viewer, mine in ((alice, None), (bob, 1), (dave, 0)):
        poll = call(client, "GET", f"/posts/{post_id}", viewer).data["poll"]
        assert [o["votes"] for o in poll["options"]] == [1, 2]
        assert poll["my_vote"] == mine


def test_a_second_vote_is_409_and_changes_nothing(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 0}).status_code == 200
    second = call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1})
    assert second.status_code == 409
    assert second.data["Code"] == "AlreadyVoted"
    poll = call(client, "GET", f"/posts/{post_id}", bob).data["poll"]
    assert [o["votes"] for o in poll["options"]] == [1, 0] and poll["my_vote"] == 0


def test_an_option_out_of_range_is_400(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    for body in ({"option": 2}, {"option": -1}, {"option": "1"}, {"option": True}, {}, {"option": 0, "x": 1}):
        response = call(client, "POST", f"/posts/{post_id}/poll/votes", bob, body)
        assert response.status_code == 400, body
        assert "option" in response.data["Message"] or "x" in response.data["Message"]
    assert [o["votes"] for o in call(client, "GET", f"/posts/{post_id}", bob).data["poll"]["options"]] == [0, 0]


def test_voting_after_the_poll_closed_is_409(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    # Given the poll's closing time has passed
    post = Post.get(post_id)
    post.update(actions=[Post.poll.set(Poll(options=post.poll.options, closes_at="2000-01-01T00:00:00.000Z"))])
    # When bob votes, he is refused
    response = call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 0})
    assert response.status_code == 409
    assert response.data["Code"] == "PollClosed"
    assert call(client, "GET", f"/posts/{post_id}", bob).data["poll"]["closed"] is True


def test_voting_on_a_post_without_a_poll_or_an_unknown_post_is_404(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice)
    assert call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 0}).status_code == 404
    assert call(client, "POST", "/posts/01HNOSUCHPOST0000000000000/poll/votes", bob, {"option": 0}).status_code == 404


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
    streams.drain()  # a vote's MODIFY on the posts stream changes no feed
    bob_view = call(client, "GET", "/feed", bob).data["items"]
    alice_view = call(client, "GET", "/feed", alice).data["items"]
    assert [p["post_id"] for p in bob_view] == [post_id]
    assert bob_view[0]["poll"]["my_vote"] == 1 and alice_view[0]["poll"]["my_vote"] is None
    assert [o["votes"] for o in alice_view[0]["poll"]["options"]] == [0, 1]


def test_deleting_a_poll_post_removes_its_votes(client, users, streams):
    from chalicelib.models.posts import PollVote

    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice, poll=TWO_LENSES)
    call(client, "POST", f"/posts/{post_id}/poll/votes", bob, {"option": 1})
    assert call(client, "DELETE", f"/posts/{post_id}", alice).status_code == 204
    streams.drain()
    assert list(PollVote.query(post_id)) == []
