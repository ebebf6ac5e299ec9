"""The home feed: reads that merge large accounts' posts, backfill on follow, and the feed's upkeep.

Write path: `services.fanout` carries a new post into its author's followers' feeds (jobs on the
FanoutJobs stream). A follow copies the followee's newest posts and shared activities in
(`backfill_feed`).

Read path. Authors with more followers than `FANOUT_PULL_THRESHOLD` are not fanned out. Each reader
keeps the large accounts they follow in ONE item of their own feed partition (`FeedPullList`, sort
key "~pull#<reader>", above every post id): the first page's newest-first Query of the feed returns
it first, in the same call; a later page reads it again beside its Query (the cursor says only
whether there is a list, never the list). Every page merges those authors' newest posts, read in
one BatchGetItem of their recent-posts items (`services.recent_posts`), with the reader's own
entries. The list is kept by the Follows stream (a follow of a large account adds it, an unfollow
or a block removes it) and, when an author crosses the threshold, by the fan-out's pull-list job.

Upkeep. Entries are never trimmed on write: each carries `expires_at` (DynamoDB TTL, 30 days), a
read skips an expired entry TTL has not yet deleted, and reads stop at the newest
`FEED_MAX_ENTRIES`, so older entries are never shown. An unfollow and a block take the author's
entries out of the reader's partition (a Query of it, filtered by author: Feeds has no index); a
deleted post leaves its followers' feeds through a removal job (`services.fanout`).
"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.domain import feed as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import epoch_seconds
from chalicelib.errors import BadRequest
from chalicelib.models.base import batch_get, get_or_none, update_if
from chalicelib.models.batches import write_batches
from chalicelib.models.graph import Block, Follow
from chalicelib.models.posts import FeedEntry, FeedPullList, Post
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.services import audience, recent_posts
from chalicelib.services.activity_reads import FeedActivityReads, as_feed_items, present
from chalicelib.services.polls import PollReads
from chalicelib.services.social import SocialReads

ACTIVITY = "activity"  # FeedEntry.kind of a shared activity (services.fanout.ACTIVITY)


# -- entries ----------------------------------------------------------------------------------------
def entry_for(reader_id: str, post: dict) -> FeedEntry:
    return FeedEntry(
        reader_id,
        post["post_id"],
        author_id=post["author_id"],
        has_poll=bool(post.get("poll")),
        expires_at=rules.post_entries_expire_at(post["post_id"]),
        kind=post.get("kind"),
    )


def _post_dict(post: Post) -> dict:
    return {"post_id": post.post_id, "author_id": post.author_id, "created_at": post.created_at,
            "poll": bool(post.poll)}


def blockers_of(user_id: str) -> set[str]:
    return {block.blocker_id for block in Block.blocked_by.query(user_id, attributes_to_get=["blocker_id"])}


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

    return audience.add_while_following(reader_id, author_id, "pull list",
                                        FeedPullList(reader_id, rules.pull_list_key(reader_id)),
                                        FeedPullList.pull_authors, author_id, what=f"the pull list of {reader_id}")


def pull_authors_of(reader_id: str) -> list[str]:
    item = get_or_none(FeedPullList, reader_id, rules.pull_list_key(reader_id))
    if item is None:
        return []
    return sorted(item.pull_authors or ())


# -- upkeep -----------------------------------------------------------------------------------------
def remove_author_from_feed(reader_id: str, author_id: str) -> int:
    """Unfollow or block: every entry of `author_id` leaves `reader_id`'s feed, and their pull list.

    One consistent Query of the reader's own partition (keys and author only, filtered by author;
    paged by DynamoDB's 1 MB), instead of an index that cost a write unit on every entry written.
    """
    from pynamodb.constants import ITEMS, LAST_EVALUATED_KEY

    connection = FeedEntry._get_connection()
    doomed: list[str] = []
    start = None
    while True:
        data = connection.query(
            reader_id, range_key_condition=FeedEntry.post_id < rules.entries_upper_bound(),
            filter_condition=FeedEntry.author_id == author_id, consistent_read=True,
            attributes_to_get=["post_id"], exclusive_start_key=start,
        )
        doomed += [raw["post_id"]["S"] for raw in data.get(ITEMS) or []]
        start = data.get(LAST_EVALUATED_KEY)
        if not start:
            break
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, post_id) for post_id in doomed])
    remove_pull_author(reader_id, author_id)
    return len(doomed)


def backfill(follower_id: str, followee_id: str) -> int:
    """The followee's newest posts and shared activities into the follower's feed (the newest
    `BACKFILL_POSTS` of both: one Query each), or, for a large account, into the pull list.

    Skipped when the follow is already gone again (a late redelivery or a replay: the unfollow's
    REMOVE has taken, or will take, the follower out). An account whose posts may not be fanned
    out to this follower (`rules.served_by_pull`: pull mode, above the threshold, or an audience
    not kept) joins the follower's pull list instead, and every feed page merges its posts.
    """
    follow, profile = batch_get([(Follow, follower_id, followee_id), (UserProfile, followee_id, None)])
    if follow is None:
        return 0
    threshold = get_settings().fanout_pull_threshold
    if rules.served_by_pull(audience.reach_of(profile), threshold):
        add_pull_author(follower_id, followee_id)
        return 0
    if follower_id in blockers_of(followee_id):
        return 0
    now = epoch_seconds()
    posts = [_post_dict(post) for post in Post.by_author.query(followee_id, scan_index_forward=False,
                                                               limit=rules.BACKFILL_POSTS)]
    newest = sorted(posts + _shared_activities(followee_id), key=lambda item: item["post_id"],
                    reverse=True)[:rules.BACKFILL_POSTS]
    entries = [entry_for(follower_id, item) for item in newest
               if not rules.is_expired(rules.post_entries_expire_at(item["post_id"]), now)]
    write_batches(FeedEntry, puts=entries)
    return len(entries)


def _shared_activities(user_id: str) -> list[dict]:
    """The user's newest shared activities as feed items (withdrawn ones, kept as tombstones, left out)."""
    from chalicelib.domain.activity import SETTINGS_KEY
    from chalicelib.models.activity import Activity

    return [{"post_id": activity.activity_id, "author_id": user_id, "created_at": activity.created_at,
             "kind": ACTIVITY}
            for activity in Activity.query(user_id, Activity.activity_id < SETTINGS_KEY, scan_index_forward=False,
                                           limit=rules.BACKFILL_POSTS)
            if not activity.withdrawn_at]


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


def _later_page_reads(reader_id: str, before: str, limit: int, pulls: bool) -> tuple[list[FeedEntry], list[str]]:
    """A later page: the Query below `before` and, if the feed merges large accounts, the pull
    list's GetItem, at once (one round trip)."""
    if not pulls:
        return _feed_query(reader_id, before, limit)[0], []
    from concurrent.futures import ThreadPoolExecutor

    FeedEntry._get_connection(), FeedPullList._get_connection()  # created here, not raced for by the threads
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-list") as pool:
        pull = pool.submit(pull_authors_of, reader_id)
        entries, _ = _feed_query(reader_id, before, limit)
        return entries, pull.result()


def read_feed(reader_id: str, page: PageRequest) -> Page:
    """One Query on the reader's feed (a first page's also brings the pull list; a later page reads
    the list beside it), one BatchGetItem of the pulled authors' recent posts when there are any,
    then ONE batched read (posts of the page, their authors' cards, the polls' tallies and the
    reader's votes) and one of the posts' product cards (when any names one). Without large
    accounts: 2 calls, 3 with products; with up to 100 large accounts one more."""
    from chalicelib.services.cards import CardRead
    from chalicelib.services.live import live_feed_items
    from chalicelib.services.posts import present_read_posts

    window = get_settings().feed_max_entries
    try:
        position = rules.FeedPosition.from_cursor(page.position, reader_id)
    except ValueError:
        raise BadRequest("cursor: not a cursor this service issued for your feed") from None
    served = position.served if position else 0
    size = rules.page_size(page.limit, served, window)
    if size == 0:
        return Page(items=[], next_cursor=None)
    before = position.before if position else None

    # limit + 1 entries tell whether more follow; a first page reads one more for the pull list
    if position is None:
        found_entries, listed = _feed_query(reader_id, None, size + 2)
        pull = listed or []
    else:
        found_entries, pull = _later_page_reads(reader_id, before or "", size + 1, position.pulls)
    position = rules.FeedPosition(reader=reader_id, before=before, served=served, pulls=bool(pull))
    entries = {entry.post_id: entry for entry in found_entries[:size + 1]}
    pulled, queried = recent_posts.newest_below(pull, before, size + 1) if pull else ({}, {})
    merged = rules.merge_newest_first([list(entries), list(pulled)], size)

    def author_of(post_id: str) -> str:
        return entries[post_id].author_id if post_id in entries else pulled[post_id][0]

    def is_activity(post_id: str) -> bool:
        return entries[post_id].kind == ACTIVITY if post_id in entries else pulled[post_id][2]

    post_ids = [post_id for post_id in merged.post_ids if not is_activity(post_id)]
    to_fetch = [post_id for post_id in post_ids if post_id not in queried]
    authors = CardRead(user_ids=sorted({author_of(post_id) for post_id in merged.post_ids}))
    poll_reads = PollReads([p for p in post_ids if (entries[p].has_poll if p in entries else pulled[p][1])],
                           reader_id)
    social_reads = SocialReads(post_ids, reader_id)  # the counts and the reader's own likes
    activity_reads = FeedActivityReads([(author_of(p), p) for p in merged.post_ids if is_activity(p)])
    author_keys = authors.keys()
    found = iter(batch_get(
        [(Post, post_id, None) for post_id in to_fetch]
        + author_keys
        + poll_reads.keys()
        + social_reads.keys()
        + activity_reads.keys()
    ))
    fetched = {post_id: next(found) for post_id in to_fetch}
    author_cards = authors.build([next(found) for _ in author_keys]).users
    readings = poll_reads.take(found)
    socials = social_reads.take(found)
    activities = activity_reads.take(found)
    now_epoch = epoch_seconds()
    shown, shown_activities = [], []
    for post_id in merged.post_ids:
        if post_id not in pulled and rules.is_expired(entries[post_id].expires_at, now_epoch):
            continue  # past its TTL; DynamoDB deletes it later
        if is_activity(post_id):
            if post_id in activities:  # else withdrawn (its removal is under way) or hidden
                shown_activities.append(activities[post_id])
            continue
        post = queried.get(post_id) or fetched.get(post_id)
        if post is None or post.removed_at:  # deleted (the Posts stream is removing its entries) or removed
            continue
        shown.append(post)
    # + one call for the products' cards, one for the activities' products and stores, one for the live
    # rooms (each only when the page has any); a live room's item rides the posts' machinery as a post
    # naming the room (`services.live_effects`)
    by_id: dict[str, object] = {item.post_id: item for item in present_read_posts(
        [p for p in shown if not p.live_room_id], author_cards, readings, socials)}
    by_id.update(live_feed_items([p for p in shown if p.live_room_id]))
    for item in as_feed_items(present(shown_activities, author_cards)):
        by_id[item.activity.activity_id] = item
    items = [by_id[post_id] for post_id in merged.post_ids if by_id.get(post_id) is not None]
    next_position = rules.next_position(merged, position, window)
    return Page(items=items, next_cursor=page.next_cursor(next_position.to_cursor() if next_position else None))


# -- stream effects ---------------------------------------------------------------------------------
def backfill_feed(change: Change) -> None:
    """Follows stream: a new follow brings the followee's newest posts (or pull-list place) to the follower."""
    if change.kind == "INSERT":
        backfill(change.item["follower_id"], change.item["followee_id"])


def remove_unfollowed_posts(change: Change) -> None:
    """Follows stream: an unfollow takes the followee's posts out of the follower's feed."""
    if change.kind == "REMOVE":
        remove_author_from_feed(change.item["follower_id"], change.item["followee_id"])


def remove_blocked_posts(change: Change) -> None:
    """Blocks stream: the blocked user's posts leave the blocker's feed."""
    if change.kind == "INSERT":
        remove_author_from_feed(change.item["blocker_id"], change.item["blocked_id"])


