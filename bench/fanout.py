"""Fan-out throughput: a post by an author with thousands of followers, through the real streams.

The post is created through the route; the stream runner (the same one `make dev` runs) then
delivers the Posts INSERT to `fan_out_posts` and each FanoutJobs step to `continue_fan_out`, like
Lambda would. Every DynamoDB call those handlers make is counted, and the time inside them taken.

The baseline writes the same number of feed-entry items with a bare boto3 BatchWriteItem loop
(25 a call) into the same FeedEntries table of the same moto backend, in the same run: the ratio
is the fan-out's overhead (reading the audience, job bookkeeping, building items) over the floor.
Posts and baselines alternate for `ROUNDS` rounds, each timed from a settled heap
(`harness.settled_heap`), and the medians are compared.
"""

from __future__ import annotations

import math
import statistics
import time

from bench.harness import recording, settled_heap
from tests.support.api import call
from tests.support.posts import given_followers

FOLLOWERS = 2000
ROUNDS = 3


def target_calls(followers: int) -> float:
    return math.ceil(followers / 25) * 1.1 + 5




def baseline(session, count: int, template: dict, label: str = "baseline") -> float:
    """Seconds for a bare BatchWriteItem loop writing `count` items shaped like `template`."""
    from chalicelib.models.posts import FeedEntry

    client = session.client("dynamodb")
    table = FeedEntry.Meta.table_name
    items = []
    for index in range(count):
        item = dict(template)
        item["user_id"] = {"S": f"{label}-{index:05d}"}
        items.append({"PutRequest": {"Item": item}})
    with settled_heap():
        started = time.perf_counter()
        for start in range(0, len(items), 25):
            pending = items[start:start + 25]
            while pending:
                response = client.batch_write_item(RequestItems={table: pending})
                pending = response.get("UnprocessedItems", {}).get(table, [])
        return time.perf_counter() - started


def _time_handlers(streams):
    """Time spent inside the stream handlers, i.e. what Lambda runs and bills.

    The local runner's own polling of every table's stream (what Lambda's event source mappings
    do in AWS, outside the function) is left out; it is reported as `drain_seconds` in details.
    """
    spent = [0.0]
    for subscription in streams.subscriptions:
        def timed(event, context, _handler=subscription.handler):
            started = time.perf_counter()
            try:
                return _handler(event, context)
            finally:
                spent[0] += time.perf_counter() - started

        subscription.handler = timed
    return lambda: spent[0]


def _fan_out_one_post(world, streams, author, follower_ids, in_handlers) -> tuple[str, float, float, object, int]:
    """Create one post and drain its fan-out: (post id, seconds in handlers, drain seconds, call log, steps)."""
    from chalicelib.models.posts import FanoutJob
    from tests.support.posts import holders_of

    followers = len(follower_ids)

    response = call(world.client, "POST", "/posts", author, {"text": "to all my fans"})
    assert response.status_code == 201, response.data
    post_id = response.data["post_id"]
    before = in_handlers()
    with settled_heap(), recording() as log:
        started = time.perf_counter()
        streams.drain()
        drain_seconds = time.perf_counter() - started
    job = FanoutJob.get(post_id, consistent_read=True)
    assert job.done and int(job.written) == followers, (job.done, job.written)
    delivered = holders_of(post_id, [*follower_ids, author.user_id])
    assert len(delivered) == followers + 1, len(delivered)  # every follower and the author
    assert not streams.set_aside, streams.set_aside
    return post_id, in_handlers() - before, drain_seconds, log, int(job.steps)


def measure(world, followers: int = FOLLOWERS, rounds: int = ROUNDS) -> dict:
    """`rounds` posts and as many baselines, interleaved so both see the same backend and machine
    load; the medians are reported (a single pair swings by ±30 % on a busy 2-core machine)."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner
    from chalicelib.models.posts import FeedEntry

    author = world.users("popular")
    assert call(world.client, "PUT", "/me", author, {"display_name": "Popular"}).status_code == 200
    world.streams.drain()
    follower_ids = given_followers(author.user_id, followers)
    # a runner that starts after the graph was written: only the posts' records are delivered
    streams = StreamRunner(app, world.aws.session, start_at_latest=True,
                           failures_queue_url=world.aws.outputs["StreamFailuresQueueUrl"])
    in_handlers = _time_handlers(streams)

    timings, baselines, drains, logs = [], [], [], []
    steps = 0
    for index in range(rounds):
        post_id, seconds, drain_seconds, log, steps = _fan_out_one_post(world, streams, author, follower_ids,
                                                                         in_handlers)
        template = FeedEntry.get(author.user_id, post_id).serialize()
        timings.append(seconds)
        drains.append(drain_seconds)
        logs.append(log)
        baselines.append(baseline(world.aws.session, followers, template, label=f"baseline{index}"))
    assert len({log.calls for log in logs}) == 1, [log.calls for log in logs]  # every post costs the same
    seconds, baseline_seconds = statistics.median(timings), statistics.median(baselines)
    return {
        "followers": followers,
        "dynamodb_calls": logs[0].calls,
        "seconds": round(seconds, 3),
        "drain_seconds": round(statistics.median(drains), 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(seconds / baseline_seconds, 2),
        # what sizes the fan-out handlers' batches and timeouts (chalicelib/streams/settings.py)
        "steps": steps,
        "seconds_per_step": round(seconds / steps, 3),
        "calls_per_step": round(logs[0].calls / steps, 1),
        "rounds": {"seconds": [round(t, 3) for t in timings], "baseline_seconds": [round(b, 3) for b in baselines]},
        "calls_by_operation": logs[0].by_operation(),
        "seconds_by_operation": logs[0].seconds_by_operation(),
    }
