"""Expert scores per label, levels that are reached and never lost, and the leaderboards.

Batch effects (`domain.changes.per_batch`): a batch's records move (user, label) scores, summed per
key and written ONCE per key per batch with every record's marker (`services.effects.sum_once`:
exactly once under replay). Then each moved key's level is raised from its score: the raise is a
conditional update (on the level read) that records when it happened (`level_raised_at`), and the
`expert_level` notices for levels above `notified_level` are written (ids from that instant and the
level, so a re-write is the same notice) before `notified_level` catches up. A crash anywhere in
between is finished by the next batch that moves the key, or by the record's redelivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.changes import BatchFailures, Change, is_erasure, per_batch
from chalicelib.domain.ids import iso
from chalicelib.domain.leaderboards import leaderboard_key, leaderboard_partitions
from chalicelib.domain.points import helpful_score_moves, level_mark, raised_level, vote_score_moves
from chalicelib.models.base import batch_get, update_if
from chalicelib.models.points import ExpertScore
from chalicelib.models.sharded import ShardedList, read_sharded_page
from chalicelib.models.transactions import Transaction
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.services.effects import SummedTarget, sum_changes_once
from chalicelib.services.notifications import notify


@per_batch
def score_experts_for_vote(changes: Sequence[Change]) -> BatchFailures:
    """AnswerVotes stream: an upvote counts +1 and a downvote -1 in each of the question's labels."""
    return _score(changes, lambda change: vote_score_moves(change.old, change.new))


@per_batch
def score_experts_for_helpful_mark(changes: Sequence[Change]) -> BatchFailures:
    """HelpfulMarks stream: a helpful mark counts +1 in each of the product's labels."""
    return _score(changes, lambda change: helpful_score_moves(change.old, change.new))


@dataclass(frozen=True)
class Score:
    """One (user, label) expert score: `score += sum(deltas)`; a delta is (points, record's ms)."""

    user_id: str
    label: str
    gone_if_false: bool = False  # no condition: the first move creates the score

    def write(self, transaction: Transaction, label: str, deltas: Sequence[Any]) -> bool:
        total = sum(points for points, _ in deltas)
        latest = max(at_ms for _, at_ms in deltas)
        transaction.update(label, ExpertScore(self.user_id, self.label), actions=[
            ExpertScore.score.add(total),
            ExpertScore.updated_at.set(iso(datetime.fromtimestamp(latest / 1000, tz=UTC))),
            ExpertScore.leaderboard_key.set(leaderboard_key(self.label, self.user_id)),
        ])
        return True


def _score(changes: Sequence[Change], moves_of) -> BatchFailures:
    moved: dict[tuple[str, str], list[Change]] = {}

    def moves(change: Change) -> Iterable[tuple[SummedTarget, str, Any]]:
        if is_erasure(change):  # an erased account's votes and marks: the scores they gave stand
            return
        for (user_id, label), delta in moves_of(change).items():
            moved.setdefault((user_id, label), []).append(change)
            yield Score(user_id, label), change.effect_id(f"expert-score:{user_id}:{label}"), (delta, change.created_ms)

    failed = sum_changes_once(changes, moves)
    for (user_id, label), by in moved.items():
        if any(change.sequence_number in failed for change in by):
            continue  # its record comes again: the level is raised then
        try:
            raise_level(user_id, label, at_ms=max(change.created_ms for change in by))
        except Exception as exc:
            failed.update(dict.fromkeys((change.sequence_number for change in by), exc))
    return failed


def move_scores(moves: dict[tuple[str, str], int], change: Change) -> None:
    """One record's moves, applied exactly once (its levels raised and notified)."""
    failed = _score([change], lambda _: moves)
    for error in failed.values():
        raise error


def raise_level(user_id: str, label: str, *, at_ms: int) -> None:
    """The level the score has reached (never lower), and a notice for each level not yet notified."""
    (item,) = batch_get([(ExpertScore, user_id, label)], consistent=True)
    if item is None:
        return
    level = int(item.level or 0)
    reached = raised_level(level, int(item.score or 0))
    raised_at = int(item.level_raised_at or at_ms)
    if reached > level:
        raised_at = at_ms
        level_now = ExpertScore.level == level
        if level == 0:
            level_now = level_now | ExpertScore.level.does_not_exist()
        if not update_if(ExpertScore(user_id, label), actions=[ExpertScore.level.set(reached),
                                                               ExpertScore.level_raised_at.set(raised_at)],
                         condition=level_now):
            return  # raised meanwhile by another batch, which notifies
        level = reached
    notified = int(item.notified_level or 0)
    if level <= notified:
        return
    mark_level_on_profile(user_id, label, level)
    for step in range(notified + 1, level + 1):
        notify(user_id, "expert_level", {"label": label, "level": step},
               cause=f"expert-level:{user_id}:{label}:{step}", at_ms=raised_at)
    update_if(ExpertScore(user_id, label), actions=[ExpertScore.notified_level.set(level)],
              condition=ExpertScore.user_id.exists())


def mark_level_on_profile(user_id: str, label: str, level: int) -> None:
    """Keep a reached level on the profile, for the user card (read with the profile, no Query).

    A set ADD: the same mark twice (a replay) changes nothing, and marks of one label landing in
    any order leave the highest visible. A user without a profile (erased) gets no stub.
    """
    update_if(UserProfile(user_id), actions=[UserProfile.expert_levels.add({level_mark(label, level)})],
              condition=UserProfile.user_id.exists())


def leaderboard(label: str, page: PageRequest) -> Page:
    """Highest score first: one Query per shard of the label's leaderboard (4, in parallel), merged,
    then one batched read of the experts' cards."""
    from chalicelib.services.cards import CardRead
    from chalicelib.services.profiles import display_name_of

    partitions = leaderboard_partitions(label)
    listing = ShardedList(
        model=ExpertScore,
        shard_partitions=[{"leaderboard_key": key} for key in partitions],
        key_names=frozenset({"user_id", "label", "leaderboard_key", "score"}),
        order_key=lambda row: int(row.score),
    )

    def query_shard(shard: int, start: dict | None, limit: int):
        return ExpertScore.leaderboard.query(partitions[shard], ExpertScore.score > 0, scan_index_forward=False,
                                             limit=limit, last_evaluated_key=start)

    rows, next_cursor = read_sharded_page(listing, query_shard, page)
    read = CardRead(user_ids=[row.user_id for row in rows])
    keys = read.keys()
    found = batch_get(keys) if keys else []  # the profiles and stores of the cards
    profiles = dict(zip(read.user_ids, found[:len(read.user_ids)], strict=True))
    cards = read.build(found).users
    items = [
        {
            "user_id": row.user_id,
            "display_name": display_name_of(profiles[row.user_id], row.user_id),
            "user": cards[row.user_id],
            "label": row.label,
            "score": int(row.score),
            "level": int(row.level or 0),
        }
        for row in rows
    ]
    return Page(items=items, next_cursor=next_cursor)
