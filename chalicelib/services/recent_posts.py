"""Each author's newest home posts in one small item, for feeds that merge large accounts at read time.

A feed page used to run one Query of `Post.by_author` per followed large account (30 accounts: 30
sequential Queries). Now the Posts stream keeps a `RecentPosts` item per author (newest 40-50 post
ids, and which have a poll: ~1.5 KB), and a page reads every pulled author's item in ONE
BatchGetItem (up to 100 keys a call; more authors, more calls at once). Only a page deeper than
an item lists (`domain.feed.recent_below` answers None) Queries that author's posts.

Upkeep is set ADD / DELETE, idempotent and commutative between posts on different stream shards;
a trim (past 50 ids, back to the newest 40) raises `floor`, the newest id dropped, so a late
record of an older post cannot make the item claim more than it knows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pynamodb.expressions.update import Action

from chalicelib.domain import feed as rules
from chalicelib.domain.changes import Change
from chalicelib.models.base import batch_get, update_if
from chalicelib.models.posts import Post, RecentPosts

BATCH_GET_LIMIT = 100  # DynamoDB's BatchGetItem maximum


def home_post(change: Change) -> dict | None:
    """The post a Posts change adds to or removes from its author's recent posts (home posts only)."""
    item = change.item
    if change.kind in ("INSERT", "REMOVE") and item.get("home_author_id") and not item.get("group_id"):
        return item
    return None


def keep_recent_posts(change: Change) -> None:
    """Posts stream effect: a new home post joins its author's recent posts; a deleted one leaves."""
    post = home_post(change)
    if post is None:
        return
    author_id, post_id = post["home_author_id"], post["post_id"]
    if change.kind == "REMOVE":
        RecentPosts(author_id).update(actions=[RecentPosts.post_ids.delete({post_id}),
                                               RecentPosts.poll_ids.delete({post_id})])
        return
    actions: list[Action] = [RecentPosts.post_ids.add({post_id})]
    if post.get("poll"):
        actions.append(RecentPosts.poll_ids.add({post_id}))
    item = RecentPosts(author_id)
    item.update(actions=actions)  # PynamoDB reads back ALL_NEW into the item
    _trim(author_id, rules.recent_to_drop(item.post_ids or ()))


def keep_recent_activity(user_id: str, activity_id: str, *, shared: bool) -> None:
    """A shared activity joins its user's recent posts (what pull-mode readers merge); a withdrawn
    one leaves. Set ADD / DELETE: idempotent, like a post's."""
    if not shared:
        RecentPosts(user_id).update(actions=[RecentPosts.post_ids.delete({activity_id}),
                                             RecentPosts.activity_ids.delete({activity_id})])
        return
    item = RecentPosts(user_id)
    item.update(actions=[RecentPosts.post_ids.add({activity_id}), RecentPosts.activity_ids.add({activity_id})])
    _trim(author_id=user_id, dropped=rules.recent_to_drop(item.post_ids or ()))


def _trim(author_id: str, dropped: list[str]) -> None:
    """Drop the oldest ids and raise the floor to the newest of them (never lower it)."""
    if not dropped:
        return
    newest_dropped = dropped[-1]
    removals: list[Action] = [RecentPosts.post_ids.delete(set(dropped)), RecentPosts.poll_ids.delete(set(dropped)),
                              RecentPosts.activity_ids.delete(set(dropped))]
    if not update_if(RecentPosts(author_id), [*removals, RecentPosts.floor.set(newest_dropped)],
                     RecentPosts.floor.does_not_exist() | (RecentPosts.floor < newest_dropped)):
        RecentPosts(author_id).update(actions=removals)  # a concurrent trim set a higher floor already


def read_items(author_ids: list[str]) -> dict[str, RecentPosts | None]:
    """The recent-posts items of `author_ids`: one BatchGetItem per 100, all at once."""
    chunks = [author_ids[start:start + BATCH_GET_LIMIT] for start in range(0, len(author_ids), BATCH_GET_LIMIT)]

    def read(chunk: list[str]) -> list:
        return batch_get([(RecentPosts, author_id, None) for author_id in chunk])

    if len(chunks) > 1:
        RecentPosts._get_connection()  # created once here, not raced for by the threads
        with ThreadPoolExecutor(max_workers=len(chunks), thread_name_prefix="recent") as pool:
            found = [item for items in pool.map(read, chunks) for item in items]
    else:
        found = [item for chunk in chunks for item in read(chunk)]
    return dict(zip(author_ids, found, strict=True))


def newest_below(author_ids: list[str], before: str | None,
                 count: int) -> tuple[dict[str, tuple[str, bool, bool]], dict]:
    """The newest `count` home posts (and shared activities) below `before` of each author, merged:
    ({post id: (author, has poll, is an activity)}, {post id: Post} for those a Query had to read in
    full: posts only, a Query reaching back past the item finds no activity).

    One BatchGetItem for the items; one Query (at once, in threads) per author whose item does not
    reach back far enough.
    """
    ids: dict[str, tuple[str, bool, bool]] = {}
    deep: list[str] = []
    for author_id, item in read_items(author_ids).items():
        listed = item.post_ids if item else ()
        below = rules.recent_below(listed or (), item.floor if item else None, before, count)
        if below is None:
            deep.append(author_id)
            continue
        polls = (item.poll_ids or set()) if item else set()
        activities = (item.activity_ids or set()) if item else set()
        ids.update({post_id: (author_id, post_id in polls, post_id in activities) for post_id in below})
    queried: dict = {}
    if deep:
        def query(author_id: str) -> list[Post]:
            return list(Post.by_author.query(author_id, Post.post_id < before if before else None,
                                             scan_index_forward=False, limit=count))

        Post._get_connection()
        with ThreadPoolExecutor(max_workers=min(len(deep), 8), thread_name_prefix="pulled") as pool:
            for posts in pool.map(query, deep):
                for post in posts:
                    queried[post.post_id] = post
                    ids[post.post_id] = (post.author_id, post.poll is not None, False)
    return ids, queried
