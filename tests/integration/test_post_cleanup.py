"""A deleted post's likes, comments and counts go, by a resumable job, exactly, under chaos too."""

from __future__ import annotations

import pytest

from chalicelib.models.social import Comment, Like, PostCounts
from chalicelib.services import jobs, post_cleanup
from chalicelib.services.social import like_key
from tests.support.api import call
from tests.support.posts import publish, with_profiles


def likes_of(post_id: str, user_ids) -> list:
    return [like for user_id in user_ids for like in Like.query(like_key(post_id, user_id)) if like.user_id == user_id]


@pytest.mark.parametrize("step_items", [post_cleanup.STEP_ITEMS, 3])
def test_deleting_a_post_removes_its_likes_comments_and_counts(client, users, chaos_streams, monkeypatch,
                                                               step_items):
    # Given a post with likes and comments, counted, and another post that keeps its own
    monkeypatch.setattr(post_cleanup, "STEP_ITEMS", step_items)
    alice = users("alice")
    fans = [users(f"fan{n}") for n in range(7)]
    with_profiles(client, alice, *fans)
    doomed, kept = publish(client, alice, "doomed"), publish(client, alice, "kept")
    for fan in fans:
        assert call(client, "PUT", f"/posts/{doomed}/like", fan).status_code == 200
        assert call(client, "POST", f"/posts/{doomed}/comments", fan, {"text": "nice"}).status_code == 201
    assert call(client, "PUT", f"/posts/{kept}/like", fans[0]).status_code == 200
    chaos_streams.drain()
    assert PostCounts.get(doomed).like_count == 7
    # When the author deletes it
    assert call(client, "DELETE", f"/posts/{doomed}", alice).status_code == 204
    chaos_streams.drain()
    # Then its likes and comments are gone, its counts are a tombstone the late records did not move
    assert likes_of(doomed, [fan.user_id for fan in fans]) == []
    assert list(Comment.query(doomed)) == []
    tombstone = PostCounts.get(doomed)
    assert tombstone.deleted_at and tombstone.expires_at
    assert (tombstone.like_count, tombstone.comment_count) == (None, None)
    job = jobs.status(post_cleanup.cleanup_job_id(doomed))
    assert job.done and int(job.processed) == 14
    if step_items == 3:
        assert int(job.steps) >= 5  # resumable: the work went in small steps
    # And the other post keeps its like
    assert len(likes_of(kept, [fans[0].user_id])) == 1
    chaos_streams.drain()
    assert PostCounts.get(kept).like_count == 1


def test_a_late_like_count_does_not_revive_a_deleted_posts_counts(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice)
    assert call(client, "DELETE", f"/posts/{post_id}", alice).status_code == 204
    streams.drain()
    # a like that raced the delete (written straight, as the route no longer takes one)
    Like(like_key(post_id, bob.user_id), bob.user_id, post_id=post_id, created_at="2026-11-30T00:00:00Z").save()
    streams.drain()
    assert PostCounts.get(post_id).like_count is None
