"""A deleted post's likes, comments and counts go: a resumable job (`services.jobs`) started from the
Posts stream, deleting in BatchWriteItem chunks of 25, `STEP_ITEMS` a step.

The post's counts item is overwritten first with a tombstone (`deleted_at`, TTL), so the REMOVE
records of its likes and comments, and a like that raced the delete, move no count and cannot
re-create it (`social.CountItem` refuses a tombstone). Every step deletes what a consistent Query
finds from the start of its partition, so a redone step (a crash, a replay) deletes nothing twice
and skips nothing. A viral post's 1,000,000 likes are 4,000 steps of 10 calls each, never one
stream invocation.
"""

from __future__ import annotations

from chalicelib.domain import polls
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.models.batches import write_batches
from chalicelib.models.jobs import Job
from chalicelib.models.social import Comment, Like, PostCounts
from chalicelib.services import jobs

CLEANUP_JOB = "post-cleanup"
LIKES, COMMENTS = "likes", "comments"  # the job's phases
STEP_ITEMS = 250  # items deleted a step: 10 BatchWriteItem calls of 25
TOMBSTONE_SECONDS = 2 * 24 * 3600  # past the streams' 24-hour retention


def cleanup_job_id(post_id: str) -> str:
    return f"{CLEANUP_JOB}#{post_id}"


def clean_up_deleted_post(change: Change) -> None:
    """Posts stream: a deleted post's counts become a tombstone and its cleanup job starts (both
    idempotent: a replay writes the same tombstone and finds the job running, or done with nothing left)."""
    if change.kind != "REMOVE":
        return
    post_id = str(change.keys.get("post_id") or change.item.get("post_id") or "")
    if not post_id:
        return
    PostCounts(post_id, deleted_at=now_iso(), expires_at=epoch_seconds() + TOMBSTONE_SECONDS).save()
    jobs.start(cleanup_job_id(post_id), CLEANUP_JOB, post_id, phase=LIKES)


def run_cleanup_step(job: Job) -> jobs.StepResult:
    """One step: up to `STEP_ITEMS` likes (shard by shard, from the cursor's shard on), then comments."""
    post_id = job.subject
    budget = STEP_ITEMS
    deleted = 0
    if job.phase == LIKES:
        shard = int((jobs.cursor_of(job) or {}).get("shard", 0))
        while shard < polls.VOTE_SHARDS:
            results = Like.query(f"{post_id}#{shard}", consistent_read=True, limit=budget,
                                 attributes_to_get=["like_key", "user_id"])
            found = [Like(like.like_key, like.user_id) for like in results]
            write_batches(Like, deletes=found)
            deleted += len(found)
            budget -= len(found)
            if results.last_evaluated_key is not None:
                return jobs.StepResult(deleted, LIKES, {"shard": shard})  # more in this shard
            shard += 1
            if budget <= 0:
                return jobs.StepResult(deleted, LIKES, {"shard": shard})
    comments = Comment.query(post_id, consistent_read=True, limit=max(budget, 1),
                             attributes_to_get=["post_id", "comment_id"])
    found_comments = [Comment(comment.post_id, comment.comment_id) for comment in comments]
    write_batches(Comment, deletes=found_comments)
    deleted += len(found_comments)
    if comments.last_evaluated_key is not None:
        return jobs.StepResult(deleted, COMMENTS)
    return jobs.StepResult(deleted, done=True)
