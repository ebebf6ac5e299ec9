"""A user's audience: their followers' ids, kept in hash buckets so a fan-out reads few items.

`AUDIENCE_BUCKETS` items per user (`FollowerBucket`), each holding the ids whose hash lands in it,
under `AUDIENCE_SHARDS` partition keys ("<user_id>#<shard>", each a contiguous run of buckets).
The Follows stream keeps them: `join` on a follow, `leave` on an unfollow (a block deletes the
follows, so it arrives here as unfollows). Both are set ADD / DELETE: a redelivered record changes
nothing, and two followers joining at once touch the set without a read-modify-write.

A fan-out step `read`s a range of buckets with one Query per shard it touches (one, or two for a
whole small audience), read consistently, so a follow recorded just before a post is seen by it.

O(1) per follow. A follow rewrites one bucket, billed by its size, so buckets must stay small:
the audience is kept only up to 1.1 x FANOUT_PULL_THRESHOLD followers (`domain.feed.keep_limit`,
~21 ids, under 1 KB a bucket: one write unit). Past it the account is (or will be at its next
post) served by pull and its audience is DROPPED: follows no longer join (new followers get the
account in their pull list instead), unfollows still leave. When a pull-mode account falls below
0.9 x the threshold its next post starts a rebuild job (`start_rebuild`): clear the stale buckets,
then refill them from the Follow items, each follower checked in the same transaction as its
join; the account goes back to push when the job ends. Until then its posts are pulled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from chalicelib.domain import feed as rules
from chalicelib.models.base import get_or_none, update_if
from chalicelib.models.graph import FollowerBucket
from chalicelib.models.jobs import Job
from chalicelib.models.users import UserProfile
from chalicelib.services import jobs

REBUILD_JOB = "audience-rebuild"
REBUILD_PAGE_SIZE = 200  # followers per rebuild step: one small transaction each (like the crossing job)
CLEAR, FILL = "clear", "fill"  # a rebuild's phases


def reach_of(profile: UserProfile | None) -> rules.Reach:
    """What the feed's rules need to know of an author, from their profile (None: a new account)."""
    if profile is None:
        return rules.Reach(follower_count=0)
    return rules.Reach(follower_count=int(profile.follower_count or 0), pull_mode=bool(profile.pull_mode),
                       audience=profile.audience_state or rules.KEPT)


def _bucket(user_id: str, follower_id: str) -> FollowerBucket:
    bucket = rules.audience_bucket(follower_id)
    return FollowerBucket(rules.audience_key(user_id, rules.audience_shard(bucket)), bucket)


def on_follow(user_id: str, follower_id: str, reach: rules.Reach, threshold: int) -> bool:
    """A new follower of `user_id`: joins the audience while it is kept. True if they joined.

    The follow that takes the account past the keep limit marks its audience DROPPED (once: the
    state only moves from kept) instead of joining.
    """
    action = rules.audience_on_follow(reach, threshold)
    if action == rules.DROP:
        update_if(UserProfile(user_id), actions=[UserProfile.audience_state.set(rules.DROPPED)],
                  condition=UserProfile.user_id.exists() & UserProfile.audience_state.does_not_exist())
        return False
    if action == rules.SKIP:
        return False
    return join(user_id, follower_id)


def join(user_id: str, follower_id: str) -> bool:
    """`follower_id` is in `user_id`'s audience (idempotent). False only if the bucket is full.

    A full bucket (400 KB, ~10,000 ids) cannot happen while audiences stop at the keep limit; if
    DynamoDB says so anyway it is logged and skipped rather than failing the record.
    """
    from pynamodb.exceptions import UpdateError

    try:
        _bucket(user_id, follower_id).update(actions=[FollowerBucket.follower_ids.add({follower_id})])
    except UpdateError as exc:
        if exc.cause_response_code == "ValidationException" and "size" in (exc.cause_response_message or ""):
            from chalicelib.observability import logger

            logger.warning("follower bucket full", extra={"user_id": user_id, "follower_id": follower_id})
            return False
        raise
    return True


def leave(user_id: str, follower_id: str) -> bool:
    """`follower_id` leaves `user_id`'s audience; False if they were not in it (no item is created).

    Applied in every state: in a dropped audience it removes a stale id, which is never wrong.
    """
    return update_if(_bucket(user_id, follower_id),
                     actions=[FollowerBucket.follower_ids.delete({follower_id})],
                     condition=FollowerBucket.follower_ids.contains(follower_id))


def read(user_id: str, first: int, last: int) -> tuple[list[str], int]:
    """The follower ids in buckets `first`..`last`, and the next bucket to read.

    One Query per shard the range touches (a fan-out step's range lies in one shard unless it is
    a whole small audience or straddles the middle). Read raw (no model per bucket) and
    consistently. If an answer is cut at DynamoDB's 1 MB page the next bucket is the one after the
    last returned, so nothing is skipped or read twice.
    """
    from pynamodb.constants import ITEMS, LAST_EVALUATED_KEY

    ids: list[str] = []
    for shard, low, high in rules.shard_ranges(first, last):
        data = FollowerBucket._get_connection().query(
            rules.audience_key(user_id, shard), range_key_condition=FollowerBucket.bucket.between(low, high),
            attributes_to_get=["bucket", "follower_ids"], consistent_read=True,
        )
        ids += [follower_id for raw in data.get(ITEMS) or []
                for follower_id in raw.get("follower_ids", {}).get("SS", ())]
        cut = data.get(LAST_EVALUATED_KEY)
        if cut:
            return ids, int(cut["bucket"]["N"]) + 1
    return ids, last + 1


def _bucket_keys(user_id: str) -> list[tuple[str, int]]:
    """The keys of every bucket item `user_id` has: one keys-only Query per shard."""
    keys = []
    for shard in range(rules.AUDIENCE_SHARDS):
        hash_key = rules.audience_key(user_id, shard)
        keys += [(hash_key, int(item.bucket)) for item in FollowerBucket.query(hash_key, attributes_to_get=["bucket"])]
    return keys


def clear(user_id: str) -> int:
    """Delete every bucket of `user_id`; returns how many there were."""
    keys = _bucket_keys(user_id)
    with FollowerBucket.batch_write() as batch:
        for hash_key, bucket in keys:
            batch.delete(FollowerBucket(hash_key, bucket))
    return len(keys)


def rebuild(user_id: str, follower_ids: Iterable[str]) -> int:
    """Write `user_id`'s buckets afresh from the full list of their followers; returns buckets written.

    For set-up in bulk (tests, the bench) and for an operator's repair (`rebuild_from_follows`).
    Every bucket is written or deleted, so ids that are no longer followers go; run it while the
    account's follows are quiet (the rebuild job is the online way).
    """
    by_bucket: dict[int, set[str]] = defaultdict(set)
    for follower_id in follower_ids:
        by_bucket[rules.audience_bucket(follower_id)].add(follower_id)

    def item(bucket: int, ids: set[str] | None = None) -> FollowerBucket:
        return FollowerBucket(rules.audience_key(user_id, rules.audience_shard(bucket)), bucket, follower_ids=ids)

    with FollowerBucket.batch_write() as batch:
        for bucket in range(rules.AUDIENCE_BUCKETS):
            if by_bucket.get(bucket):
                batch.save(item(bucket, by_bucket[bucket]))
            else:
                batch.delete(item(bucket))
    return len(by_bucket)


def rebuild_from_follows(user_id: str) -> int:
    """Repair: `user_id`'s audience rebuilt from their Follow items (the followers index).

    Not on any request or stream path (it reads every follower); for an operator, e.g. for an
    account whose follows predate the buckets. Returns how many followers were listed.
    """
    from chalicelib.models.graph import all_follower_ids

    follower_ids = all_follower_ids(user_id)
    rebuild(user_id, follower_ids)
    return len(follower_ids)


# -- the rebuild job: back to push below 0.9 x the threshold ----------------------------------------
def rebuild_job_id(user_id: str) -> str:
    return f"{REBUILD_JOB}#{user_id}"


def start_rebuild(user_id: str) -> bool:
    """Start rebuilding a dropped audience (a post of a pull-mode account below the return limit).

    One job per account: a second start while it runs is a no-op; a finished one can run again
    at a later crossing. Its steps run from the Jobs stream, starting with this write.
    """
    return jobs.start(rebuild_job_id(user_id), REBUILD_JOB, user_id, phase=CLEAR)


def run_rebuild_step(job: Job) -> jobs.StepResult:
    """One step of a rebuild.

    CLEAR: while the audience is still DROPPED (no follow joins it), delete its stale buckets, then
    mark it BUILDING (from here follows join, unfollows leave). If it is already BUILDING (this step
    was redone after a crash) the buckets are not cleared again: they hold joins since.
    FILL: the next page of Follow items (the followers index, shard after shard), each follower added in one
    transaction with a check that the follow still stands, so an unfollow whose stream effect has
    already run cannot be undone by a late page. The last page marks the audience kept and ends
    pull mode: the account's next post fans out.
    """
    user_id = job.subject
    position = jobs.cursor_of(job)
    if job.phase == CLEAR:
        profile = _profile(user_id)
        state = reach_of(profile).audience
        if profile is None or state == rules.KEPT:
            return jobs.StepResult(processed=0, done=True)  # nothing to rebuild (any more)
        if state == rules.DROPPED:
            clear(user_id)
            update_if(UserProfile(user_id), actions=[UserProfile.audience_state.set(rules.BUILDING)],
                      condition=UserProfile.audience_state == rules.DROPPED)
        return jobs.StepResult(processed=0, phase=FILL)
    follower_ids, following = _followers_page(user_id, position)
    added = sum(1 for follower_id in follower_ids if _join_if_following(user_id, follower_id))
    if following is not None:
        return jobs.StepResult(processed=added, phase=FILL, cursor=following)
    update_if(UserProfile(user_id),
              actions=[UserProfile.audience_state.remove(), UserProfile.pull_mode.remove()],
              condition=UserProfile.audience_state == rules.BUILDING)
    return jobs.StepResult(processed=added, done=True)


def _profile(user_id: str) -> UserProfile | None:
    return get_or_none(UserProfile, user_id, consistent_read=True)


def _followers_page(user_id: str, position: dict | None) -> tuple[list[str], dict | None]:
    """One page of `user_id`'s followers from the followers index, and where the next starts."""
    from chalicelib.models.graph import follower_ids_page

    return follower_ids_page(user_id, REBUILD_PAGE_SIZE, position)


def _join_if_following(user_id: str, follower_id: str) -> bool:
    """The follower joins the audience if the follow still stands, checked in the same transaction."""
    bucket = _bucket(user_id, follower_id)
    return add_while_following(follower_id, user_id, "bucket", bucket, FollowerBucket.follower_ids,
                               follower_id, what=f"the audience of {user_id}")


def add_while_following(follower_id: str, followee_id: str, label: str, item, attribute, value: str, *,
                        what: str) -> bool:
    """`value` joins the set `attribute` of `item` if `follower_id` still follows `followee_id`, the
    follow checked in the same transaction (an unfollow racing the write cannot leave it there).
    False if the follow is gone; conflicts under the one retry rule."""
    from chalicelib.models.graph import Follow
    from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict

    def attempt() -> bool:
        transaction = Transaction()
        transaction.check("follow", Follow, follower_id, followee_id, condition=Follow.follower_id.exists())
        transaction.update(label, item, actions=[attribute.add({value})])
        try:
            transaction.commit()
        except TransactionFailed as exc:
            if exc.failed_on("follow"):
                return False
            raise
        return True

    return retry_on_conflict(attempt, what=what)
