"""A user's audience (their followers in hash buckets, what a fan-out reads) through the Follows stream."""

from __future__ import annotations

import pytest

from chalicelib.domain import feed as rules
from chalicelib.services import audience
from tests.support.api import call
from tests.support.posts import follow, with_profiles


def audience_of(user_id: str) -> list[str]:
    """Every bucket, read the way a fan-out reads them; a follower listed twice would show twice."""
    ids, bucket = [], 0
    while bucket < rules.AUDIENCE_BUCKETS:
        found, bucket = audience.read(user_id, bucket, rules.AUDIENCE_BUCKETS - 1)
        ids += found
    return sorted(ids)


def test_the_follows_stream_keeps_each_users_audience(client, users, streams):
    alice, bob, carol, dave = users("alice"), users("bob"), users("carol"), users("dave")
    with_profiles(client, alice, bob, carol, dave)
    # Given bob, carol and dave follow alice
    for fan in (bob, carol, dave):
        follow(client, fan, alice)
    streams.drain()
    assert audience_of(alice.user_id) == sorted([bob.user_id, carol.user_id, dave.user_id])
    # When carol unfollows and alice blocks dave (which ends dave's follow)
    assert call(client, "DELETE", f"/users/{alice.user_id}/follow", carol).status_code in (200, 204)
    assert call(client, "PUT", f"/users/{dave.user_id}/block", alice).status_code == 200
    streams.drain()
    # Then only bob is left; nobody joined anyone else's audience
    assert audience_of(alice.user_id) == [bob.user_id]
    assert audience_of(bob.user_id) == audience_of(carol.user_id) == []


def test_the_audience_is_exact_under_chaotic_delivery(client, users, chaos_streams):
    # Given follows, unfollows and follows again, every batch split at random and delivered twice
    star, fans = users("star"), [users(f"fan{index}") for index in range(6)]
    with_profiles(client, star, *fans)
    for fan in fans:
        follow(client, fan, star)
    chaos_streams.drain()
    for fan in fans[:3]:
        call(client, "DELETE", f"/users/{star.user_id}/follow", fan)
    follow(client, fans[0], star)
    chaos_streams.drain()
    # Then the audience is exactly the follows that stand, each once
    assert audience_of(star.user_id) == sorted([fans[0].user_id] + [fan.user_id for fan in fans[3:]])


def test_a_follow_record_replayed_after_the_unfollow_does_not_bring_the_follower_back(client, users, streams):
    from chalicelib.domain.changes import inserted
    from chalicelib.services import feed, graph_effects
    from chalicelib.streams.events import apply_effects

    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    call(client, "DELETE", f"/users/{alice.user_id}/follow", bob)
    streams.drain()
    # When the follow's INSERT is handled again (an operator replays a set-aside record)
    replayed = inserted("Follows", {"follower_id": bob.user_id, "followee_id": alice.user_id})
    apply_effects((graph_effects.join_audience, feed.backfill_feed), replayed)
    # Then the follow is gone, and so is bob from alice's audience
    assert audience_of(alice.user_id) == []


def test_a_range_cut_at_the_1_mb_page_is_read_on_from_the_next_bucket(tables):
    from chalicelib.models.graph import FollowerBucket

    # Given an audience of 50,000 long ids: about 3 MB, more than one Query page in each shard
    follower_ids = [f"{index:06d}-follower-with-a-rather-long-and-opaque-identifier" for index in range(50_000)]
    audience.rebuild("star", follower_ids)
    # When the buckets are read from the first to the last
    events = FollowerBucket._get_connection().connection.client.meta.events
    calls: list[str] = []
    events.register("before-parameter-build.dynamodb", lambda model, **kwargs: calls.append(model.name),
                    unique_id="count-calls")
    reads, ids, bucket = [], [], 0
    try:
        while bucket < rules.AUDIENCE_BUCKETS:
            found, following = audience.read("star", bucket, rules.AUDIENCE_BUCKETS - 1)
            reads.append((bucket, following))
            ids += found
            bucket = following
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="count-calls")
    # Then the first read was cut short, each read was one Query per shard it reached, and every
    # id came back once
    assert len(reads) >= 3 and reads[0][1] < rules.BUCKETS_PER_SHARD
    assert set(calls) == {"Query"} and len(reads) <= len(calls) <= rules.AUDIENCE_SHARDS * len(reads)
    assert sorted(ids) == follower_ids


def test_rebuild_replaces_an_audience(tables):
    audience.rebuild("star", ["a", "b", "c"])
    audience.rebuild("star", ["c", "d"])
    assert audience_of("star") == ["c", "d"]


def test_an_audience_can_be_repaired_from_the_follow_items(tables):
    from tests.support.posts import given_followers

    follower_ids = given_followers("star", 40)
    audience.rebuild("star", ["stale-fan"])  # lost or wrong, e.g. follows written before buckets existed
    assert audience.rebuild_from_follows("star") == 40
    assert audience_of("star") == sorted(follower_ids)


def test_leaving_an_audience_one_was_never_in_writes_nothing(tables):
    from chalicelib.models.graph import FollowerBucket

    assert not audience.leave("star", "stranger")
    assert list(FollowerBucket.query("star")) == []
    assert audience.join("star", "fan") and audience.join("star", "fan")  # idempotent
    assert audience_of("star") == ["fan"]


def test_a_full_bucket_is_skipped_not_failed(tables):
    """DynamoDB refuses an item over 400 KB (~10,000 ids); moto does not check, so its answer is
    given here: the account is far past FANOUT_PULL_THRESHOLD, served by pull, its buckets unread."""
    from botocore.exceptions import ClientError

    from chalicelib.models.graph import FollowerBucket

    events = FollowerBucket._get_connection().connection.client.meta.events

    def refusing(code: str, message: str):
        def refuse(**kwargs):
            raise ClientError({"Error": {"Code": code, "Message": message}}, "UpdateItem")
        return refuse

    def join_while_dynamodb_says(code: str, message: str) -> bool:
        events.register("before-call.dynamodb.UpdateItem", refusing(code, message), unique_id="refuse")
        try:
            return audience.join("celebrity", "one-more-fan")
        finally:
            events.unregister("before-call.dynamodb.UpdateItem", unique_id="refuse")

    # When DynamoDB refuses the ADD because the bucket is full, the join is skipped
    assert join_while_dynamodb_says("ValidationException",
                                    "Item size to update has exceeded the maximum allowed size") is False
    # And any other refusal still fails the record, to be retried or set aside
    with pytest.raises(Exception, match="boom"):
        join_while_dynamodb_says("InternalServerError", "boom")
    assert audience_of("celebrity") == []
