"""Withdrawing a kind of activity shared to 2,000 followers, through the real streams.

A user with 2,000 followers shares `ACTIVITIES` reviews (fanned out first, not measured); then
`PUT /me/sharing {review: false}` and the streams carry the withdrawal: the Activities settings
record starts the withdrawal job (Jobs stream: one Query and BatchWriteItem chunks of 25 per page
of activities), each marked activity starts a removal job (FanoutJobs stream: a page of the
followers' Follow items, then BatchWriteItem deletes of 25). Every DynamoDB call the handlers make
is counted, and the time inside them taken (`bench.fanout._time_handlers`).
"""

from __future__ import annotations

import math
import time

from bench.fanout import _time_handlers
from bench.harness import recording, settled_heap
from tests.support.api import call
from tests.support.posts import given_followers

FOLLOWERS = 2000
ACTIVITIES = 5


def target_calls(followers: int, activities: int) -> float:
    """Each activity's removal deletes `followers` entries in chunks of 25 (10 % for partial chunks
    and retries) plus a few calls of bookkeeping; the withdrawal job a few per page."""
    return activities * (math.ceil(followers / 25) * 1.1 + 5) + 10


def measure(world, followers: int = FOLLOWERS, activities: int = ACTIVITIES) -> dict:
    from app import app
    from chalicelib.domain import activity as rules
    from chalicelib.domain.ids import iso, utc_now
    from chalicelib.local.stream_runner import StreamRunner
    from chalicelib.services import activity
    from tests.support.posts import holders_of

    user = world.users("sharer")
    assert call(world.client, "PUT", "/me", user, {"display_name": "Sharer"}).status_code == 200
    world.streams.drain()
    follower_ids = given_followers(user.user_id, followers)
    streams = StreamRunner(app, world.aws.session, start_at_latest=True,
                           failures_queue_url=world.aws.outputs["StreamFailuresQueueUrl"])
    in_handlers = _time_handlers(streams)
    assert call(world.client, "PUT", "/me/sharing", user, {"review": True}).status_code == 200
    now = iso(utc_now())
    shared = activity.share([rules.Shared(user_id=user.user_id, type=rules.REVIEW, source=f"bench-review#{index}",
                                          created_at=now, product_id=f"P{index}") for index in range(activities)])
    streams.drain()
    assert all(len(holders_of(a, follower_ids)) == followers for a in shared)

    assert call(world.client, "PUT", "/me/sharing", user, {"review": False}).status_code == 200
    before = in_handlers()
    with settled_heap(), recording() as log:
        started = time.perf_counter()
        streams.drain()
        drain_seconds = time.perf_counter() - started
    seconds = in_handlers() - before
    assert not streams.set_aside, streams.set_aside
    assert activity.activities_of(user.user_id) == []
    assert all(holders_of(a, follower_ids) == set() for a in shared)
    job = activity.withdrawal_status(user.user_id, rules.REVIEW)
    assert job is not None and job.done
    return {
        "followers": followers,
        "activities": activities,
        "entries_removed": followers * activities,
        "dynamodb_calls": log.calls,
        "calls_per_activity": round(log.calls / activities, 1),
        "seconds": round(seconds, 3),
        "drain_seconds": round(drain_seconds, 3),
        "calls_by_operation": log.by_operation(),
        "seconds_by_operation": log.seconds_by_operation(),
    }
