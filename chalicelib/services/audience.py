"""A user's audience: their followers' ids, kept in hash buckets so a fan-out reads few items.

`AUDIENCE_BUCKETS` items per user (`FollowerBucket`), each holding the ids whose hash lands in it.
The Follows stream keeps them: `join` on a follow, `leave` on an unfollow (a block deletes the
follows, so it arrives here as unfollows). Both are set ADD / DELETE: a redelivered record changes
nothing, and two followers joining at once touch the set without a read-modify-write.

A fan-out step `read`s a range of buckets with ONE Query: for 1,000 followers that is a handful of
items instead of 1,000 Follow items from the by_followee index (less read capacity and far fewer
bytes on the wire), read consistently, so a follow recorded just before a post is seen by it.

Why hash buckets and not "append to the last chunk": a bucket is a pure function of the follower
id, so `leave` knows where to delete without a lookup and `join` never has to choose a chunk
under concurrency. The price is that every follow rewrites one bucket, billed by its size (about
40 bytes an id: 1 KB, one write unit, for a user with 6,000 followers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from chalicelib.domain import feed as rules
from chalicelib.models.base import update_if
from chalicelib.models.graph import FollowerBucket


def join(user_id: str, follower_id: str) -> bool:
    """`follower_id` is in `user_id`'s audience (idempotent). False only if the bucket is full.

    A full bucket (400 KB, ~10,000 ids: a user with ~2.5M followers) is logged and skipped rather
    than failing the record: such an account is served by pull (FANOUT_PULL_THRESHOLD), and the
    fan-out never reads its buckets.
    """
    from pynamodb.exceptions import UpdateError

    try:
        FollowerBucket(user_id, rules.audience_bucket(follower_id)).update(
            actions=[FollowerBucket.follower_ids.add({follower_id})]
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ValidationException" and "size" in (exc.cause_response_message or ""):
            from chalicelib.observability import logger

            logger.warning("follower bucket full", extra={"user_id": user_id, "follower_id": follower_id})
            return False
        raise
    return True


def leave(user_id: str, follower_id: str) -> bool:
    """`follower_id` leaves `user_id`'s audience; False if they were not in it (no item is created)."""
    return update_if(FollowerBucket(user_id, rules.audience_bucket(follower_id)),
                     actions=[FollowerBucket.follower_ids.delete({follower_id})],
                     condition=FollowerBucket.follower_ids.contains(follower_id))


def read(user_id: str, first: int, last: int) -> tuple[list[str], int]:
    """The follower ids in buckets `first`..`last`, and the next bucket to read: ONE Query.

    Read raw (no model per bucket) and consistently. If the answer is cut at DynamoDB's 1 MB page
    the next bucket is the one after the last returned, so nothing is skipped or read twice.
    """
    from pynamodb.constants import ITEMS, LAST_EVALUATED_KEY

    data = FollowerBucket._get_connection().query(
        user_id, range_key_condition=FollowerBucket.bucket.between(first, last),
        attributes_to_get=["bucket", "follower_ids"], consistent_read=True,
    )
    ids = [follower_id for raw in data.get(ITEMS) or [] for follower_id in raw.get("follower_ids", {}).get("SS", ())]
    cut = data.get(LAST_EVALUATED_KEY)
    return ids, (int(cut["bucket"]["N"]) + 1 if cut else last + 1)


def rebuild(user_id: str, follower_ids: Iterable[str]) -> int:
    """Write `user_id`'s buckets afresh from the full list of their followers; returns buckets written.

    For set-up in bulk (tests, the bench) and for repair from the by_followee index (`rebuild_from_follows`).
    Every bucket is written or deleted, so ids that are no longer followers go; run it while the
    account's follows are quiet.
    """
    by_bucket: dict[int, set[str]] = defaultdict(set)
    for follower_id in follower_ids:
        by_bucket[rules.audience_bucket(follower_id)].add(follower_id)
    with FollowerBucket.batch_write() as batch:
        for bucket in range(rules.AUDIENCE_BUCKETS):
            if by_bucket.get(bucket):
                batch.save(FollowerBucket(user_id, bucket, follower_ids=by_bucket[bucket]))
            else:
                batch.delete(FollowerBucket(user_id, bucket))
    return len(by_bucket)


def rebuild_from_follows(user_id: str) -> int:
    """Repair: `user_id`'s audience rebuilt from their Follow items (the by_followee index).

    Not on any request or stream path (it reads every follower); for an operator, e.g. for an
    account whose follows predate the buckets. Returns how many followers were listed.
    """
    from chalicelib.models.graph import Follow

    follower_ids = [follow.follower_id for follow in Follow.followers.query(user_id, attributes_to_get=["follower_id"])]
    rebuild(user_id, follower_ids)
    return len(follower_ids)
