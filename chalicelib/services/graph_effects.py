"""What follows from a change in the follow graph, one named effect each: counters, the new-follower
notice, the followee's audience, and the end of follows on a block. (The feed's effects of the same
changes, backfill and removal, are in `services.feed`.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.models.base import batch_get
from chalicelib.models.graph import Follow
from chalicelib.models.transactions import Transaction
from chalicelib.models.users import UserProfile
from chalicelib.services import audience, notifications
from chalicelib.services.effects import Counter, sum_changes_once, sum_once


# -- Follows ----------------------------------------------------------------------------------------
def follow_count_moves(change: Change) -> list[tuple[str, str, int]]:
    """(user, counter, delta) a follow or unfollow moves: the follower's `following_count` and the
    followee's `follower_count`, by one each; nothing for any other change."""
    delta = change.count_delta
    if not delta:
        return []
    item = change.item
    return [(item["follower_id"], "following_count", delta), (item["followee_id"], "follower_count", delta)]


def follow_counter_moves(change: Change) -> list[tuple[Counter, str, int]]:
    """`follow_count_moves` as summed counter moves, one marker per record and counter."""
    return [(Counter(UserProfile, user_id, counter), change.effect_id(f"follow-count-{counter}"), delta)
            for user_id, counter, delta in follow_count_moves(change)]


@per_batch
def count_followers(changes: Sequence[Change]) -> BatchFailures:
    """Counts move exactly once per follow and unfollow, summed per batch: one update of each profile's
    counter per batch (a star gaining 1,000 followers a second is written about once a second)."""
    return sum_changes_once(changes, follow_counter_moves)


def new_follower_notice(change: Change) -> tuple[str, dict] | None:
    """(recipient, data) of the notice a follow is due: the followee hears of a new follower."""
    if change.kind != "INSERT":
        return None
    return change.item["followee_id"], {"follower_id": change.item["follower_id"]}


@dataclass(frozen=True)
class FollowerNotice:
    """The `new_follower` notice of one followee for one second: followers of that second share it."""

    followee_id: str
    second_ms: int
    gone_if_false: bool = False  # its write has no condition

    def write(self, transaction: Transaction, label: str, follower_ids: Sequence[str]) -> bool:
        notifications.add_new_follower(transaction, self.followee_id, follower_ids[0], self.second_ms,
                                       count=len(follower_ids), label=label)
        return True


def follower_notice_moves(change: Change) -> list[tuple[FollowerNotice, str, str]]:
    """The notice a follow joins, with its exactly-once key (one per follower per followee per UTC day)."""
    notice = new_follower_notice(change)
    if notice is None:
        return []
    followee_id, data = notice
    return [_follower_notice_move(followee_id, data["follower_id"], change.created_ms)]


def _follower_notice_move(followee_id: str, follower_id: str, at_ms: int) -> tuple[FollowerNotice, str, str]:
    return (FollowerNotice(followee_id, at_ms - at_ms % 1000),
            notifications.follower_notice_effect_id(followee_id, follower_id, at_ms), follower_id)


@per_batch
def notify_new_follower(changes: Sequence[Change]) -> BatchFailures:
    """At most one notice per follower per followee per UTC day (an exactly-once effect keyed by the
    day, so following and unfollowing over and over notifies once); followers of one second share
    one notice (`data.count`), written once per batch."""
    return sum_changes_once(changes, follower_notice_moves)


def notify_followee(followee_id: str, follower_id: str, at_ms: int) -> None:
    """One follower's notice, alone (what a batch holding one follow does)."""
    notice, effect_id, follower = _follower_notice_move(followee_id, follower_id, at_ms)
    failed = sum_once({notice: [(effect_id, follower)]})
    if failed:
        raise failed[effect_id]


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
