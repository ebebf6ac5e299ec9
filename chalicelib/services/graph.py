"""The follow graph: follow, unfollow, block, and the lists of either side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain.ids import now_iso
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.models.base import batch_get, save_if
from chalicelib.models.graph import Block, Follow, followers_keys
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services.cards import CardRead
from chalicelib.services.profiles import display_name_of

if TYPE_CHECKING:
    from chalicelib.schemas.profiles import BlockedUserOut, UserRef
else:
    BlockedUserOut, UserRef = lazy_models("chalicelib.schemas.profiles", "BlockedUserOut", "UserRef")


def _check_pair(caller: Caller, target_id: str, action: str) -> tuple[Block | None, Block | None]:
    """One BatchGetItem: the target's profile and any block between the two."""
    if target_id == caller.user_id:
        raise BadRequest(f"user_id: you cannot {action} yourself")
    target, blocked_by_target, blocked_by_caller = batch_get(
        [
            (UserProfile, target_id, None),
            (Block, target_id, caller.user_id),
            (Block, caller.user_id, target_id),
        ]
    )
    if target is None:
        raise NotFound(f"No user {target_id}")
    return blocked_by_target, blocked_by_caller


def _put_once(item) -> None:
    save_if(item, type(item)._hash_key_attribute().does_not_exist())


def follow(caller: Caller, target_id: str) -> None:
    blocked_by_target, blocked_by_caller = _check_pair(caller, target_id, "follow")
    if blocked_by_target is not None:
        raise Forbidden("This user has blocked you")
    if blocked_by_caller is not None:
        raise Conflict("You have blocked this user; unblock them first")
    _put_once(Follow(caller.user_id, target_id, created_at=now_iso()))


def unfollow(caller: Caller, target_id: str) -> None:
    if target_id == caller.user_id:
        raise BadRequest("user_id: you cannot unfollow yourself")
    Follow(caller.user_id, target_id).delete()


def block(caller: Caller, target_id: str) -> None:
    """Record the block; the Blocks stream handler ends follows both ways and cleans feeds."""
    _check_pair(caller, target_id, "block")
    _put_once(Block(caller.user_id, target_id, created_at=now_iso()))


def unblock(caller: Caller, target_id: str) -> None:
    if target_id == caller.user_id:
        raise BadRequest("user_id: you cannot unblock yourself")
    Block(caller.user_id, target_id).delete()


def is_blocked(blocker_id: str, blocked_id: str) -> bool:
    return any(batch_get([(Block, blocker_id, blocked_id)]))


def _with_names(pairs: list[tuple[str, str]]) -> list[UserRef]:
    """The people with their names and cards: one BatchGetItem (profiles and stores)."""
    read = CardRead(user_ids=[user_id for user_id, _ in pairs])
    keys = read.keys()
    found = batch_get(keys) if keys else []
    profiles = dict(zip(read.user_ids, found[:len(read.user_ids)], strict=True))
    cards = read.build(found).users
    return [
        UserRef(user_id=user_id, display_name=display_name_of(profiles[user_id], user_id), since=since,
                user=cards[user_id])
        for user_id, since in pairs
    ]


def require_user(user_id: str) -> None:
    """404 unless `user_id` has a profile: a list's parent check, made only when its first page is
    empty (a list with items names an existing user, so the common case reads nothing more)."""
    if batch_get([(UserProfile, user_id, None)])[0] is None:
        raise NotFound(f"No user {user_id}")


def followers(user_id: str, page: PageRequest) -> Page:
    """Newest followers first: one Query per followers shard, in parallel (`models.sharded`), then
    one BatchGetItem of their cards."""
    from chalicelib.models.sharded import ShardedList, read_sharded_page

    partitions = followers_keys(user_id)
    listing = ShardedList(
        model=Follow,
        shard_partitions=[{"followee_shard": key} for key in partitions],
        key_names=frozenset({"follower_id", "followee_id", "followee_shard", "created_at"}),
        order_key=lambda follow: (follow.created_at, follow.follower_id),
    )

    def query_shard(shard: int, start: dict | None, limit: int):
        return Follow.followers.query(partitions[shard], scan_index_forward=False, limit=limit,
                                      last_evaluated_key=start)

    follows, next_cursor = read_sharded_page(listing, query_shard, page)
    pairs = [(f.follower_id, f.created_at) for f in follows]
    if not pairs and page.position is None:
        require_user(user_id)
    return Page(items=_with_names(pairs), next_cursor=next_cursor)


def following(user_id: str, page: PageRequest) -> Page:
    results = Follow.query(user_id, limit=page.limit, last_evaluated_key=page.start_key(Follow, user_id))
    pairs = [(f.followee_id, f.created_at) for f in results]
    if not pairs and page.position is None:
        require_user(user_id)
    return Page(items=_with_names(pairs), next_cursor=page.next_cursor(results.last_evaluated_key))


def blocked(user_id: str, page: PageRequest) -> Page:
    """Whom `user_id` blocks, in id order: one Query, then one BatchGetItem of their cards."""
    from chalicelib.services.cards import user_cards

    results = Block.query(user_id, limit=page.limit, last_evaluated_key=page.start_key(Block, user_id))
    blocks = list(results)
    cards = user_cards(b.blocked_id for b in blocks) if blocks else {}
    items = [BlockedUserOut(user_id=b.blocked_id, since=b.created_at, user=cards[b.blocked_id]) for b in blocks]
    return Page(items=items, next_cursor=page.next_cursor(results.last_evaluated_key))


