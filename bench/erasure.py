"""The cost of one account's erasure (DELETE /me), in DynamoDB calls, for a typical user.

A typical user here: 150 followers, follows 100, 20 posts (fanned out to the followers' feeds),
100 likes, 30 comments, 10 answer votes, 50 notifications, 30 ledger entries, 15 wish-list
entries. The bulk rows are written directly (as their streams would leave them); the posts go
through the route so the feeds hold them. Then DELETE /me and the streams are drained, counting:

- `job_calls`: the calls the erasure job's own steps make (`services.erasure.run_erase_step`);
- `dynamodb_calls`: everything, the request, the steps, and every stream effect the deletes drive
  (feeds, counts, audiences, tallies, the Jobs stream itself);
- `steps` and `rows`: the job's steps and the rows it handled.

    python -m bench.erasure        # prints the numbers (docs/scale.md "Export and erasure" quotes them)
"""

from __future__ import annotations

import json

from bench import harness  # noqa: F401  (the DynamoDB call counter, before any client exists)
from bench.harness import World, recording

TYPICAL = {"followers": 150, "following": 100, "posts": 20, "likes": 100, "comments": 30, "answer_votes": 10,
           "notifications": 50, "ledger": 30, "wishlist": 15}


def _given_rows(user_id: str, counts: dict) -> None:
    from chalicelib.domain.ids import new_id, now_iso
    from chalicelib.models.advice import AnswerVote, WishlistEntry
    from chalicelib.models.graph import Follow
    from chalicelib.models.notifications import Notification
    from chalicelib.models.points import LedgerEntry
    from chalicelib.models.social import Comment, Like
    from chalicelib.services.social import like_key
    from tests.support.posts import given_followers

    now = now_iso()
    given_followers(user_id, counts["followers"])
    with Follow.batch_write() as batch:
        for index in range(counts["following"]):
            batch.save(Follow(user_id, f"idol-{index:05d}", created_at=now))
    with Like.batch_write() as batch:
        for _ in range(counts["likes"]):
            post_id = new_id()  # a real post id: the likes index reads the time in it
            batch.save(Like(like_key(post_id, user_id), user_id, post_id=post_id, created_at=now))
    with Comment.batch_write() as batch:
        for index in range(counts["comments"]):
            batch.save(Comment(f"commented-{index:05d}", new_id(), author_id=user_id, post_author_id="someone",
                               text="nice", created_at=now))
    with AnswerVote.batch_write() as batch:
        for index in range(counts["answer_votes"]):
            batch.save(AnswerVote.of(f"answer-{index:05d}", user_id, value=1, author_id="someone",
                                     question_id="q", labels=["camera"], updated_at=now))
    with Notification.batch_write() as batch:
        for index in range(counts["notifications"]):
            batch.save(Notification(user_id, f"{index:013d}-n", type="new_follower", created_at=now))
    with LedgerEntry.batch_write() as batch:
        for index in range(counts["ledger"]):
            entry_id = f"entry-{index:05d}"
            batch.save(LedgerEntry(LedgerEntry.partition(user_id, entry_id), entry_id, amount=1, reason="bench",
                                   ref="bench", created_at=now))
    with WishlistEntry.batch_write() as batch:
        for index in range(counts["wishlist"]):
            batch.save(WishlistEntry(user_id, f"product-{index:05d}", title="Kettle", price_cents=100, added_at=now))


def measure(world: World, counts: dict | None = None) -> dict:
    from chalicelib.services import erasure
    from tests.support.api import call
    from tests.support.posts import publish, with_profiles

    counts = counts or TYPICAL
    user = world.users("leaving")
    with_profiles(world.client, user)
    _given_rows(user.user_id, counts)
    for index in range(counts["posts"]):
        publish(world.client, user, f"post {index}")
    world.streams.drain()

    job_log = []
    original = erasure.run_erase_step

    def counted(job):
        with recording() as log:
            result = original(job)
        job_log.append(log.calls)
        return result

    from chalicelib.services import job_steps

    job_steps.JOB_STEPS[erasure.ERASE_JOB] = counted
    try:
        with recording() as everything:
            response = call(world.client, "DELETE", "/me", user)
            assert response.status_code == 202, response.data
            world.streams.drain()
    finally:
        job_steps.JOB_STEPS[erasure.ERASE_JOB] = original
    from chalicelib.models.jobs import Job

    job = Job.get(erasure.job_id_of(user.user_id), consistent_read=True)
    assert job.done, (job.phase, job.steps)
    return {"rows": int(job.processed), "steps": int(job.steps), "job_calls": sum(job_log),
            "dynamodb_calls": everything.calls, "scans": everything.scans,
            "calls_by_operation": everything.by_operation(), "typical_user": counts}


def main() -> None:
    harness.prepare_environment()
    with harness.bench_world() as world:
        print(json.dumps(measure(world), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
