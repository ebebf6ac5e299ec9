"""Fan-out throughput: one post by an author with thousands of followers, through the real streams.

The post is created through the route; the stream runner (the same one `make dev` runs) then
delivers the Posts INSERT to `fan_out_posts` and each FanoutJobs step to `continue_fan_out`, like
Lambda would. Every DynamoDB call those handlers make is counted, and the drain is timed.

The baseline writes the same number of feed-entry items with a bare boto3 BatchWriteItem loop
(25 a call) into the same FeedEntries table of the same moto backend, in the same run: the ratio
is the fan-out's overhead (follower paging, job bookkeeping, trimming, PynamoDB) over the floor.
"""

from __future__ import annotations

import math
import time

from bench.harness import recording
from tests.support.api import call
from tests.support.posts import given_followers

FOLLOWERS = 2000


def target_calls(followers: int) -> float:
    return math.ceil(followers / 25) * 1.1 + 5




def baseline(session, count: int, template: dict) -> float:
    """Seconds for a bare BatchWriteItem loop writing `count` items shaped like `template`."""
    from chalicelib.models.posts import FeedEntry

    client = session.client("dynamodb")
    table = FeedEntry.Meta.table_name
    items = []
    for index in range(count):
        item = dict(template)
        item["user_id"] = {"S": f"baseline-{index:05d}"}
        item["reader_author"] = {"S": f"baseline-{index:05d}#{template['author_id']['S']}"}
        items.append({"PutRequest": {"Item": item}})
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


def measure(world, followers: int = FOLLOWERS) -> dict:
    from app import app
    from chalicelib.local.stream_runner import StreamRunner
    from chalicelib.models.posts import FanoutJob, FeedEntry

    author = world.users("popular")
    assert call(world.client, "PUT", "/me", author, {"display_name": "Popular"}).status_code == 200
    world.streams.drain()
    given_followers(author.user_id, followers)
    # a runner that starts after the graph was written: only the post's records are delivered
    streams = StreamRunner(app, world.aws.session, start_at_latest=True,
                           failures_queue_url=world.aws.outputs["StreamFailuresQueueUrl"])
    response = call(world.client, "POST", "/posts", author, {"text": "to all my fans"})
    assert response.status_code == 201, response.data
    post_id = response.data["post_id"]

    in_handlers = _time_handlers(streams)
    with recording() as log:
        started = time.perf_counter()
        streams.drain()
        drain_seconds = time.perf_counter() - started
    seconds = in_handlers()

    job = FanoutJob.get(post_id, consistent_read=True)
    delivered = sum(1 for _ in FeedEntry.by_post.query(post_id))
    assert job.done and int(job.written) == followers, (job.done, job.written)
    assert delivered == followers + 1, delivered  # every follower and the author
    assert not streams.set_aside, streams.set_aside

    template = FeedEntry.get(author.user_id, post_id).serialize()
    baseline_seconds = baseline(world.aws.session, followers, template)
    return {
        "followers": followers,
        "dynamodb_calls": log.calls,
        "seconds": round(seconds, 3),
        "drain_seconds": round(drain_seconds, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(seconds / baseline_seconds, 2),
        "calls_by_operation": log.by_operation(),
        "seconds_by_operation": log.seconds_by_operation(),
    }
