"""Helpers for post and feed scenarios through the routes."""

from __future__ import annotations

from tests.support.api import call


def with_profiles(client, *users) -> None:
    """The `users` factory creates Cognito users only; a profile is what others can follow."""
    for user in users:
        assert call(client, "GET", "/me", user).status_code == 200


def follow(client, follower, followee) -> None:
    response = call(client, "PUT", f"/users/{followee.user_id}/follow", follower)
    assert response.status_code == 200, response.data


def publish(client, author, text: str = "hello", **fields) -> str:
    response = call(client, "POST", "/posts", author, {"text": text, **fields})
    assert response.status_code == 201, response.data
    return response.data["post_id"]


def read_all(client, user, path: str = "/feed", limit: int = 100) -> tuple[list[str], int]:
    """Every page of a list, in order; returns (post ids, number of pages)."""
    ids: list[str] = []
    cursor, pages = None, 0
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = call(client, "GET", url, user)
        assert response.status_code == 200, response.data
        pages += 1
        ids += [item["post_id"] for item in response.data["items"]]
        cursor = response.data["next_cursor"]
        if not cursor:
            return ids, pages


def feed_of(client, user) -> list[str]:
    return read_all(client, user)[0]


def stored_feed(user_id: str) -> list[str]:
    """The reader's FeedEntry items as stored, newest first (what fan-out wrote, before any read filter).

    The reader's pull list, in the same partition above every post id, is not an entry.
    """
    from chalicelib.domain.feed import entries_upper_bound
    from chalicelib.models.posts import FeedEntry

    return [entry.post_id for entry in FeedEntry.query(
        user_id, FeedEntry.post_id < entries_upper_bound(), scan_index_forward=False)]


def holders_of(post_id: str, reader_ids) -> set[str]:
    """Which of `reader_ids` hold an entry of the post (Feeds has no index by post: one BatchGetItem)."""
    from chalicelib.models.base import batch_get
    from chalicelib.models.posts import FeedEntry

    reader_ids = list(reader_ids)
    found = batch_get([(FeedEntry, reader_id, post_id) for reader_id in reader_ids])
    return {reader_id for reader_id, entry in zip(reader_ids, found, strict=True) if entry is not None}


def given_followers(author_id: str, count: int) -> list[str]:
    """Follow items and the author's audience written directly in bulk, as the Follows stream would
    leave them (the graph's own stream effects are not under test)."""
    from chalicelib.domain.ids import now_iso
    from chalicelib.models.graph import Follow
    from chalicelib.models.users import UserProfile
    from chalicelib.services import audience

    follower_ids = [f"fan-{index:05d}" for index in range(count)]
    with Follow.batch_write() as batch:
        for follower_id in follower_ids:
            batch.save(Follow(follower_id, author_id, created_at=now_iso()))
    audience.rebuild(author_id, follower_ids)
    UserProfile(author_id).update(actions=[UserProfile.follower_count.set(count)])
    return follower_ids
