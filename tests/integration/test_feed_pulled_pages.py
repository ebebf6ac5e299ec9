"""Pull-mode feed pages from per-author recent-post items, and the removals that replaced Feeds' indexes."""

from __future__ import annotations

from bench import harness  # noqa: F401  (installs the DynamoDB call counter before any client exists)
from bench.harness import recording
from chalicelib.domain import feed as rules
from chalicelib.domain.ids import iso, new_id, utc_now
from chalicelib.models.posts import FanoutJob, Post, RecentPosts
from chalicelib.services import feed, recent_posts
from tests.support.api import call
from tests.support.posts import (
    feed_of,
    follow,
    given_followers,
    holders_of,
    publish,
    read_all,
    stored_feed,
    with_profiles,
)


def _home_posts(author_id: str, count: int, *, start_ms: int) -> list[str]:
    """`count` home posts of `author_id`, written as the posts route writes them (the stream does the rest)."""
    ids = []
    for n in range(count):
        post_id = new_id(at_ms=start_ms + n * 1000)
        Post(post_id, author_id=author_id, home_author_id=author_id, text=f"post {n}",
             created_at=iso(utc_now())).save()
        ids.append(post_id)
    return ids


def _large_accounts_followed(reader_id: str, authors: int, posts_each: int, start_ms: int) -> list[str]:
    """A reader whose pull list names `authors` large accounts with `posts_each` posts each; their post ids."""
    posts = []
    for index in range(authors):
        author_id = f"large-{index:03d}"
        posts += _home_posts(author_id, posts_each, start_ms=start_ms + index * 10)
        feed.add_pull_author(reader_id, author_id)
    return posts


def test_a_reader_following_200_large_accounts_pages_exactly_with_a_small_cursor(client, users, streams):
    # Given a reader with 200 large accounts in their pull list (API Gateway refused the cursor
    # that carried the list from about 190), each with a post, and 5 pushed posts of a small author
    reader, small = users("reader"), users("small")
    with_profiles(client, reader, small)
    follow(client, reader, small)
    streams.drain()
    start = 1_900_000_000_000
    pulled = _large_accounts_followed(reader.user_id, 200, 1, start)
    pushed = [publish(client, small, f"small {i}") for i in range(5)]
    streams.drain()
    # When the reader pages through 40 at a time
    cursors = []
    ids: list[str] = []
    cursor = None
    while True:
        url = "/feed?limit=40" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, "GET", url, reader)
        assert page.status_code == 200, page.data
        ids += [item["post_id"] for item in page.data["items"]]
        cursor = page.data["next_cursor"]
        if not cursor:
            break
        cursors.append(cursor)
    # Then every post appears once, newest first, and no cursor grows with the list
    assert ids == sorted(pulled + pushed, reverse=True)
    assert len(ids) == len(set(ids)) == 205
    assert max(len(c) for c in cursors) < 300


def test_a_pulled_page_is_three_calls_and_a_later_one_four_in_three_round_trips(client, users, streams):
    # Given a reader following a small author and 30 large accounts (the example)
    reader, small = users("reader"), users("small")
    with_profiles(client, reader, small)
    follow(client, reader, small)
    streams.drain()
    _large_accounts_followed(reader.user_id, 30, 2, 1_900_000_000_000)
    for n in range(3):
        publish(client, small, f"small {n}")
    streams.drain()
    # When the first page is read: one Query (entries and the pull list), one BatchGetItem of the
    # 30 recent-post items, one BatchGetItem of the page's posts, profiles and votes
    with recording() as log:
        first = call(client, "GET", "/feed?limit=20", reader)
    assert first.status_code == 200 and len(first.data["items"]) == 20
    assert log.by_operation() == {"Query": 1, "BatchGetItem": 2}
    # And a later page also reads the pull list (a GetItem beside its Query, at once)
    with recording() as log:
        second = call(client, "GET", f"/feed?limit=20&cursor={first.data['next_cursor']}", reader)
    assert second.status_code == 200 and len(second.data["items"]) == 20
    assert log.by_operation() == {"Query": 1, "GetItem": 1, "BatchGetItem": 2}


def test_pages_deeper_than_the_recent_items_query_the_author_and_stay_exact(client, users, streams, monkeypatch):
    # Given recent-post items kept to 3 posts (trimmed past 5) and a large account with 12 posts
    monkeypatch.setattr(rules, "RECENT_POSTS_KEPT", 3)
    monkeypatch.setattr(rules, "RECENT_POSTS_TRIM_AT", 5)
    reader = users("reader")
    with_profiles(client, reader)
    posts = _large_accounts_followed(reader.user_id, 1, 12, 1_900_000_000_000)
    streams.drain()
    item = RecentPosts.get("large-000")
    assert len(item.post_ids) <= 5 and item.floor is not None
    # When the reader pages through 2 at a time, Then every post appears once, in order
    ids, _ = read_all(client, reader, limit=2)
    assert ids == sorted(posts, reverse=True)


def test_a_deleted_post_leaves_its_authors_recent_posts(client, users, streams):
    author = users("author")
    with_profiles(client, author)
    kept, doomed = publish(client, author, "kept"), publish(client, author, "doomed")
    streams.drain()
    assert RecentPosts.get(author.user_id).post_ids == {kept, doomed}
    assert call(client, "DELETE", f"/posts/{doomed}", author).status_code == 204
    streams.drain()
    assert RecentPosts.get(author.user_id).post_ids == {kept}


def test_recent_posts_upkeep_is_idempotent_under_chaotic_delivery(client, users, chaos_streams):
    author = users("author")
    with_profiles(client, author)
    posts = [publish(client, author, f"p{n}") for n in range(4)]
    chaos_streams.drain()
    call(client, "DELETE", f"/posts/{posts[1]}", author)
    chaos_streams.drain()
    ids, floor = RecentPosts.get(author.user_id).post_ids, RecentPosts.get(author.user_id).floor
    assert rules.recent_below(ids, floor, None, 10) == sorted({*posts} - {posts[1]}, reverse=True)


def test_recent_items_of_over_100_authors_are_read_in_batches_at_once(client, users, streams):
    _large_accounts_followed("nobody", 130, 1, 1_900_000_000_000)
    streams.drain()
    with recording() as log:
        items = recent_posts.read_items([f"large-{i:03d}" for i in range(130)])
    assert all(item is not None for item in items.values()) and len(items) == 130
    assert log.by_operation() == {"BatchGetItem": 2}


# -- removals without Feeds' indexes ------------------------------------------------------------------
def test_a_deleted_post_leaves_the_feeds_of_every_follower_through_a_multi_step_job(client, users, streams,
                                                                                    monkeypatch):
    from chalicelib.services import fanout

    # Given removal steps of 10 followers and an author with 35 followers holding the post
    monkeypatch.setattr(fanout, "REMOVAL_PAGE_SIZE", 10)
    author = users("author")
    with_profiles(client, author)
    follower_ids = given_followers(author.user_id, 35)
    kept, doomed = publish(client, author, "kept"), publish(client, author, "doomed")
    streams.drain()
    everyone = {*follower_ids, author.user_id}
    assert holders_of(doomed, everyone) == everyone
    # When it is deleted
    assert call(client, "DELETE", f"/posts/{doomed}", author).status_code == 204
    streams.drain()
    # Then no feed holds it, the other post is untouched, and the job walked every follower
    assert holders_of(doomed, everyone) == set()
    assert holders_of(kept, everyone) == everyone
    job = FanoutJob.get(fanout.removal_job_id(doomed))
    assert job.done and int(job.written) == 35 and int(job.steps) == 4


def test_a_pulled_or_expired_post_needs_no_walk_of_the_followers():
    from chalicelib.services import fanout

    now = 1_900_000_000
    fresh = {"post_id": new_id(at_ms=now * 1000), "author_id": "a", "home_author_id": "a"}
    old = {**fresh, "post_id": new_id(at_ms=(now - rules.FEED_ENTRY_TTL_SECONDS - 1) * 1000)}
    pulled, pushed = FanoutJob("x", mode=fanout.PULL), FanoutJob("x", mode=fanout.PUSH)
    assert fanout.needs_removal_walk(fresh, pushed, now)
    assert fanout.needs_removal_walk(fresh, None, now)  # job gone: walk to be sure
    assert not fanout.needs_removal_walk(fresh, pulled, now)
    assert not fanout.needs_removal_walk(old, None, now)  # every entry is past its TTL
    assert not fanout.needs_removal_walk({**fresh, "home_author_id": None, "group_id": "g"}, None, now)


def test_an_unfollow_removes_only_that_authors_entries_and_keeps_the_pull_list_item(client, users, streams):
    # Given a reader with entries of two authors and a large account in the pull list
    reader, kept_author, dropped_author = users("reader"), users("kept"), users("dropped")
    with_profiles(client, reader, kept_author, dropped_author)
    follow(client, reader, kept_author)
    follow(client, reader, dropped_author)
    streams.drain()
    feed.add_pull_author(reader.user_id, "large-000")
    keep = [publish(client, kept_author, f"k{n}") for n in range(3)]
    for n in range(3):
        publish(client, dropped_author, f"d{n}")
    streams.drain()
    # When the reader unfollows one
    assert call(client, "DELETE", f"/users/{dropped_author.user_id}/follow", reader).status_code in (200, 204)
    streams.drain()
    # Then only that author's entries left, and the pull list still names the large account
    assert stored_feed(reader.user_id) == sorted(keep, reverse=True)
    assert feed.pull_authors_of(reader.user_id) == ["large-000"]
    assert feed_of(client, reader) == sorted(keep, reverse=True)


def test_unfollow_removal_is_one_query_of_the_readers_partition_and_one_batch_of_deletes(client, users, streams):
    reader, author = users("reader"), users("author")
    with_profiles(client, reader, author)
    follow(client, reader, author)
    streams.drain()
    for n in range(5):
        publish(client, author, f"p{n}")
    streams.drain()
    with recording() as log:
        assert feed.remove_author_from_feed(reader.user_id, author.user_id) == 5
    assert log.by_operation() == {"Query": 1, "BatchWriteItem": 1, "UpdateItem": 1}  # the last: the pull list
    assert stored_feed(reader.user_id) == []
