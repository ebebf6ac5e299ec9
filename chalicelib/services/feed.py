"""The home feed: fan-out on write, merge on read for large accounts, and the feed's upkeep.

Write path. A post's INSERT on the Posts stream writes the author's own entry and a `FanoutJob`
(id = post id), and runs the job's first step. A step is one page of the author's followers
(`FANOUT_PAGE_SIZE`), written as FeedEntry items in BatchWriteItem chunks of 25; then the job's
cursor and progress are moved on, conditional on the step number it started from. That MODIFY,
on the FanoutJobs stream, drives the next step, and the last step marks the job done with
`finished_at`. A crash leaves the job at the last recorded step: redelivery (or `resume_fan_out`)
redoes that one page, and since an entry's key is (reader, post) a redone page rewrites the same
items.

Read path. Authors with more followers than `FANOUT_PULL_THRESHOLD` are not fanned out; a reader's
first feed page finds which of their followees are such authors and keeps them in the cursor, and
every page merges their newest posts (by_author index) with the reader's own entries.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Sequence

from chalicelib.config import get_settings
from chalicelib.domain import feed as rules
from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.errors import BadRequest
from chalicelib.models.base import batch_get
from chalicelib.models.graph import Block, Follow
from chalicelib.models.merchants import Merchant
from chalicelib.models.posts import FanoutJob, FeedEntry, PollVote, Post
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest

FANOUT_PAGE_SIZE = 1000  # followers per fan-out step: 40 BatchWriteItem calls
TRIM_EVERY = 32  # about one insert in this many also trims that reader's feed to its window
JOB_TTL_SECONDS = 7 * 24 * 3600  # a finished job stays visible for a week
MAX_BATCH_ATTEMPTS = 8


# -- batched writes ---------------------------------------------------------------------------------
def _key_of(item) -> dict:
    model = type(item)
    data = item.serialize(null_check=False)
    names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    return {name: data[name] for name in names}


def write_batches(model, puts: Iterable = (), deletes: Iterable = ()) -> int:
    """Write `puts` and `deletes` of one table in BatchWriteItem chunks of 25; return calls made.

    Unprocessed items (throttling) are sent again after an exponential, jittered backoff; a chunk
    still unprocessed after `MAX_BATCH_ATTEMPTS` raises, and the stream redelivers the record,
    which rewrites the same keys.
    """
    requests = [{"PutRequest": {"Item": item.serialize()}} for item in puts]
    requests += [{"DeleteRequest": {"Key": _key_of(item)}} for item in deletes]

    def signature(request: dict) -> str:
        key = request["DeleteRequest"]["Key"] if "DeleteRequest" in request else {
            name: request["PutRequest"]["Item"][name]
            for name in [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
        }
        return json.dumps(key, sort_keys=True)

    requests = rules.unique_by(requests, key=signature)
    if not requests:
        return 0
    table = model.Meta.table_name
    client = model._get_connection().connection.client
    calls = 0
    for chunk in rules.chunks(requests, rules.BATCH_WRITE_LIMIT):
        pending = chunk
        attempt = 0
        while pending:
            attempt += 1
            if attempt > MAX_BATCH_ATTEMPTS:
                raise RuntimeError(f"BatchWriteItem on {table} kept returning unprocessed items")
            if attempt > 1:
                time.sleep(rules.backoff_seconds(attempt - 1, jitter=random.random()))
            response = client.batch_write_item(RequestItems={table: pending})
            calls += 1
            pending = (response.get("UnprocessedItems") or {}).get(table) or []
    return calls


# -- entries ----------------------------------------------------------------------------------------
def _entry(reader_id: str, post: dict) -> FeedEntry:
    return FeedEntry(
        reader_id,
        post["post_id"],
        author_id=post["author_id"],
        reader_author=rules.reader_author(reader_id, post["author_id"]),
        created_at=post["created_at"],
        has_poll=bool(post.get("poll")),
    )


def _post_dict(post: Post) -> dict:
    return {"post_id": post.post_id, "author_id": post.author_id, "created_at": post.created_at,
            "poll": bool(post.poll)}


def follower_count(user_id: str) -> int:
    profile = batch_get([(UserProfile, user_id, None)])[0]
    return int(profile.follower_count or 0) if profile is not None else 0


def blockers_of(user_id: str) -> set[str]:
    return {block.blocker_id for block in Block.blocked_by.query(user_id)}


def trim_feed(reader_id: str) -> int:
    """Delete the reader's entries beyond the newest `FEED_MAX_ENTRIES`; return how many went."""
    post_ids = [
        entry.post_id
        for entry in FeedEntry.query(reader_id, scan_index_forward=False, attributes_to_get=["user_id", "post_id"])
    ]
    extra = rules.beyond_window(post_ids, get_settings().feed_max_entries)
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, post_id) for post_id in extra])
    return len(extra)


def _insert_entries(post: dict, reader_ids: Sequence[str]) -> int:
    calls = write_batches(FeedEntry, puts=[_entry(reader_id, post) for reader_id in reader_ids])
    for reader_id in reader_ids:
        if rules.samples_trim(reader_id, post["post_id"], TRIM_EVERY):
            trim_feed(reader_id)
    return calls


# -- fan-out ----------------------------------------------------------------------------------------
def start_fan_out(post: dict) -> None:
    """Posts INSERT: the author's own entry, then a job that carries the post to every follower."""
    from pynamodb.exceptions import PutError

    author_id = post["author_id"]
    _entry(author_id, post).save()  # the author's own feed: one PutItem, not part of the fan-out's batches
    if rules.samples_trim(author_id, post["post_id"], TRIM_EVERY):
        trim_feed(author_id)
    push = rules.fans_out(follower_count(author_id), get_settings().fanout_pull_threshold)
    now = now_iso()
    job = FanoutJob(
        post["post_id"],
        post_id=post["post_id"],
        author_id=author_id,
        created_at=now,
        mode="push" if push else "pull",
        written=0,
        steps=0,
        done=not push,
        finished_at=None if push else now,
        expires_at=None if push else epoch_seconds() + JOB_TTL_SECONDS,
    )
    try:
        job.save(condition=FanoutJob.job_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        job = None  # a redelivery: the step below reads how far the job really got
    if push:
        # The first page now, saving a stream hop for the common small audience; the job's INSERT
        # record then finds step 0 done and moves on (or redoes it, if this invocation died).
        run_fan_out_step(post["post_id"], 0, job=job, post=post)


def run_fan_out_step(job_id: str, expected_step: int, job: FanoutJob | None = None, post: dict | None = None) -> bool:
    """Write one page of followers' entries and record it; False if the step was not (or no longer) due.

    `job` and `post` are passed only by the invocation that has just created the job; every later
    step reads both afresh, and a post deleted meanwhile ends the job as cancelled.
    """
    from pynamodb.exceptions import UpdateError

    if job is None:
        try:
            job = FanoutJob.get(job_id, consistent_read=True)
        except FanoutJob.DoesNotExist:
            return False
    if job.done or int(job.steps) != expected_step:
        return False
    if post is None:
        try:
            post = _post_dict(Post.get(job.post_id, consistent_read=True))
        except Post.DoesNotExist:
            return _finish(job, expected_step, cancelled=True)
    position = json.loads(job.cursor) if job.cursor else None
    from chalicelib.services.graph import follower_ids_page

    follower_ids, last_key = follower_ids_page(job.author_id, FANOUT_PAGE_SIZE, position)
    readers = rules.fanout_readers(follower_ids, job.author_id, blockers_of(job.author_id) if follower_ids else set())
    _insert_entries(post, readers)
    done = last_key is None
    actions = [
        FanoutJob.written.add(len(readers)),
        FanoutJob.steps.add(1),
        FanoutJob.done.set(done),
        FanoutJob.cursor.set(json.dumps(last_key, sort_keys=True)) if last_key else FanoutJob.cursor.remove(),
    ]
    if done:
        actions += [FanoutJob.finished_at.set(now_iso()),
                    FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)]
    try:
        job.update(actions=actions, condition=(FanoutJob.steps == expected_step) & (FanoutJob.done == False))  # noqa: E712
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False  # another delivery recorded this step first; it wrote the same entries
    return True


def _finish(job: FanoutJob, expected_step: int, *, cancelled: bool) -> bool:
    from pynamodb.exceptions import UpdateError

    try:
        job.update(
            actions=[FanoutJob.done.set(True), FanoutJob.cancelled.set(cancelled), FanoutJob.cursor.remove(),
                     FanoutJob.finished_at.set(now_iso()),
                     FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)],
            condition=(FanoutJob.steps == expected_step) & (FanoutJob.done == False),  # noqa: E712
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def resume_fan_out(job_id: str) -> bool:
    """For an operator: touch a stalled job (its record was set aside) so its stream carries it on."""
    from pynamodb.exceptions import UpdateError

    try:
        FanoutJob(job_id).update(actions=[FanoutJob.resumed_at.set(now_iso())],
                                 condition=FanoutJob.job_id.exists() & (FanoutJob.done == False))  # noqa: E712
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def fan_out_status(job_id: str) -> FanoutJob | None:
    try:
        return FanoutJob.get(job_id, consistent_read=True)
    except FanoutJob.DoesNotExist:
        return None


# -- upkeep -----------------------------------------------------------------------------------------
def remove_post_everywhere(post_id: str) -> int:
    """Posts REMOVE: the post leaves every feed it was written to, and its poll votes go too."""
    readers = [entry.user_id for entry in FeedEntry.by_post.query(post_id)]
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, post_id) for reader_id in readers])
    votes = [vote.user_id for vote in PollVote.query(post_id, attributes_to_get=["post_id", "user_id"])]
    write_batches(PollVote, deletes=[PollVote(post_id, user_id) for user_id in votes])
    return len(readers)


def remove_author_from_feed(reader_id: str, author_id: str) -> int:
    """Unfollow or block: every entry of `author_id` leaves `reader_id`'s feed."""
    entries = list(FeedEntry.by_reader_author.query(rules.reader_author(reader_id, author_id)))
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, entry.post_id) for entry in entries])
    return len(entries)


def backfill(follower_id: str, followee_id: str) -> int:
    """Follows INSERT: the followee's newest posts join the follower's feed.

    Skipped when the follow is already gone again (a late redelivery) and for large accounts,
    whose posts every feed merges at read time.
    """
    follow, profile = batch_get([(Follow, follower_id, followee_id), (UserProfile, followee_id, None)])
    if follow is None:
        return 0
    count = int(profile.follower_count or 0) if profile is not None else 0
    if not rules.fans_out(count, get_settings().fanout_pull_threshold):
        return 0
    if follower_id in blockers_of(followee_id):
        return 0
    posts = list(Post.by_author.query(followee_id, scan_index_forward=False, limit=rules.BACKFILL_POSTS))
    write_batches(FeedEntry, puts=[_entry(follower_id, _post_dict(post)) for post in posts])
    if posts and rules.samples_trim(follower_id, posts[0].post_id, max(1, TRIM_EVERY // rules.BACKFILL_POSTS)):
        trim_feed(follower_id)
    return len(posts)


# -- reading ----------------------------------------------------------------------------------------
def pull_authors_followed(reader_id: str) -> list[str]:
    """The reader's followees with more followers than the threshold: one Query and batched reads."""
    threshold = get_settings().fanout_pull_threshold
    followees = [follow.followee_id for follow in Follow.query(reader_id)]
    profiles = batch_get([(UserProfile, user_id, None) for user_id in followees])
    return sorted(
        profile.user_id for profile in profiles
        if profile is not None and not rules.fans_out(int(profile.follower_count or 0), threshold)
    )


def read_feed(reader_id: str, page: PageRequest) -> Page:
    """One Query on the reader's feed, one on each followed large account, then ONE batched read
    (posts of the page's entries, their authors' names, the reader's votes on polls)."""
    from chalicelib.services.posts import post_view

    window = get_settings().feed_max_entries
    try:
        position = rules.FeedPosition.from_cursor(page.position, reader_id)
    except ValueError:
        raise BadRequest("cursor: not a cursor this service issued for your feed") from None
    if position is None:
        position = rules.FeedPosition(reader=reader_id, before=None, served=0,
                                      pull=tuple(pull_authors_followed(reader_id)))
    size = rules.page_size(page.limit, position.served, window)
    if size == 0:
        return Page(items=[], next_cursor=None)
    before = position.before

    entries = {
        entry.post_id: entry
        for entry in FeedEntry.query(
            reader_id, FeedEntry.post_id < before if before else None, scan_index_forward=False, limit=size + 1,
        )
    }
    pulled: dict[str, Post] = {}
    for author_id in position.pull:
        for post in Post.by_author.query(
            author_id, Post.post_id < before if before else None, scan_index_forward=False, limit=size + 1,
        ):
            pulled[post.post_id] = post
    merged = rules.merge_newest_first([list(entries), list(pulled)], size)

    to_fetch = [post_id for post_id in merged.post_ids if post_id not in pulled]
    authors = sorted({pulled[p].author_id if p in pulled else entries[p].author_id for p in merged.post_ids})
    polls = [p for p in merged.post_ids if (pulled[p].poll is not None if p in pulled else entries[p].has_poll)]
    found = batch_get(
        [(Post, post_id, None) for post_id in to_fetch]
        + [(UserProfile, author_id, None) for author_id in authors]
        + [(Merchant, author_id, None) for author_id in authors]
        + [(PollVote, post_id, reader_id) for post_id in polls]
    )
    found = iter(found)
    fetched = {post_id: next(found) for post_id in to_fetch}
    profiles = {author_id: next(found) for author_id in authors}
    stores = {author_id: next(found) for author_id in authors}
    votes = {post_id: next(found) for post_id in polls}
    now = now_iso()
    items = []
    for post_id in merged.post_ids:
        post = pulled.get(post_id) or fetched.get(post_id)
        if post is None:  # deleted; the Posts stream is removing its entries
            continue
        items.append(post_view(post, profiles.get(post.author_id), votes.get(post_id), now, stores.get(post.author_id)))
    following = rules.next_position(merged, position, window)
    return Page(items=items, next_cursor=page.next_cursor(following.to_cursor() if following else None))


# -- stream effects ---------------------------------------------------------------------------------
def on_post_change(change) -> None:
    """Posts stream: a new home post is fanned out; a deleted post leaves every feed.

    Circle posts stay out of home feeds; poll votes (MODIFY) change nothing here.
    """
    item = change.item
    if change.kind == "INSERT":
        if item.get("home_author_id") and not item.get("group_id"):
            start_fan_out(item)
    elif change.kind == "REMOVE":
        remove_post_everywhere(item["post_id"])


def on_fanout_job_change(change) -> None:
    """FanoutJobs stream: every recorded step (or an operator's resume) runs the next one."""
    job = change.new
    if change.kind == "REMOVE" or not job or job.get("done"):
        return
    run_fan_out_step(job["job_id"], int(job.get("steps") or 0))
