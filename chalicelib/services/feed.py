"""The home feed: reads that merge large accounts' posts, backfill on follow, and the feed's upkeep.

Write path: `services.fanout` carries a new post into its author's followers' feeds (jobs on the
FanoutJobs stream). A follow copies the followee's newest posts in (`backfill_feed`).

Read path. Authors with more followers than `FANOUT_PULL_THRESHOLD` are not fanned out. Each reader
keeps the large accounts they follow in ONE item of their own feed partition (`FeedPullList`, sort
key "~pull#<reader>", above every post id): the first page's newest-first Query of the feed returns
it first, in the same call, and the cursor carries the list on. Every page merges those authors'
newest posts (by_author index) with the reader's own entries. The list is kept by the Follows
stream (a follow of a large account adds it, an unfollow or a block removes it) and, when an author
crosses the threshold, by the fan-out's pull-list job.

Upkeep. Entries are never trimmed on write: each carries `expires_at` (DynamoDB TTL, 30 days), a
read skips an expired entry TTL has not yet deleted, and reads stop at the newest
`FEED_MAX_ENTRIES`, so older entries are never shown. A deleted post, an unfollow and a block take
entries out (the stream effects at the end of this module).
"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.domain import feed as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.ids import epoch_seconds
from chalicelib.errors import BadRequest
from chalicelib.models.base import batch_get, update_if
from chalicelib.models.batches import write_batches
from chalicelib.models.graph import Block, Follow
from chalicelib.models.posts import FeedEntry, FeedPullList, PollVote, Post
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.services import audience


# -- entries ----------------------------------------------------------------------------------------
def entry_for(reader_id: str, post: dict) -> FeedEntry:
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


# -- upkeep -----------------------------------------------------------------------------------------
def remove_post_everywhere(post_id: str) -> int:
    """The post leaves every feed it was written to."""
    readers = [entry.user_id for entry in FeedEntry.by_post.query(post_id)]
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, post_id) for reader_id in readers])
    return len(readers)


def remove_author_from_feed(reader_id: str, author_id: str) -> int:
    """Unfollow or block: every entry of `author_id` leaves `reader_id`'s feed, and their pull list."""
    entries = list(FeedEntry.by_reader_author.query(rules.reader_author(reader_id, author_id)))
    write_batches(FeedEntry, deletes=[FeedEntry(reader_id, entry.post_id) for entry in entries])
    remove_pull_author(reader_id, author_id)
    return len(entries)


def backfill(follower_id: str, followee_id: str) -> int:
    """The followee's newest posts into the follower's feed, or, for a large account, into the pull list.

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
    posts = list(Post.by_author.query(followee_id, scan_index_forward=False, limit=rules.BACKFILL_POSTS))
    write_batches(FeedEntry, puts=[entry_for(follower_id, _post_dict(post)) for post in posts])
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
    cards, the reader's votes on polls) and one of the posts' product cards (when any names one)."""
    from chalicelib.services.cards import CardRead
    from chalicelib.services.posts import present_read_posts

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
    authors = CardRead(user_ids=sorted({pulled[p].author_id if p in pulled else entries[p].author_id
                                        for p in merged.post_ids}))
    polls = [p for p in merged.post_ids if (pulled[p].poll is not None if p in pulled else entries[p].has_poll)]
    author_keys = authors.keys()
    found = iter(batch_get(
        [(Post, post_id, None) for post_id in to_fetch]
        + author_keys
        + [(PollVote, post_id, reader_id) for post_id in polls]
    ))
    fetched = {post_id: next(found) for post_id in to_fetch}
    author_cards = authors.build([next(found) for _ in author_keys]).users
    votes = {post_id: next(found) for post_id in polls}
    now_epoch = epoch_seconds()
    shown = []
    for post_id in merged.post_ids:
        post = pulled.get(post_id) or fetched.get(post_id)
        if post is None:  # deleted; the Posts stream is removing its entries
            continue
        if post_id in entries and rules.is_expired(entries[post_id].expires_at, now_epoch):
            continue  # past its TTL; DynamoDB deletes it later
        shown.append(post)
    items = present_read_posts(shown, author_cards, votes)  # + one call for the products' cards
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


def remove_deleted_post(change: Change) -> None:
    """Posts stream: a deleted post leaves every feed."""
    if change.kind == "REMOVE":
        remove_post_everywhere(change.item["post_id"])


def poll_votes_to_delete(change: Change) -> str | None:
    """The post whose poll votes go: a deleted post that had a poll."""
    if change.kind == "REMOVE" and change.item.get("poll"):
        return change.item["post_id"]
    return None


def delete_poll_votes(change: Change) -> None:
    """Posts stream: a deleted poll's votes go with it."""
    post_id = poll_votes_to_delete(change)
    if post_id is not None:
        votes = [vote.user_id for vote in PollVote.query(post_id, attributes_to_get=["post_id", "user_id"])]
        write_batches(PollVote, deletes=[PollVote(post_id, user_id) for user_id in votes])
