"""Fan-out at scale: BatchWriteItem accounting for 3,000 followers, and resuming after a crash."""

import math
import time

import pytest

from chalicelib.models.posts import FanoutJob, FeedEntry
from tests.support.posts import given_followers, holders_of, publish, stored_feed, with_profiles


@pytest.fixture
def fresh_streams(tables):
    """A stream runner that starts from now: the graph written before it is not replayed."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    def start():
        return StreamRunner(app, tables.session, start_at_latest=True,
                            failures_queue_url=tables.outputs["StreamFailuresQueueUrl"])

    return start




@pytest.mark.slow
def test_3000_followers_are_written_in_about_ceil_n_over_25_batch_calls_plus_retries(client, users, fresh_streams):
    # Given an author with 3,000 followers
    author = users("popular")
    with_profiles(client, author)
    follower_ids = given_followers(author.user_id, 3000)
    streams = fresh_streams()
    # And a DynamoDB that leaves the last 3 items of every 10th BatchWriteItem unprocessed
    events = FeedEntry._get_connection().connection.client.meta.events
    calls, retried_items, sizes = [], [], []

    def before(params, **kwargs):
        calls.append(params)
        sizes.append(sum(len(requests) for requests in params["RequestItems"].values()))

    def after(parsed, **kwargs):
        if len(calls) % 10 == 0:
            table, requests = next(iter(calls[-1]["RequestItems"].items()))
            parsed["UnprocessedItems"] = {table: requests[-3:]}
            retried_items.append(3)

    events.register("before-parameter-build.dynamodb.BatchWriteItem", before, unique_id="count-bwi")
    events.register("after-call.dynamodb.BatchWriteItem", after, unique_id="throttle-bwi")
    try:
        # When the author posts and the streams carry it
        started, cpu = time.monotonic(), time.process_time()
        post_id = publish(client, author, "to all my fans")
        streams.drain()
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchWriteItem", unique_id="count-bwi")
        events.unregister("after-call.dynamodb.BatchWriteItem", unique_id="throttle-bwi")
    # Then the fan-out made ceil(3000/25) calls, plus at most one partial chunk per step after the
    # first (a step carries a range of audience buckets: about, not exactly, 1,000 followers),
    # plus one per retried chunk; none above 25 items
    job = FanoutJob.get(post_id)
    retries = len(retried_items)
    assert retries > 0
    assert math.ceil(3000 / 25) + retries <= len(calls) <= math.ceil(3000 / 25) + int(job.steps) - 1 + retries
    assert max(sizes) == 25
    # And every follower (and the author) got the entry exactly once
    everyone = set(follower_ids) | {author.user_id}
    assert holders_of(post_id, everyone) == everyone
    assert job.done and job.written == 3000 and job.steps == 3 and job.finished_at
    print(f"3,000-follower fan-out: {len(calls)} BatchWriteItem calls ({retries} retries)",
          f"in {elapsed:.1f} s ({cpu:.1f} s CPU)")


def test_a_crash_mid_fan_out_resumes_from_the_last_recorded_step(client, users, fresh_streams, monkeypatch):
    from chalicelib.services import fanout

    # Given steps of about 10 followers, 35 followers, and a step 2 that crashes once after writing its entries
    monkeypatch.setattr(fanout, "FANOUT_PAGE_SIZE", 10)
    author = users("author")
    with_profiles(client, author)
    follower_ids = given_followers(author.user_id, 35)
    streams = fresh_streams()
    original, seen = fanout._insert_entries, []

    def crash_once_on_step_two(post, reader_ids):
        result = original(post, reader_ids)
        seen.append(len(reader_ids))
        if len(seen) == 2:
            raise RuntimeError("the Lambda died here")
        return result

    monkeypatch.setattr(fanout, "_insert_entries", crash_once_on_step_two)
    # When the author posts and the streams carry it (redelivering the failed record)
    post_id = publish(client, author)
    streams.drain()
    # Then step 2 ran twice (the same followers), and the job finished with every follower counted once
    job = FanoutJob.get(post_id)
    assert len(seen) == int(job.steps) + 1 and seen[1] == seen[2]
    assert sum(seen) - seen[2] == 35
    assert job.done and job.written == 35 and job.steps == 4 and job.cursor is None
    everyone = set(follower_ids) | {author.user_id}
    assert holders_of(post_id, everyone) == everyone
    assert streams.set_aside == []


def test_a_fan_out_that_keeps_crashing_stops_visibly_and_can_be_resumed(client, users, fresh_streams, monkeypatch):
    from chalicelib.services import fanout

    monkeypatch.setattr(fanout, "FANOUT_PAGE_SIZE", 10)
    author = users("author")
    with_profiles(client, author)
    follower_ids = given_followers(author.user_id, 35)
    streams = fresh_streams()
    original, state = fanout._insert_entries, {"steps": 0, "broken": True, "first": None}

    def broken_after_first_step(post, reader_ids):
        state["steps"] += 1
        if state["broken"] and state["steps"] > 1:
            raise RuntimeError("a bug in step 2")
        state["first"] = state["first"] if state["first"] is not None else len(reader_ids)
        return original(post, reader_ids)

    monkeypatch.setattr(fanout, "_insert_entries", broken_after_first_step)
    # When the author posts and step 2 fails on every attempt
    post_id = publish(client, author)
    streams.drain()
    # Then the record is set aside and the job shows how far it got
    assert [m["handler"] for m in streams.set_aside] == ["continue_fan_out"]
    job = FanoutJob.get(post_id)
    assert not job.done and job.steps == 1 and job.written == state["first"] > 0 and job.cursor
    assert len(holders_of(post_id, [*follower_ids, author.user_id])) == state["first"] + 1
    # When the bug is fixed and an operator resumes the job
    state["broken"] = False
    assert fanout.resume_fan_out(post_id)
    streams.drain()
    # Then it carries on from step 2 and finishes
    job = FanoutJob.get(post_id)
    assert job.done and job.written == 35 and job.steps == 4
    everyone = set(follower_ids) | {author.user_id}
    assert holders_of(post_id, everyone) == everyone
    assert not fanout.resume_fan_out(post_id)  # a finished job is not resumed
    assert stored_feed(follower_ids[-1]) == [post_id]


def test_a_post_deleted_while_a_step_writes_leaves_no_entry_behind(client, users, monkeypatch):
    from chalicelib.domain.ids import now_iso
    from chalicelib.models.posts import Post
    from chalicelib.services import fanout

    # Given a fan-out in steps of about 10 followers whose first step has run
    monkeypatch.setattr(fanout, "FANOUT_PAGE_SIZE", 10)
    author = users("author")
    with_profiles(client, author)
    follower_ids = given_followers(author.user_id, 35)
    post_id = publish(client, author)
    fanout.start_fan_out({"post_id": post_id, "author_id": author.user_id, "created_at": now_iso()})
    assert len(holders_of(post_id, [*follower_ids, author.user_id])) > 1
    # And the author deletes the post while step 2 runs: its removal (the Posts stream) finishes
    # after the step has read the audience and before the step's entries land
    original = fanout._insert_entries

    def deleted_just_before_the_write(post, reader_ids):
        Post(post_id).delete()
        fanout.remove_post_everywhere({"post_id": post_id, "author_id": author.user_id,
                                       "home_author_id": author.user_id})
        return original(post, reader_ids)

    monkeypatch.setattr(fanout, "_insert_entries", deleted_just_before_the_write)
    # When step 2 finishes
    fanout.run_fan_out_step(post_id, 1)
    # Then it took its own entries back out and ended the job: no feed keeps the post
    job = FanoutJob.get(post_id)
    assert job.done and job.cancelled and int(job.steps) == 1
    assert holders_of(post_id, [*follower_ids, author.user_id]) == set()
    assert all(stored_feed(follower_id) == [] for follower_id in follower_ids)
