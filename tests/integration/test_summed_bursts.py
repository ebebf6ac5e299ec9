"""Bursts on one key land as one write of the key per batch, exactly, under chaos, a full replay of
the streams and injected conflicts (Double-11 rules: counters that streams keep are summed per
batch). Items are written straight to their tables, as the routes write them, so a burst of a
hundred costs no hundred sign-ups; the stream runner delivers them to the real handlers."""

from __future__ import annotations

import pytest

from chalicelib.domain.ids import now_iso
from chalicelib.models import transactions
from chalicelib.models.advice import Answer, AnswerVote
from chalicelib.models.graph import Follow
from chalicelib.models.groups import Group, GroupMember
from chalicelib.models.notifications import Notification
from chalicelib.models.users import UserProfile
from tests.support.advice import answer, ask
from tests.support.conflicts import ConflictInjector
from tests.support.writes import WritesTo

BURST = 150  # more than one transaction's 99 markers: two writes of the hot key per batch
CHAOS_BURST = 100  # still two transactions a batch, when chaos leaves a batch whole


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The retry rule's backoffs, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(transactions, "_pause", slept.append)
    return slept


def _replay_everything(tables) -> None:
    """A second runner from the start of every stream: every record delivered again."""
    from app import app
    from chalicelib.local.stream_runner import StreamRunner

    runner = StreamRunner(app, tables.session, chaos=True, seed=11)
    runner.drain()
    assert not runner.set_aside


def _item(model, **key):
    return lambda item: all(item.get(name) == value for name, value in key.items())


# -- follow surge ---------------------------------------------------------------------------------
def _follow_surge(fans: int) -> None:
    UserProfile("star", display_name="Star").save()
    for n in range(fans):
        UserProfile(f"fan{n}", display_name=f"Fan {n}").save()
    with Follow.batch_write() as batch:
        for n in range(fans):
            batch.save(Follow(f"fan{n}", "star", created_at=now_iso()))


def _follow_counts(fans: int) -> tuple[int, list[int]]:
    star = int(UserProfile.get("star", consistent_read=True).follower_count)
    following = [int(UserProfile.get(f"fan{n}", consistent_read=True).following_count) for n in range(fans)]
    return star, following


def _counted_followers(notices) -> int:
    """Followers the star's `new_follower` notices count (the read-state item is not a notice)."""
    return sum(int(n.count or 1) for n in notices if n.type == "new_follower")


def test_a_follow_surge_is_one_update_of_the_stars_profile_per_99_follows(tables, streams):
    _follow_surge(BURST)
    star_counter = WritesTo(UserProfile, _item(UserProfile, user_id="star"))
    star_notices = WritesTo(Notification, _item(Notification, user_id="star"))
    with star_counter, star_notices:
        streams.drain()
    assert _follow_counts(BURST) == (BURST, [1] * BURST)
    # one batch: the 150 follows of the star in two transactions (99 markers each at most), not 150
    assert star_counter.calls == 2
    notices = list(Notification.query("star"))
    assert _counted_followers(notices) == BURST
    assert star_notices.calls <= 2 * len(notices)  # one write per notice (per 99 of its followers)


def test_a_follow_surge_counts_exactly_under_chaos_and_a_full_replay(tables, chaos_streams):
    _follow_surge(CHAOS_BURST)
    chaos_streams.drain()
    assert _follow_counts(CHAOS_BURST) == (CHAOS_BURST, [1] * CHAOS_BURST)
    # and an unfollow of a third of them, then every record of every stream delivered again
    with Follow.batch_write() as batch:
        for n in range(0, CHAOS_BURST, 3):
            batch.delete(Follow(f"fan{n}", "star"))
    chaos_streams.drain()
    _replay_everything(tables)
    star, following = _follow_counts(CHAOS_BURST)
    assert star == CHAOS_BURST - len(range(0, CHAOS_BURST, 3))
    assert following == [0 if n % 3 == 0 else 1 for n in range(CHAOS_BURST)]
    # each follower told the star once: the grouped notices count every follower once
    assert _counted_followers(Notification.query("star")) == CHAOS_BURST


def test_a_follow_surge_counts_exactly_under_conflicts_on_the_stars_profile(tables, streams, pauses):
    _follow_surge(BURST)
    with ConflictInjector(seed=2) as conflicts:
        rule = conflicts.cancel(UserProfile, lambda key: key["user_id"] == "star", first=3)
        notices = conflicts.cancel(Notification, lambda key: key["user_id"] == "star", first=3)
        streams.drain()
    assert rule.injected == notices.injected == 3
    assert _follow_counts(BURST) == (BURST, [1] * BURST)
    assert _counted_followers(Notification.query("star")) == BURST


# -- circle join surge ----------------------------------------------------------------------------
def _join_surge(members: int) -> None:
    from chalicelib.domain.circles import directory_key

    Group("g1", name="Film", description="35mm", label="camera", owner_id="owner", member_count=1,
          created_at=now_iso(), directory_key=directory_key("g1")).save()  # listed, as create_group does
    with GroupMember.batch_write() as batch:
        for n in range(members):
            batch.save(GroupMember.of("g1", f"member{n}", joined_at=now_iso()))


def _members() -> int:
    return int(Group.get("g1", consistent_read=True).member_count)


def test_a_circle_join_surge_is_one_update_of_the_circle_per_99_joins(tables, streams):
    _join_surge(BURST)
    with WritesTo(Group, _item(Group, group_id="g1")) as writes:
        streams.drain()
    assert _members() == 1 + BURST
    assert writes.calls == 2


def test_a_circle_join_surge_counts_exactly_under_chaos_replay_and_conflicts(tables, chaos_streams, pauses):
    _join_surge(CHAOS_BURST)
    with ConflictInjector(seed=4) as conflicts:
        rule = conflicts.cancel(Group, lambda key: key["group_id"] == "g1", first=3)
        chaos_streams.drain()
        with GroupMember.batch_write() as batch:
            for n in range(0, CHAOS_BURST, 2):
                batch.delete(GroupMember.of("g1", f"member{n}"))
        chaos_streams.drain()
    assert rule.injected == 3
    _replay_everything(tables)
    assert _members() == 1 + CHAOS_BURST - CHAOS_BURST // 2


# -- answer-vote storm ----------------------------------------------------------------------------
@pytest.fixture
def hot_answer(client, users):
    asker, helper = users("asker"), users("helper")
    question = ask(client, asker)
    return answer(client, helper, question["question_id"]), question


def _storm(hot_answer, voters: int, value=lambda n: 1) -> None:
    reply, question = hot_answer
    with AnswerVote.batch_write() as batch:
        for n in range(voters):
            batch.save(AnswerVote.of(reply["answer_id"], f"voter{n}", value=value(n), author_id=reply["author_id"],
                                  question_id=question["question_id"], labels=question["labels"],
                                  updated_at=now_iso()))


def _tallies(answer_id: str) -> tuple[int, int, int]:
    item = Answer.get(answer_id, consistent_read=True)
    return int(item.score), int(item.upvotes), int(item.downvotes)


def test_an_answer_vote_storm_is_one_update_of_the_answer_per_99_votes(tables, streams, hot_answer):
    streams.drain()
    answer_id = hot_answer[0]["answer_id"]
    _storm(hot_answer, BURST)
    with WritesTo(Answer, _item(Answer, answer_id=answer_id)) as writes:
        streams.drain()
    assert _tallies(answer_id) == (BURST, BURST, 0)
    assert writes.calls == 2


def test_an_answer_vote_storm_tallies_exactly_under_chaos_replay_and_conflicts(tables, chaos_streams, hot_answer,
                                                                              pauses):
    answer_id = hot_answer[0]["answer_id"]
    _storm(hot_answer, CHAOS_BURST, value=lambda n: 1 if n % 4 else -1)
    with ConflictInjector(seed=6) as conflicts:
        rule = conflicts.cancel(Answer, lambda key: key["answer_id"] == answer_id, first=3)
        chaos_streams.drain()
        # a third change their minds: up to down, down withdrawn
        with AnswerVote.batch_write() as batch:
            for n in range(0, CHAOS_BURST, 3):
                batch.delete(AnswerVote.of(answer_id, f"voter{n}"))
        chaos_streams.drain()
    assert rule.injected == 3
    _replay_everything(tables)
    standing = [n for n in range(CHAOS_BURST) if n % 3]
    up = sum(1 for n in standing if n % 4)
    down = len(standing) - up
    assert _tallies(answer_id) == (up - down, up, down)
    rank = Answer.get(answer_id).rank
    from chalicelib.domain.advice import answer_rank

    assert rank == answer_rank(accepted=False, score=up - down, answer_id=answer_id)
