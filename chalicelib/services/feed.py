"""The home feed: fan-out on write, merge on read for large accounts, and the feed's upkeep.

Write path. A post's INSERT on the Posts stream writes the author's own entry and a `FanoutJob`
(id = post id), and runs the job's first step. A step reads a range of the author's audience
buckets (`services.audience`: about `FANOUT_PAGE_SIZE` followers, ONE Query), writes their
FeedEntry items in BatchWriteItem chunks of 25, then moves the job's cursor and progress on,
conditional on the step number it started from. That MODIFY, on the FanoutJobs stream, drives the
next step, and the last step marks the job done with `finished_at`. A crash leaves the job at the
last recorded step: redelivery (or `resume_fan_out`) redoes that one step, and since an entry's key
is (reader, post) a redone step rewrites the same items.

Read path. Authors with more followers than `FANOUT_PULL_THRESHOLD` are not fanned out. Each reader
keeps the large accounts they follow in ONE item of their own feed partition (`FeedPullList`, sort
key "~pull#<reader>", above every post id): the first page's newest-first Query of the feed returns
it first, in the same call, and the cursor carries the list on. Every page merges those authors'
newest posts (by_author index) with the reader's own entries. The list is kept by the Follows
stream (a follow of a large account adds it, an unfollow or a block removes it) and, when an author
crosses the threshold, by a one-time job over their audience (`FanoutJob` mode "pull-list", one
transaction per follower that also checks the follow still stands) that ends by marking the
author's profile `pull_mode`.

Upkeep. Entries are never trimmed on write: each carries `expires_at` (DynamoDB TTL, 30 days), a
read skips an expired entry TTL has not yet deleted, and reads stop at the newest
`FEED_MAX_ENTRIES`, so older entries are never shown.
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
from chalicelib.models.base import batch_get, save_if, update_if
from chalicelib.models.graph import Block, Follow
from chalicelib.models.merchants import Merchant
from chalicelib.models.posts import FanoutJob, FeedEntry, FeedPullList, PollVote, Post
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.services import audience

FANOUT_PAGE_SIZE = 1000  # followers per fan-out step (about): 40 BatchWriteItem calls
PULL_LIST_PAGE_SIZE = 200  # followers per step of a threshold crossing (about): one transaction each
PUSH, PULL, PULL_LIST = "push", "pull", "pull-list"  # FanoutJob modes
JOB_TTL_SECONDS = 7 * 24 * 3600  # a finished job stays visible for a week
MAX_BATCH_ATTEMPTS = 8


# -- batched writes ---------------------------------------------------------------------------------
def _key_of(item) -> dict:
    model = type(item)
    data = item.serialize(null_check=False)
    names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    return {name: data[name] for name in names}


def write_batches(model, puts: Iterable = (), deletes: Iterable = (), items: Iterable[dict] = ()) -> int:
    """Write `puts` and `deletes` (models) and `items` (already DynamoDB JSON) of one table in
    BatchWriteItem chunks of 25; return calls made.

    Unprocessed items (throttling) are sent again after an exponential, jittered backoff; a chunk
    still unprocessed after `MAX_BATCH_ATTEMPTS` raises, and the stream redelivers the record,
    which rewrites the same keys.
    """
    key_names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    requests = [{"PutRequest": {"Item": item}} for item in items]
    requests += [{"PutRequest": {"Item": item.serialize()}} for item in puts]
    requests += [{"DeleteRequest": {"Key": _key_of(item)}} for item in deletes]

    def signature(request: dict) -> tuple:
        key = request["DeleteRequest"]["Key"] if "DeleteRequest" in request else request["PutRequest"]["Item"]
        return tuple(next(iter(key[name].values())) for name in key_names)

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
        expires_at=rules.entry_expires_at(epoch_seconds()),
    )


def _post_dict(post: Post) -> dict:
    return {"post_id": post.post_id, "author_id": post.author_id, "created_at": post.created_at,
            "poll": bool(post.poll)}


def _reach(user_id: str) -> rules.Reach:
    """Followers, pull mode and the audience's state of an author: one read of their profile."""
    return audience.reach_of(batch_get([(UserProfile, user_id, None)])[0])


def blockers_of(user_id: str) -> set[str]:
    return {block.blocker_id for block in Block.blocked_by.query(user_id, attributes_to_get=["blocker_id"])}


def _insert_entries(post: dict, reader_ids: Sequence[str]) -> int:
    """One post's entries for many readers; the hot loop of a fan-out, so no model per reader."""
    author_id = post["author_id"]
    items = FeedEntry.raw_items(
        ((reader_id, rules.reader_author(reader_id, author_id)) for reader_id in reader_ids),
        post_id=post["post_id"], author_id=author_id, created_at=post["created_at"],
        has_poll=bool(post.get("poll")), expires_at=rules.entry_expires_at(epoch_seconds()),
    )
    return write_batches(FeedEntry, items=items)


# -- the pull list ----------------------------------------------------------------------------------
def add_pull_author(reader_id: str, author_id: str) -> None:
    """The reader's feed merges `author_id`'s posts at read time (a set ADD: idempotent)."""
    FeedPullList(reader_id, rules.pull_list_key(reader_id)).update(
        actions=[FeedPullList.pull_authors.add({author_id})]
    )


def remove_pull_author(reader_id: str, author_id: str) -> bool:
    """Unfollow or block: `author_id` leaves the reader's pull list, if it is there (no item is created)."""
    return update_if(FeedPullList(reader_id, rules.pull_list_key(reader_id)),
                     actions=[FeedPullList.pull_authors.delete({author_id})],
                     condition=FeedPullList.pull_authors.contains(author_id))


def _list_for_follower(reader_id: str, author_id: str) -> bool:
    """Threshold crossing: `author_id` joins the reader's pull list if the reader still follows them.

    The follow is checked in the same transaction: an unfollow landing between the job reading the
    audience and this write (its stream effect found nothing to remove yet) cannot leave the author
    listed. False if the follow is gone.
    """

    def attempt() -> bool:
        transaction = Transaction()
        transaction.check("follow", Follow, reader_id, author_id, condition=Follow.follower_id.exists())
        transaction.update("pull list", FeedPullList(reader_id, rules.pull_list_key(reader_id)),
                           actions=[FeedPullList.pull_authors.add({author_id})])
        try:
            transaction.commit()
        except TransactionFailed as exc:
            if exc.failed_on("follow"):
                return False
            raise
        return True

    return retry_on_conflict(attempt, what=f"the pull list of {reader_id}")


def pull_authors_of(reader_id: str) -> list[str]:
    try:
        item = FeedPullList.get(reader_id, rules.pull_list_key(reader_id))
    except FeedPullList.DoesNotExist:
        return []
    return sorted(item.pull_authors or ())


# -- fan-out ----------------------------------------------------------------------------------------
def start_fan_out(post: dict) -> None:
    """Posts INSERT: the author's own entry, then a job that carries the post to every follower.

    Push or pull follows `rules.post_plan`, with hysteresis: pull above the threshold, push again
    only below 0.9 x the threshold and only from a complete audience (else a rebuild job runs first
    and the post is merged at read time).
    """
    author_id = post["author_id"]
    _entry(author_id, post).save()  # the author's own feed: one PutItem, not part of the fan-out's batches
    reach = _reach(author_id)
    plan = rules.post_plan(reach, get_settings().fanout_pull_threshold)
    if plan == rules.LIST:
        _start_pull_list_job(post, reach.follower_count)  # the author has just crossed the threshold
    elif plan == rules.REBUILD:
        audience.start_rebuild(author_id)  # back under the return limit: push once the audience is whole
    elif plan == rules.RETURN:
        # back under the return limit with a kept audience: fanned out again; a later crossing must
        # list the followers again
        UserProfile(author_id).update(actions=[UserProfile.pull_mode.remove()])
    push = plan in (rules.PUSH, rules.RETURN)
    now = now_iso()
    job = FanoutJob(
        post["post_id"],
        post_id=post["post_id"],
        author_id=author_id,
        created_at=now,
        mode=PUSH if push else PULL,
        buckets_per_step=rules.buckets_per_step(reach.follower_count, FANOUT_PAGE_SIZE) if push else None,
        post_created_at=post["created_at"],
        has_poll=bool(post.get("poll")),
        written=0,
        steps=0,
        done=not push,
        finished_at=None if push else now,
        expires_at=None if push else epoch_seconds() + JOB_TTL_SECONDS,
    )
    if not save_if(job, FanoutJob.job_id.does_not_exist()):
        job = None  # a redelivery: the step below reads how far the job really got
    if push:
        # The first page now, saving a stream hop for the common small audience; the job's INSERT
        # record then finds step 0 done and moves on (or redoes it, if this invocation died).
        run_fan_out_step(post["post_id"], 0, job=job, post=post)


def pull_list_job_id(post_id: str) -> str:
    return f"{post_id}#{PULL_LIST}"


def _start_pull_list_job(post: dict, follower_count: int) -> None:
    """An author's first post above the threshold: a job puts them in every follower's pull list.

    Once per crossing (the job's last step sets the profile's `pull_mode`); the job id comes from
    the post, so a redelivered post record finds the job already there. Its steps run from the
    FanoutJobs stream, starting with this INSERT.
    """
    save_if(FanoutJob(pull_list_job_id(post["post_id"]), post_id=post["post_id"], author_id=post["author_id"],
                      created_at=now_iso(), mode=PULL_LIST, written=0, steps=0, done=False,
                      buckets_per_step=rules.buckets_per_step(follower_count, PULL_LIST_PAGE_SIZE)),
            FanoutJob.job_id.does_not_exist())


def run_fan_out_step(job_id: str, expected_step: int, job: FanoutJob | None = None, post: dict | None = None) -> bool:
    """Write one page of followers' entries and record it; False if the step was not (or no longer) due.

    `job` and `post` are passed only by the Posts-stream invocation that has just created the job.
    Every later step reads the job afresh, writes, and then checks that the post still exists: a
    post deleted meanwhile may have had its entries removed before this step wrote its own, so the
    step takes its own back out and ends the job as cancelled. (The first step needs no check: the
    post's REMOVE record follows its INSERT on the same shard, so it is handled after this.)
    """
    if job is None:
        try:
            job = FanoutJob.get(job_id, consistent_read=True)
        except FanoutJob.DoesNotExist:
            return False
    if job.done or int(job.steps) != expected_step:
        return False
    listing = job.mode == PULL_LIST
    handed_over = post is not None
    if post is None and not listing:
        if job.post_created_at:
            post = {"post_id": job.post_id, "author_id": job.author_id, "created_at": job.post_created_at,
                    "poll": bool(job.has_poll)}
        else:  # a job recorded before jobs carried the post's fields
            try:
                post = _post_dict(Post.get(job.post_id, consistent_read=True))
            except Post.DoesNotExist:
                return _finish(job, expected_step, cancelled=True)
    position = json.loads(job.cursor) if job.cursor else None
    # a job recorded before audience buckets kept a follower-query key: it starts over (the same
    # items are written again; only `written` may count some followers twice)
    first = position.get("bucket", 0) if position else 0
    span = int(job.buckets_per_step or rules.AUDIENCE_BUCKETS)
    follower_ids, following = audience.read(job.author_id, first, min(first + span, rules.AUDIENCE_BUCKETS) - 1)
    last_key = {"bucket": following} if following < rules.AUDIENCE_BUCKETS else None
    readers = rules.fanout_readers(follower_ids, job.author_id, blockers_of(job.author_id) if follower_ids else set())
    if listing:
        reached = sum(1 for reader_id in readers if _list_for_follower(reader_id, job.author_id))
    else:
        _insert_entries(post, readers)
        reached = len(readers)
        if not handed_over and not _post_exists(job.post_id):
            write_batches(FeedEntry, deletes=[FeedEntry(reader_id, job.post_id) for reader_id in readers])
            return _finish(job, expected_step, cancelled=True)
    done = last_key is None
    actions = [
        FanoutJob.written.add(reached),
        FanoutJob.steps.add(1),
        FanoutJob.done.set(done),
        FanoutJob.cursor.set(json.dumps(last_key, sort_keys=True)) if last_key else FanoutJob.cursor.remove(),
    ]
    if done:
        actions += [FanoutJob.finished_at.set(now_iso()),
                    FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)]
    if not update_if(job, actions, (FanoutJob.steps == expected_step) & (FanoutJob.done == False)):  # noqa: E712
        return False  # another delivery recorded this step first; it wrote the same entries
    if done and listing:
        UserProfile(job.author_id).update(actions=[UserProfile.pull_mode.set(True)])
    return True


def _post_exists(post_id: str) -> bool:
    """One consistent GetItem that reads back only the key."""
    data = Post._get_connection().get_item(post_id, consistent_read=True, attributes_to_get=["post_id"])
    return bool(data.get("Item"))


def _finish(job: FanoutJob, expected_step: int, *, cancelled: bool) -> bool:
    return update_if(
        job,
        actions=[FanoutJob.done.set(True), FanoutJob.cancelled.set(cancelled), FanoutJob.cursor.remove(),
                 FanoutJob.finished_at.set(now_iso()),
                 FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)],
        condition=(FanoutJob.steps == expected_step) & (FanoutJob.done == False),  # noqa: E712
    )


def resume_fan_out(job_id: str) -> bool:
    """For an operator: touch a stalled job (its record was set aside) so its stream carries it on."""
    return update_if(FanoutJob(job_id), actions=[FanoutJob.resumed_at.set(now_iso())],
                     condition=FanoutJob.job_id.exists() & (FanoutJob.done == False))  # noqa: E712


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
    """Unfollow or block: every entry of `author_id` leaves `reader_id`'s feed, and their pull list."""
    entries = list(FeedEntry.by_reader_author.query(rules.reader_author(reader_id, author_id)))
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, entry.post_id) for entry in entries])
    remove_pull_author(reader_id, author_id)
    return len(entries)


def follow_started(follower_id: str, followee_id: str) -> int:
    """Follows INSERT: the follower joins the followee's audience, and their newest posts its feed.

    Skipped when the follow is already gone again (a late redelivery or a replay: the unfollow's
    REMOVE has taken, or will take, the follower out). An account whose posts may not be fanned
    out to this follower (`rules.served_by_pull`: pull mode, above the threshold, or an audience
    not kept) joins the follower's pull list instead, and every feed page merges its posts.
    """
    follow, profile = batch_get([(Follow, follower_id, followee_id), (UserProfile, followee_id, None)])
    if follow is None:
        return 0
    threshold = get_settings().fanout_pull_threshold
    reach = audience.reach_of(profile)
    audience.on_follow(followee_id, follower_id, reach, threshold)
    if rules.served_by_pull(reach, threshold):
        add_pull_author(follower_id, followee_id)
        return 0
    if follower_id in blockers_of(followee_id):
        return 0
    posts = list(Post.by_author.query(followee_id, scan_index_forward=False, limit=rules.BACKFILL_POSTS))
    write_batches(FeedEntry, puts=[_entry(follower_id, _post_dict(post)) for post in posts])
    return len(posts)


# -- reading ----------------------------------------------------------------------------------------
def _feed_query(reader_id: str, before: str | None, limit: int) -> tuple[list[FeedEntry], list[str] | None]:
    """ONE newest-first Query of the reader's feed partition: (entries, pull list or None).

    Without `before` (a first page) the pull list item, which sorts above every post id, comes
    first and takes one of the `limit` items; with `before` the key condition leaves it out.
    """
    from pynamodb.constants import ITEMS

    condition = FeedEntry.post_id < before if before else None
    data = FeedEntry._get_connection().query(
        reader_id, range_key_condition=condition, scan_index_forward=False, limit=limit,
    )
    entries, pull = [], None
    for raw in data.get(ITEMS) or []:
        if rules.is_pull_list_key(raw["post_id"]["S"]):
            pull = sorted(FeedPullList.from_raw_data(raw).pull_authors or ())
        else:
            entries.append(FeedEntry.from_raw_data(raw))
    return entries, pull


def read_feed(reader_id: str, page: PageRequest) -> Page:
    """One Query on the reader's feed (its first page also brings the pull list), one on each
    followed large account, then ONE batched read (posts of the page's entries, their authors'
    names, the reader's votes on polls)."""
    from chalicelib.services.posts import post_view

    window = get_settings().feed_max_entries
    try:
        position = rules.FeedPosition.from_cursor(page.position, reader_id)
    except ValueError:
        raise BadRequest("cursor: not a cursor this service issued for your feed") from None
    first = position is None
    if first:
        position = rules.FeedPosition(reader=reader_id, before=None, served=0, pull=())
    size = rules.page_size(page.limit, position.served, window)
    if size == 0:
        return Page(items=[], next_cursor=None)
    before = position.before

    # limit + 1 entries tell whether more follow; a first page reads one more for the pull list
    found_entries, pull = _feed_query(reader_id, before, size + 2 if first else size + 1)
    if first:
        position = rules.FeedPosition(reader=reader_id, before=None, served=0, pull=tuple(pull or ()))
    entries = {entry.post_id: entry for entry in found_entries[:size + 1]}
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
    now, now_epoch = now_iso(), epoch_seconds()
    items = []
    for post_id in merged.post_ids:
        post = pulled.get(post_id) or fetched.get(post_id)
        if post is None:  # deleted; the Posts stream is removing its entries
            continue
        if post_id in entries and rules.is_expired(entries[post_id].expires_at, now_epoch):
            continue  # past its TTL; DynamoDB deletes it later
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
