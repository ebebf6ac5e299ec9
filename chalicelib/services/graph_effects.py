"""What follows from a change in the follow graph: counters, notices, the end of follows on a block."""

from __future__ import annotations

from chalicelib.models.graph import Follow
from chalicelib.models.users import UserProfile
from chalicelib.services import audience, feed, notifications
from chalicelib.services.effects import apply_once
from chalicelib.streams.events import Change


def _count_follow(change: Change, delta: int) -> bool:
    follower_id, followee_id = change.item["follower_id"], change.item["followee_id"]

    def write(transaction) -> None:
        transaction.update("follower", UserProfile(follower_id), actions=[UserProfile.following_count.add(delta)])
        transaction.update("followee", UserProfile(followee_id), actions=[UserProfile.follower_count.add(delta)])

    return apply_once(change.effect_id("follow-count"), write)


def notify_followee(followee_id: str, follower_id: str, at_ms: int) -> bool:
    """At most one notice per follower per followee per UTC day; followers of one second grouped."""
    return apply_once(
        notifications.follower_notice_effect_id(followee_id, follower_id, at_ms),
        lambda transaction: notifications.add_new_follower(transaction, followee_id, follower_id, at_ms),
    )


def on_follow_change(change: Change) -> None:
    """Counts move exactly once per follow and unfollow; a new follow notifies the followee; the
    followee's audience (the fan-out's list of followers) gains or loses the follower."""
    if change.kind == "INSERT":
        _count_follow(change, +1)
        item = change.item
        notify_followee(item["followee_id"], item["follower_id"], change.created_ms)
        feed.follow_started(item["follower_id"], item["followee_id"])
    elif change.kind == "REMOVE":
        _count_follow(change, -1)
        audience.leave(change.item["followee_id"], change.item["follower_id"])
        feed.remove_author_from_feed(change.item["follower_id"], change.item["followee_id"])


def on_block_change(change: Change) -> None:
    """A block ends follows both ways. (Deleting is idempotent; the Follows stream moves counts.)"""
    if change.kind != "INSERT":
        return
    blocker_id, blocked_id = change.item["blocker_id"], change.item["blocked_id"]
    Follow(blocker_id, blocked_id).delete()
    Follow(blocked_id, blocker_id).delete()
    feed.remove_author_from_feed(blocker_id, blocked_id)
