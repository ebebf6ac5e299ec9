"""Fan-out on write: a post's jobs that carry it into its author's followers' feeds.

A post's INSERT on the Posts stream writes the author's own entry and a `FanoutJob` (id = post id),
and runs the job's first step. A step reads a range of the author's audience buckets
(`services.audience`: about `FANOUT_PAGE_SIZE` followers, ONE Query), writes their FeedEntry items
in BatchWriteItem chunks of 25, then moves the job's cursor and progress on, conditional on the
step number it started from. That MODIFY, on the FanoutJobs stream, drives the next step, and the
last step marks the job done with `finished_at`. A crash leaves the job at the last recorded step:
redelivery (or `resume_fan_out`) redoes that one step, and since an entry's key is (reader, post) a
redone step rewrites the same items.

Authors with more followers than `FANOUT_PULL_THRESHOLD` are not fanned out: readers merge their
posts at read time (`services.feed`). When an author crosses the threshold, a one-time job over
their audience (`FanoutJob` mode "pull-list", one transaction per follower that also checks the
follow still stands) puts them in every follower's pull list and ends by marking the author's
profile `pull_mode`.

A deleted post leaves every feed by a job too (`FanoutJob` mode "remove", id "<post>#remove"): Feeds
has no index by post, so its steps walk the author's followers (the Follows table's followers
index, `REMOVAL_PAGE_SIZE` a step) and delete (follower, post) in BatchWriteItem chunks. Every
feed holding the post belongs to a follower: fan-out and backfill write only to followers, and an
unfollow or block takes the author's entries out. Only a pushed post needs the walk: the post's
own fan-out job (kept as long as its entries can live) says whether it was pulled, and a post
older than the entries' TTL has no live entry left.
"""

from __future__ import annotations

import json

from chalicelib.config import get_settings
from chalicelib.domain import feed as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.models.base import batch_get, get_or_none, save_if, update_if
from chalicelib.models.batches import write_batches
from chalicelib.models.posts import FanoutJob, FeedEntry, Post
from chalicelib.models.users import UserProfile
from chalicelib.services import audience
from chalicelib.services.feed import _list_for_follower, blockers_of, entry_for

FANOUT_PAGE_SIZE = 1000  # followers per fan-out step (about): 40 BatchWriteItem calls
# followers per step of a threshold crossing (about): one transaction each, so ~45 calls a step like a
# push step's ~46 (`chalicelib.streams.settings` sizes the handler's batches for that)
PULL_LIST_PAGE_SIZE = 40
REMOVAL_PAGE_SIZE = 1000  # followers per step of a deleted post's removal: 40 BatchWriteItem calls
PUSH, PULL, PULL_LIST, REMOVE = "push", "pull", "pull-list", "remove"  # FanoutJob modes
ACTIVITY = "activity"  # FanoutJob.item_kind and FeedEntry.kind of a shared activity
# A finished job stays as long as its post's entries can live: a deletion reads whether it was pulled
JOB_TTL_SECONDS = rules.FEED_ENTRY_TTL_SECONDS + 24 * 3600


def _reach(user_id: str) -> rules.Reach:
    """Followers, pull mode and the audience's state of an author: one read of their profile."""
    profile: UserProfile | None = batch_get([(UserProfile, user_id, None)])[0]  # type: ignore[assignment]
    return audience.reach_of(profile)


def _insert_entries(post: dict, reader_ids: list[str]) -> int:
    """One post's entries for many readers; the hot loop of a fan-out, so no model per reader."""
    items = FeedEntry.raw_items(
        reader_ids, post_id=post["post_id"], author_id=post["author_id"], has_poll=bool(post.get("poll")),
        expires_at=rules.post_entries_expire_at(post["post_id"]), kind=post.get("kind"),
    )
    return write_batches(FeedEntry, items=items)


# -- jobs -------------------------------------------------------------------------------------------
def start_fan_out(post: dict) -> None:
    """Posts INSERT: the author's own entry, then a job that carries the post to every follower.

    Push or pull follows `rules.post_plan`, with hysteresis: pull above the threshold, push again
    only below 0.9 x the threshold and only from a complete audience (else a rebuild job runs first
    and the post is merged at read time).
    """
    entry_for(post["author_id"], post).save()  # the author's own feed: one PutItem, not part of the fan-out's batches
    _start_job(post)


def start_activity_fan_out(activity_id: str, user_id: str, created_at: str) -> None:
    """A new shared activity goes to the user's followers exactly as a post does (push or pull, the
    same jobs, the same blocks and window); it is not put in the user's own feed. Its job's INSERT
    on the FanoutJobs stream runs the first step (no step runs inline: the Activities handler stays small)."""
    _start_job({"post_id": activity_id, "author_id": user_id, "created_at": created_at, "kind": ACTIVITY},
               run_first_step=False)


def _start_job(post: dict, *, run_first_step: bool = True) -> None:
    author_id = post["author_id"]
    reach = _reach(author_id)
    count = reach.follower_count
    plan = rules.post_plan(reach, get_settings().fanout_pull_threshold)
    if plan == rules.LIST:
        _start_pull_list_job(post, count)  # the author has just crossed the threshold
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
        buckets_per_step=rules.buckets_per_step(count, FANOUT_PAGE_SIZE) if push else None,
        post_created_at=post["created_at"],
        has_poll=bool(post.get("poll")),
        item_kind=post.get("kind"),
        written=0,
        steps=0,
        done=not push,
        finished_at=None if push else now,
        expires_at=None if push else epoch_seconds() + JOB_TTL_SECONDS,
    )
    created = save_if(job, FanoutJob.job_id.does_not_exist())  # if not, a redelivery: the step reads the job
    if push and run_first_step:
        # The first page now, saving a stream hop for the common small audience; the job's INSERT
        # record then finds step 0 done and moves on (or redoes it, if this invocation died).
        run_fan_out_step(post["post_id"], 0, job=job if created else None, post=post)


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
        job = get_or_none(FanoutJob, job_id, consistent_read=True)
        if job is None:
            return False
    if job.done or int(job.steps) != expected_step:
        return False
    if job.mode == REMOVE:
        return _run_removal_step(job, expected_step)
    listing = job.mode == PULL_LIST
    handed_over = post is not None
    if post is None and not listing:
        post = {"post_id": job.post_id, "author_id": job.author_id, "created_at": job.post_created_at,
                "poll": bool(job.has_poll), "kind": job.item_kind}
    first_bucket = json.loads(job.cursor)["bucket"] if job.cursor else 0
    span = int(job.buckets_per_step)  # set on every job that runs steps (push and pull-list)
    follower_ids, next_bucket = audience.read(
        job.author_id, first_bucket, min(first_bucket + span, rules.AUDIENCE_BUCKETS) - 1)
    readers = rules.fanout_readers(follower_ids, job.author_id, blockers_of(job.author_id) if follower_ids else set())
    if listing:
        reached = sum(1 for reader_id in readers if _list_for_follower(reader_id, job.author_id))
    else:
        assert post is not None  # a push job carries its post
        _insert_entries(post, readers)
        reached = len(readers)
        if not handed_over and not _still_shown(job):
            write_batches(FeedEntry, deletes=[FeedEntry(reader_id, job.post_id) for reader_id in readers])
            return _finish(job, expected_step, cancelled=True)
    done = next_bucket >= rules.AUDIENCE_BUCKETS
    actions = [
        FanoutJob.written.add(reached),
        FanoutJob.steps.add(1),
        FanoutJob.done.set(done),
        FanoutJob.cursor.remove() if done else FanoutJob.cursor.set(json.dumps({"bucket": next_bucket})),
    ]
    if done:
        actions += [FanoutJob.finished_at.set(now_iso()),
                    FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)]
    if not update_if(job, actions, (FanoutJob.steps == expected_step) & (FanoutJob.done == False)):  # noqa: E712
        return False  # another delivery recorded this step first; it wrote the same entries
    if done and listing:
        UserProfile(job.author_id).update(actions=[UserProfile.pull_mode.set(True)])
    return True


def _still_shown(job: FanoutJob) -> bool:
    """Is the job's item still to be shown: the post not deleted, the activity not withdrawn?"""
    if job.item_kind == ACTIVITY:
        from chalicelib.services.activity import is_shared

        return is_shared(job.author_id, job.post_id)
    return _post_exists(job.post_id)


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


# -- a deleted post's removal -----------------------------------------------------------------------
def removal_job_id(post_id: str) -> str:
    return f"{post_id}#{REMOVE}"


def needs_removal_walk(post: dict, fan_out: FanoutJob | None, now_epoch: int) -> bool:
    """Can followers' feeds hold this deleted post? Not a circle post (never in home feeds), not a
    post served by pull (its fan-out job says so), not a post whose entries are all past their TTL."""
    if not post.get("home_author_id") or post.get("group_id"):
        return False
    if rules.is_expired(rules.post_entries_expire_at(post["post_id"]), now_epoch):
        return False
    return fan_out is None or fan_out.mode != PULL


def remove_post_everywhere(post: dict) -> None:
    """The post leaves the author's feed now and every follower's through a removal job, whose first
    step runs here (a small audience needs no stream hop)."""
    post_id, author_id = post["post_id"], post["author_id"]
    FeedEntry(author_id, post_id).delete()
    if not needs_removal_walk(post, fan_out_status(post_id), epoch_seconds()):
        return
    job = FanoutJob(removal_job_id(post_id), post_id=post_id, author_id=author_id, created_at=now_iso(),
                    mode=REMOVE, written=0, steps=0, done=False)
    created = save_if(job, FanoutJob.job_id.does_not_exist())  # if not, a redelivery: the step reads the job
    run_fan_out_step(job.job_id, 0, job=job if created else None)


def withdraw_activity_everywhere(activity_id: str, user_id: str) -> None:
    """A withdrawn activity leaves every follower's feed: a removal job over the user's followers (the
    same as a deleted post's), unless it was served by pull or its entries are past their TTL. Its
    first step runs from the job's INSERT on the FanoutJobs stream."""
    if rules.is_expired(rules.post_entries_expire_at(activity_id), epoch_seconds()):
        return
    fan_out = fan_out_status(activity_id)
    if fan_out is not None and fan_out.mode == PULL:
        return
    save_if(FanoutJob(removal_job_id(activity_id), post_id=activity_id, author_id=user_id, created_at=now_iso(),
                      mode=REMOVE, item_kind=ACTIVITY, written=0, steps=0, done=False),
            FanoutJob.job_id.does_not_exist())


def _run_removal_step(job: FanoutJob, expected_step: int) -> bool:
    """One page of the author's followers: their entries of the post deleted, the job moved on."""
    from chalicelib.models.graph import follower_ids_page

    after = json.loads(job.cursor)["after"] if job.cursor else None
    readers, following = follower_ids_page(job.author_id, REMOVAL_PAGE_SIZE, after)
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, job.post_id) for reader_id in readers])
    done = following is None
    actions = [
        FanoutJob.written.add(len(readers)),
        FanoutJob.steps.add(1),
        FanoutJob.done.set(done),
        FanoutJob.cursor.remove() if done else FanoutJob.cursor.set(json.dumps({"after": following})),
    ]
    if done:
        actions += [FanoutJob.finished_at.set(now_iso()),
                    FanoutJob.expires_at.set(epoch_seconds() + JOB_TTL_SECONDS)]
    return update_if(job, actions, (FanoutJob.steps == expected_step) & (FanoutJob.done == False))  # noqa: E712


def resume_fan_out(job_id: str) -> bool:
    """For an operator: touch a stalled job (its record was set aside) so its stream carries it on."""
    return update_if(FanoutJob(job_id), actions=[FanoutJob.resumed_at.set(now_iso())],
                     condition=FanoutJob.job_id.exists() & (FanoutJob.done == False))  # noqa: E712


def fan_out_status(job_id: str) -> FanoutJob | None:
    return get_or_none(FanoutJob, job_id, consistent_read=True)


# -- stream effects ---------------------------------------------------------------------------------
def remove_deleted_post(change: Change) -> None:
    """Posts stream effect: a deleted post leaves every feed."""
    if change.kind == "REMOVE":
        remove_post_everywhere(change.item)


def post_to_fan_out(change: Change) -> dict | None:
    """A new home post is fanned out; circle posts stay out of home feeds, and a vote's MODIFY moves nothing."""
    item = change.item
    if change.kind == "INSERT" and item.get("home_author_id") and not item.get("group_id"):
        return item
    return None


def fan_out_post(change: Change) -> None:
    """Posts stream effect: start the fan-out of a new home post."""
    post = post_to_fan_out(change)
    if post is not None:
        start_fan_out(post)


def step_due(change: Change) -> tuple[str, int] | None:
    """(job id, step) a FanoutJobs change asks for: every recorded step, or an operator's resume,
    runs the next one; a finished or removed job asks for nothing."""
    job = change.new
    if change.kind == "REMOVE" or not job or job.get("done"):
        return None
    return job["job_id"], int(job.get("steps") or 0)


def continue_fan_out_job(change: Change) -> None:
    """FanoutJobs stream effect: run the step the job is at."""
    due = step_due(change)
    if due is not None:
        run_fan_out_step(*due)
