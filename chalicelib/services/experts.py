"""Expert scores per label, levels that are reached and never lost, and the leaderboards.

A change moves (user, label) scores. The new scores and levels are written in ONE TransactWrite
with the effect marker, each conditional on the score that was read (so two streams moving the same
score never lose an update: the loser computes again). Whoever raises a level records itself in
`level_raised_by`; the `expert_level` notice is written after the transaction and, on a redelivery
that finds the marker, written again (same id) for any level this effect raised, so a crash between
the two cannot lose it.
"""

from __future__ import annotations

from chalicelib.domain.changes import Change
from chalicelib.domain.ids import iso
from chalicelib.domain.leaderboards import leaderboard_key, leaderboard_partitions
from chalicelib.domain.points import helpful_score_moves, level_mark, raised_level, vote_score_moves
from chalicelib.models.base import batch_get, update_if
from chalicelib.models.points import ExpertScore
from chalicelib.models.sharded import ShardedList, read_sharded_page
from chalicelib.models.transactions import Transaction, retry_on_conflict
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.services.effects import commit_once
from chalicelib.services.notifications import notify


def score_experts_for_vote(change: Change) -> None:
    """AnswerVotes stream: an upvote counts +1 and a downvote -1 in each of the question's labels."""
    move_scores(vote_score_moves(change.old, change.new), change)


def score_experts_for_helpful_mark(change: Change) -> None:
    """HelpfulMarks stream: a helpful mark counts +1 in each of the product's labels."""
    move_scores(helpful_score_moves(change.old, change.new), change)


def _read(user_id: str, label: str) -> ExpertScore | None:
    try:
        return ExpertScore.get(user_id, label, consistent_read=True)
    except ExpertScore.DoesNotExist:
        return None


def move_scores(moves: dict[tuple[str, str], int], change: Change) -> None:
    if not moves:
        return
    effect_id = change.effect_id("expert-score")
    now = iso(change.created_at)

    def attempt() -> tuple[bool, list[tuple[str, str, int]]]:
        raised: list[tuple[str, str, int]] = []
        transaction = Transaction()
        for (user_id, label), delta in moves.items():
            item = _read(user_id, label)
            score = int(item.score or 0) if item else 0
            level = int(item.level or 0) if item else 0
            new_score = score + delta
            new_level = raised_level(level, new_score)
            actions = [
                ExpertScore.score.set(new_score),
                ExpertScore.level.set(new_level),
                ExpertScore.updated_at.set(now),
                ExpertScore.leaderboard_key.set(leaderboard_key(label, user_id)),
            ]
            if new_level > level:
                actions.append(ExpertScore.level_raised_by.set(effect_id))
                raised.append((user_id, label, new_level))
            condition = ExpertScore.score == score if item else ExpertScore.user_id.does_not_exist()
            transaction.update("score", ExpertScore(user_id, label), actions=actions, condition=condition,
                               retry_if_false=True)
        return commit_once(effect_id, transaction), raised

    applied, raised = retry_on_conflict(attempt, what="expert scores")
    if not applied:
        raised = [
            (user_id, label, int(item.level))
            for (user_id, label) in moves
            if (item := _read(user_id, label)) is not None and item.level_raised_by == effect_id
        ]
    for user_id, label, level in raised:
        mark_level_on_profile(user_id, label, level)
        notify(user_id, "expert_level", {"label": label, "level": level},
               cause=f"{effect_id}:{user_id}:{label}", at_ms=change.created_ms)


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
