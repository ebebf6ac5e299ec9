"""What follows from a change in the follow graph, one named effect each: counters, the new-follower
notice, the followee's audience, and the end of follows on a block. (The feed's effects of the same
changes, backfill and removal, are in `services.feed`.)"""

from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.domain.changes import Change
from chalicelib.models.base import batch_get
from chalicelib.models.graph import Follow
from chalicelib.models.users import UserProfile
from chalicelib.services import audience, notifications
from chalicelib.services.effects import apply_once


# -- Follows ----------------------------------------------------------------------------------------
def follow_count_moves(change: Change) -> list[tuple[str, str, int]]:
    """(user, counter, delta) a follow or unfollow moves: the follower's `following_count` and the
    followee's `follower_count`, by one each; nothing for any other change."""
    delta = change.count_delta
    if not delta:
        return []
    item = change.item
    return [(item["follower_id"], "following_count", delta), (item["followee_id"], "follower_count", delta)]


def count_followers(change: Change) -> bool:
    """Counts move exactly once per follow and unfollow (one transaction with the effect's marker)."""
    moves = follow_count_moves(change)
    if not moves:
        return False

    def write(transaction) -> None:
        for user_id, counter, delta in moves:
            transaction.update(counter, UserProfile(user_id), actions=[getattr(UserProfile, counter).add(delta)])

    return apply_once(change.effect_id("follow-count"), write)


def new_follower_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of the notice a follow is due: the followee hears of a new follower."""
    if change.kind != "INSERT":
        return None
    return change.item["followee_id"], {"follower_id": change.item["follower_id"]}


def notify_new_follower(change: Change) -> None:
    """At most one notice per follower per followee per UTC day (an exactly-once effect keyed by the
    day, so following and unfollowing over and over notifies once); followers of one second share
    one notice (`data.count`)."""
    notice = new_follower_notice(change)
    if notice is not None:
        followee_id, data = notice
        notify_followee(followee_id, data["follower_id"], change.created_ms)


def notify_followee(followee_id: str, follower_id: str, at_ms: int) -> bool:
    return apply_once(
        notifications.follower_notice_effect_id(followee_id, follower_id, at_ms),
        lambda transaction: notifications.add_new_follower(transaction, followee_id, follower_id, at_ms),
    )


def join_audience(change: Change) -> None:
    """A follow puts the follower in the followee's audience (the fan-out's list of followers), while
    that audience is kept (`audience.on_follow`: not past 1.1 x the pull threshold).

    Skipped when the follow is already gone again (a late redelivery or a replay: the unfollow's
    REMOVE has taken, or will take, the follower out).
    """
    if change.kind != "INSERT":
        return
    follower_id, followee_id = change.item["follower_id"], change.item["followee_id"]
    follow, profile = batch_get([(Follow, follower_id, followee_id), (UserProfile, followee_id, None)])
    if follow is None:
        return
    audience.on_follow(followee_id, follower_id, audience.reach_of(profile),  # type: ignore[arg-type]
                       get_settings().fanout_pull_threshold)


def leave_audience(change: Change) -> None:
    """An unfollow takes the follower out of the followee's audience."""
    if change.kind == "REMOVE":
        audience.leave(change.item["followee_id"], change.item["follower_id"])


# -- Blocks -----------------------------------------------------------------------------------------
def follows_ended_by(change: Change) -> list[tuple[str, str]]:
    """(follower, followee) pairs a block ends: both ways between blocker and blocked."""
    if change.kind != "INSERT":
        return []
    blocker_id, blocked_id = change.item["blocker_id"], change.item["blocked_id"]
    return [(blocker_id, blocked_id), (blocked_id, blocker_id)]


def end_follows(change: Change) -> None:
    """A block ends follows both ways. (Deleting is idempotent; the Follows stream moves counts.)"""
    for follower_id, followee_id in follows_ended_by(change):
        Follow(follower_id, followee_id).delete()
