"""Likes and comments of posts, and their counts.

A like is ONE conditional write of the liker's own item, keyed `<post_id>#<shard of user>` (the
poll votes' layout, `domain.polls.vote_shard`): one post's likes spread over 16 partitions and the
reader's own like is a key the page's one BatchGetItem can name. Nothing is written on the post.
`like_count` and `comment_count` live in the post's `PostCounts` item, summed per stream batch from
the Likes and Comments streams (`count_likes`, `count_comments`: one update of the item per batch,
exactly once under replay, `effects.sum_changes_once`); they may trail by seconds.

`liked_by_me` on a page of posts: the Likes stream also keeps, per user and 8-hour window of post
ids, the set of posts they like (`LikedPosts`, `index_likes`). A page reads one such item per
window its posts come from, or one Like item per post, whichever is fewer keys (a feed page of 20
posts from a day or two: 2-4 items instead of 20, each 0.5 RCU). Like the counts, the set may trail
a like by the stream's delay; a single post reads its Like item (as fresh as the like itself).
A window's item holds at most `LIKED_WINDOW_CAP` post ids (about 11 KB, 1.5 RCU to read, far from
DynamoDB's 400 KB); a liker past it gets `overflow` on the item, and pages read that window's
Like items in one more BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pynamodb.expressions.condition import size

from chalicelib.auth import Caller
from chalicelib.domain import polls
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import id_time_ms, new_id, now_iso
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models.base import batch_get, delete_if, save_if, update_if
from chalicelib.models.graph import Block
from chalicelib.models.posts import Post
from chalicelib.models.social import Comment, Like, LikedPosts, PostCounts
from chalicelib.models.transactions import Transaction
from chalicelib.pagination import PageRequest
from chalicelib.services import notifications
from chalicelib.services.effects import sum_changes_once


def like_key(post_id: str, user_id: str) -> str:
    """The partition key of `user_id`'s like of `post_id` (the vote shards of `domain.polls`)."""
    return f"{post_id}#{polls.vote_shard(user_id)}"


def post_of_like(key: str) -> str:
    """The post a `like_key` names (index rows of a user's likes carry only their keys)."""
    return key.rpartition("#")[0]


LIKED_WINDOW_MS = 8 * 3600 * 1000  # posts created in one such window share a user's LikedPosts item
LIKED_WINDOW_CAP = 400  # post ids one LikedPosts item holds; past it the window reads Like items


def liked_key(user_id: str, post_id: str) -> str:
    """The `LikedPosts` item that holds `user_id`'s like of `post_id`: by the time in the post's id."""
    return f"{user_id}#{id_time_ms(post_id) // LIKED_WINDOW_MS}"


# -- reading ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SocialReading:
    """What a reader sees of a post's likes and comments."""

    like_count: int = 0
    comment_count: int = 0
    liked_by_me: bool = False


@dataclass
class SocialReads:
    """The keys a page's posts need in its one BatchGetItem (the counts, the viewer's own like)."""

    post_ids: Sequence[str]
    viewer_id: str

    @property
    def _windows(self) -> list[str]:
        return list(dict.fromkeys(liked_key(self.viewer_id, post_id) for post_id in self.post_ids))

    @property
    def _by_window(self) -> bool:
        """Read the viewer's likes per window (fewer keys) rather than per post; one post: its Like."""
        return len(self.post_ids) > 1 and len(self._windows) < len(self.post_ids)

    def keys(self) -> list[tuple]:
        keys: list[tuple] = [(PostCounts, post_id, None) for post_id in self.post_ids]
        if self._by_window:
            return keys + [(LikedPosts, key, None) for key in self._windows]
        return keys + [(Like, like_key(post_id, self.viewer_id), self.viewer_id) for post_id in self.post_ids]

    def take(self, found: Iterator) -> dict[str, SocialReading]:
        """Consume this reader's share of the batch's answers (in `keys()` order). A window whose
        item overflowed is read again as its posts' Like items (one more BatchGetItem)."""
        counts = [next(found) for _ in self.post_ids]
        if self._by_window:
            items = {key: next(found) for key in self._windows}
            liked = set().union(*((item.post_ids or set()) for item in items.values() if item is not None))
            unsure = [post_id for post_id in self.post_ids
                      if (item := items[liked_key(self.viewer_id, post_id)]) is not None and item.overflow]
            if unsure:
                likes_found = batch_get([(Like, like_key(post_id, self.viewer_id), self.viewer_id)
                                         for post_id in unsure])
                liked |= {post_id for post_id, like in zip(unsure, likes_found, strict=True) if like is not None}
            likes = [post_id in liked for post_id in self.post_ids]
        else:
            likes = [next(found) is not None for _ in self.post_ids]
        return {post_id: reading_of(count, like)
                for post_id, count, like in zip(self.post_ids, counts, likes, strict=True)}


def reading_of(counts: PostCounts | None, liked: bool) -> SocialReading:
    if counts is None:
        return SocialReading(liked_by_me=liked)
    return SocialReading(max(0, int(counts.like_count or 0)), max(0, int(counts.comment_count or 0)), liked)


# -- rights -----------------------------------------------------------------------------------------
def post_for(caller: Caller, post_id: str, *, doing: str, extra: Sequence[tuple] = ()) -> tuple[Post, list]:
    """The post the caller acts on, in one BatchGetItem with whether its author blocks them (403)
    and `extra` keys (their answers are returned); 404 for an unknown post."""
    found = batch_get([(Post, post_id, None), *extra])
    post = found[0]
    if not isinstance(post, Post) or post.removed_at:  # a removed post takes no like or comment
        raise NotFound(f"No post {post_id}")
    if post.author_id != caller.user_id and batch_get([(Block, post.author_id, caller.user_id)])[0] is not None:
        raise Forbidden(f"The post's author does not let you {doing} it")
    return post, found[1:]


# -- likes ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LikeState:
    post_id: str
    liked: bool
    like_count: int


def like(caller: Caller, post_id: str) -> LikeState:
    """PUT: idempotent. One conditional put of the caller's like; the count the caller sees counts it."""
    _, (counts,) = post_for(caller, post_id, doing="like", extra=[(PostCounts, post_id, None)])
    item = Like(like_key(post_id, caller.user_id), caller.user_id, post_id=post_id, created_at=now_iso())
    written = save_if(item, Like.user_id.does_not_exist())
    count = reading_of(counts, True).like_count
    return LikeState(post_id, True, count + 1 if written else max(count, 1))


def unlike(caller: Caller, post_id: str) -> LikeState:
    """DELETE: idempotent; no like to take back is no error."""
    _, (counts,) = post_for(caller, post_id, doing="like", extra=[(PostCounts, post_id, None)])
    removed = delete_if(Like(like_key(post_id, caller.user_id), caller.user_id), Like.user_id.exists())
    count = reading_of(counts, False).like_count
    return LikeState(post_id, False, max(0, count - 1) if removed else count)


# -- comments ---------------------------------------------------------------------------------------
def add_comment(caller: Caller, post_id: str, text: str) -> Comment:
    """One read (the post and the author's block), one write. The Comments stream counts it and
    notifies the post's author."""
    post, _ = post_for(caller, post_id, doing="comment on")
    comment = Comment(post_id, new_id(), author_id=caller.user_id, post_author_id=post.author_id, text=text,
                      created_at=now_iso())
    comment.save(condition=Comment.comment_id.does_not_exist())
    return comment


def list_comments(post_id: str, page: PageRequest) -> tuple[list[Comment], dict | None]:
    """Oldest first: one Query (an empty first page reads the post to tell an unknown one: 404)."""
    results = Comment.query(post_id, scan_index_forward=True, limit=page.limit,
                            last_evaluated_key=page.start_key(Comment, post_id))
    read = list(results)
    comments = [comment for comment in read if not comment.removed_at]  # moderation: out of the list
    if not read and page.position is None and batch_get([(Post, post_id, None)])[0] is None:
        raise NotFound(f"No post {post_id}")
    return comments, results.last_evaluated_key


def delete_comment(caller: Caller, comment_id: str) -> None:
    """By the comment's author or the post's author (403 otherwise)."""
    found = list(Comment.by_comment_id.query(comment_id, limit=1))
    if not found:
        raise NotFound(f"No comment {comment_id}")
    comment = found[0]
    if caller.user_id not in (comment.author_id, comment.post_author_id):
        raise Forbidden("Only the comment's author or the post's author may delete it")
    delete_if(Comment(comment.post_id, comment.comment_id), Comment.comment_id.exists())


# -- stream effects ---------------------------------------------------------------------------------
LIKE_COUNT_EFFECT = "count_likes"
COMMENT_COUNT_EFFECT = "count_comments"
EXCERPT_CHARACTERS = 80  # of a comment, in its `new_comment` notice


@dataclass(frozen=True)
class CountItem:
    """One post's counts item, one attribute of it; its write adds the batch's summed delta (creating
    the item on the post's first like or comment)."""

    post_id: str
    attribute_name: str
    gone_if_false: bool = True

    def write(self, transaction: Transaction, label: str, deltas: Sequence[int]) -> bool:
        total = sum(deltas)
        if total:  # a like and its withdrawal in one batch write only the markers
            transaction.update(label, PostCounts(self.post_id),  # refused on a deleted post's tombstone
                               actions=[getattr(PostCounts, self.attribute_name).add(total)],
                               condition=PostCounts.deleted_at.does_not_exist())
        return True


def _presence_delta(change: Change) -> int:
    if change.kind == "INSERT":
        return 1
    if change.kind == "REMOVE":
        return -1
    return 0


def like_moves(change: Change) -> Iterable[tuple[CountItem, str, int]]:
    delta = _presence_delta(change)
    if not delta:
        return []
    return [(CountItem(str(change.item["post_id"]), "like_count"), change.effect_id(LIKE_COUNT_EFFECT), delta)]


def comment_moves(change: Change) -> Iterable[tuple[CountItem, str, int]]:
    """A comment counts while it is stored and not removed: an insert +1, a delete -1, a moderator's
    removal -1 and restore +1 (a removed comment's later delete moves nothing)."""
    delta = change.shown_delta
    if not delta:
        return []
    return [(CountItem(str(change.item["post_id"]), "comment_count"), change.effect_id(COMMENT_COUNT_EFFECT),
             delta)]


@per_batch
def count_likes(changes: Sequence[Change]) -> BatchFailures:
    """Likes stream, per batch: ONE update of each post's counts item per batch, exactly once."""
    return sum_changes_once(changes, like_moves)


@per_batch
def index_likes(changes: Sequence[Change]) -> BatchFailures:
    """Likes stream, per batch: each liker's `LikedPosts` items gain the posts liked and lose those
    unliked, as the batch ends (a like and its withdrawal in one batch: only the later counts).
    Set ADD and DELETE are the same however often a batch is delivered, so no markers are needed;
    a shard's records come in order, so a replayed batch ends as the first delivery did. An item
    whose last post is taken out is deleted, so a liker's erased likes leave no item behind."""
    last: dict[tuple[str, str], Change] = {}
    for change in changes:
        if change.kind in ("INSERT", "REMOVE"):
            user_id, post_id = str(change.item["user_id"]), str(change.item["post_id"])
            last[(liked_key(user_id, post_id), post_id)] = change
    moves: dict[str, tuple[set[str], set[str], list[Change]]] = {}
    for (key, post_id), change in last.items():
        added, removed, records = moves.setdefault(key, (set(), set(), []))
        (added if change.kind == "INSERT" else removed).add(post_id)
        records.append(change)
    failures: BatchFailures = {}
    for key, (added, removed, records) in moves.items():
        try:
            if added:
                _add_liked(key, added)
            if removed:
                item = LikedPosts(key)
                item.update(actions=[LikedPosts.post_ids.delete(removed)])
                if not item.post_ids and not item.overflow:  # the last like gone (an unlike, or the liker
                    # erased): no item left. An overflowed item stays: its window has likes it does not hold
                    delete_if(item, LikedPosts.post_ids.does_not_exist() & LikedPosts.overflow.does_not_exist())
        except Exception as exc:  # noqa: BLE001 - the records are retried (partial batch response)
            for change in records:
                failures[change.sequence_number] = exc
    return failures


def _add_liked(key: str, added: set[str]) -> None:
    """Add to the window's set while it stays within `LIKED_WINDOW_CAP`; else mark it overflowed
    (both the same however often a batch is delivered)."""
    room = LIKED_WINDOW_CAP - len(added)
    fits = LikedPosts.post_ids.does_not_exist() | (size(LikedPosts.post_ids) <= room)
    if room < 0 or not update_if(LikedPosts(key), [LikedPosts.post_ids.add(added)], fits):
        LikedPosts(key).update(actions=[LikedPosts.overflow.set(True)])


@per_batch
def count_comments(changes: Sequence[Change]) -> BatchFailures:
    """Comments stream, per batch: ONE update of each post's counts item per batch, exactly once."""
    return sum_changes_once(changes, comment_moves)


def comment_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of the `new_comment` a new comment is due; none on one's own post."""
    if change.kind != "INSERT":
        return None
    item = change.item
    if item["author_id"] == item["post_author_id"]:
        return None
    return str(item["post_author_id"]), {"post_id": item["post_id"], "comment_id": item["comment_id"],
                                         "author_id": item["author_id"],
                                         "excerpt": str(item.get("text", ""))[:EXCERPT_CHARACTERS]}


def notify_post_author(change: Change) -> None:
    """Comments stream: the post's author hears of a comment (once: the notice's id names the comment)."""
    notice = comment_notice(change)
    if notice is None:
        return
    recipient, data = notice
    notifications.notify(recipient, "new_comment", data, cause=data["comment_id"], at_ms=change.created_ms)
