"""The audience around the pull threshold: kept up to 1.1 x, dropped past it, rebuilt by a resumable
job when a pull-mode account falls below 0.9 x, and the feed's push/pull choice with hysteresis.

The threshold is 10 here: kept up to 11 followers, pushed again below 9.
"""

from __future__ import annotations

import pytest

from chalicelib.domain import feed as rules
from chalicelib.domain.changes import inserted
from chalicelib.models.graph import Follow, FollowerBucket
from chalicelib.models.users import UserProfile
from chalicelib.services import audience, feed, graph_effects, jobs
from tests.integration.test_audience import audience_of
from tests.support.posts import follow, given_followers, publish, stored_feed, with_profiles

T = 10


@pytest.fixture
def threshold(monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("FANOUT_PULL_THRESHOLD", str(T))
    reset_settings()
    yield T
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def fresh_streams(tables):
    """A stream runner that starts from now: the graph written in bulk before it is not replayed."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    def start(chaos: bool = False):
        return StreamRunner(app, tables.session, start_at_latest=True, chaos=chaos, seed=11,
                            failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])

    return start


def bucket_writes(calls: list) -> int:
    return sum(1 for name, table in calls if table == FollowerBucket.Meta.table_name)


@pytest.fixture
def write_log():
    """(operation, table) of every DynamoDB write while the test runs."""
    events = FollowerBucket._get_connection().connection.client.meta.events
    calls: list[tuple[str, str]] = []

    def note(params, model, **kwargs):
        if model.name in ("UpdateItem", "PutItem", "DeleteItem"):
            calls.append((model.name, params.get("TableName")))
        elif model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                for operation in item.values():
                    calls.append(("Transact", operation.get("TableName")))

    events.register("before-parameter-build.dynamodb", note, unique_id="write-log")
    yield calls
    events.unregister("before-parameter-build.dynamodb", unique_id="write-log")


def profile_of(user_id: str) -> UserProfile:
    return UserProfile.get(user_id, consistent_read=True)


def test_a_follow_past_the_keep_limit_writes_no_bucket_and_pull_lists_the_follower(
        client, users, streams, threshold, write_log):
    # Given an author with 11 followers (1.1 x the threshold), whose audience is kept
    star, newcomer = users("star"), users("newcomer")
    with_profiles(client, star, newcomer)
    followers = given_followers(star.user_id, 11)
    streams.drain()
    write_log.clear()
    # When one more user follows
    follow(client, newcomer, star)
    streams.drain()
    # Then no bucket was written (a follow no longer rewrites an ever-growing bucket), the audience
    # is marked dropped, and the newcomer gets the author's posts through their pull list
    assert bucket_writes(write_log) == 0
    assert profile_of(star.user_id).audience_state == rules.DROPPED
    assert audience_of(star.user_id) == sorted(followers)
    assert feed.pull_authors_of(newcomer.user_id) == [star.user_id]


def test_a_bucket_write_lands_on_one_of_several_partition_keys(tables):
    # Given 200 followers joining one account
    for index in range(200):
        audience.join("star", f"fan-{index}")
    # Then their buckets sit under more than one partition key, and each is a run of buckets
    shards = {shard: [int(item.bucket) for item in FollowerBucket.query(rules.audience_key("star", shard))]
              for shard in range(rules.AUDIENCE_SHARDS)}
    assert all(shards.values()) and len(shards) == rules.AUDIENCE_SHARDS >= 2
    assert all(rules.audience_shard(bucket) == shard for shard, buckets in shards.items() for bucket in buckets)
    assert audience_of("star") == sorted(f"fan-{index}" for index in range(200))


def test_a_pull_mode_author_between_the_limits_stays_pulled(client, users, fresh_streams, threshold):
    # Given an author in pull mode with 9 followers: under the threshold, but not under 0.9 x
    star = users("star")
    with_profiles(client, star)
    followers = given_followers(star.user_id, 9)
    UserProfile(star.user_id).update(actions=[UserProfile.pull_mode.set(True)])
    streams = fresh_streams()
    # When she posts
    first = publish(client, star, "still big")
    streams.drain()
    # Then the post is not fanned out and she stays in pull mode (no flip back and forth)
    assert stored_feed(followers[0]) == [] and profile_of(star.user_id).pull_mode is True
    # When she falls to 8 followers (below 0.9 x) and posts again
    UserProfile(star.user_id).update(actions=[UserProfile.follower_count.set(8)])
    second = publish(client, star, "small again")
    streams.drain()
    # Then her audience being whole, the post is fanned out at once and pull mode ends
    assert stored_feed(followers[0]) == [second] and first not in stored_feed(followers[1])
    assert profile_of(star.user_id).pull_mode is None


def dropped_star(client, users, count: int = 8):
    """A pull-mode author below 0.9 x the threshold whose audience was dropped: its buckets stale
    (someone who left since, a follower missing)."""
    star = users("star")
    with_profiles(client, star)
    followers = given_followers(star.user_id, count)
    audience.rebuild(star.user_id, followers[1:] + ["long-gone-fan"])
    UserProfile(star.user_id).update(actions=[UserProfile.pull_mode.set(True),
                                              UserProfile.audience_state.set(rules.DROPPED)])
    return star, followers


@pytest.mark.parametrize("chaos", [False, True], ids=["in-order", "chaos"])
def test_a_dropped_audience_is_rebuilt_by_a_job_before_the_author_is_pushed_again(
        client, users, fresh_streams, threshold, monkeypatch, chaos):
    monkeypatch.setattr(audience, "REBUILD_PAGE_SIZE", 3)
    star, followers = dropped_star(client, users)
    streams = fresh_streams(chaos=chaos)
    # When the author posts below the return limit
    first = publish(client, star, "shrinking")
    streams.drain()
    # Then that post was not fanned out from the stale audience; a job rebuilt it from the follows
    job = jobs.status(audience.rebuild_job_id(star.user_id))
    assert job.done and int(job.processed) == 8 and int(job.steps) >= 1 + 3  # clear, then pages of 3
    assert audience_of(star.user_id) == sorted(followers)
    assert profile_of(star.user_id).audience_state is None and profile_of(star.user_id).pull_mode is None
    assert all(first not in stored_feed(fan) for fan in followers)
    # And the next post is fanned out to every follower
    second = publish(client, star, "pushed again")
    streams.drain()
    assert all(stored_feed(fan) == [second] for fan in followers)
    assert streams.set_aside == []


def test_a_rebuild_that_crashes_mid_step_resumes_from_the_last_recorded_step(
        client, users, fresh_streams, threshold, monkeypatch):
    monkeypatch.setattr(audience, "REBUILD_PAGE_SIZE", 3)
    star, followers = dropped_star(client, users)
    streams = fresh_streams()
    original, pages = audience._followers_page, []

    def crash_once_after_the_second_page(user_id, position):
        page = original(user_id, position)
        pages.append(page[0])
        if len(pages) == 2:
            for follower_id in page[0]:
                audience._join_if_following(user_id, follower_id)
            raise RuntimeError("the Lambda died here")
        return page

    monkeypatch.setattr(audience, "_followers_page", crash_once_after_the_second_page)
    # When the rebuild runs and its second page dies after writing
    publish(client, star)
    streams.drain()
    # Then that page was read again, and the job finished with every follower counted once
    job = jobs.status(audience.rebuild_job_id(star.user_id))
    assert pages[1] == pages[2]
    assert job.done and int(job.processed) == 8
    assert audience_of(star.user_id) == sorted(followers)
    assert streams.set_aside == []


def test_an_unfollow_while_the_rebuild_reads_the_follows_is_not_undone(client, users, threshold, monkeypatch):
    star, followers = dropped_star(client, users)
    leaver = followers[0]
    original = audience._followers_page

    def read_then_unfollow(user_id, position):
        page = original(user_id, position)
        # the unfollow lands after the page was read, and its stream effect runs before the page
        # is written (so the effect found nothing to take out, and will not run again)
        Follow(leaver, star.user_id).delete()
        audience.leave(star.user_id, leaver)
        return page

    monkeypatch.setattr(audience, "_followers_page", read_then_unfollow)
    # When the rebuild's steps run (driven here as the Jobs stream would)
    steps = {audience.REBUILD_JOB: audience.run_rebuild_step}
    assert audience.start_rebuild(star.user_id)
    job_id = audience.rebuild_job_id(star.user_id)
    while not jobs.status(job_id).done:
        assert jobs.run_step(job_id, int(jobs.status(job_id).steps), "0", steps)
    # Then the leaver is not in the rebuilt audience, and was not counted
    assert audience_of(star.user_id) == sorted(followers[1:])
    assert int(jobs.status(job_id).processed) == 7


def test_a_second_start_while_a_rebuild_runs_changes_nothing(client, users, threshold):
    star, _ = dropped_star(client, users)
    assert audience.start_rebuild(star.user_id)
    assert not audience.start_rebuild(star.user_id)
    # a replayed record of the job's step 0 after the step was recorded does not run it again
    steps = {audience.REBUILD_JOB: audience.run_rebuild_step}
    assert jobs.run_step(audience.rebuild_job_id(star.user_id), 0, "0", steps)
    assert not jobs.run_step(audience.rebuild_job_id(star.user_id), 0, "0", steps)
    assert profile_of(star.user_id).audience_state == rules.BUILDING


def test_follows_during_a_rebuild_join_and_the_author_is_pulled_meanwhile(client, users, threshold):
    from chalicelib.domain.ids import now_iso

    star, _ = dropped_star(client, users)
    assert audience.start_rebuild(star.user_id)
    steps = {audience.REBUILD_JOB: audience.run_rebuild_step}
    assert jobs.run_step(audience.rebuild_job_id(star.user_id), 0, "0", steps)  # cleared: now BUILDING
    assert audience_of(star.user_id) == []
    # When someone follows while the job has not yet reached the Follow items
    Follow("newcomer", star.user_id, created_at=now_iso()).save()
    follow_record = inserted("follows", {"follower_id": "newcomer", "followee_id": star.user_id})
    graph_effects.join_audience(follow_record)
    feed.backfill("newcomer", star.user_id)
    # Then they join the audience being rebuilt, and get the author's posts by pull meanwhile
    assert audience_of(star.user_id) == ["newcomer"]
    assert feed.pull_authors_of("newcomer") == [star.user_id]
    assert rules.post_plan(audience.reach_of(profile_of(star.user_id)), T) == rules.PULL
