"""Rules of purchase advice, without AWS: answer ranks, vote arithmetic, label keys."""

import random
from collections import Counter

import pytest

from chalicelib.domain.advice import (
    QUESTION_INDEX_SHARDS,
    acceptance_moves,
    answer_rank,
    created_at_of,
    label_keys,
    question_index_keys,
    question_list_partitions,
    review_guard_key,
    vote_delta,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.sharded_lists import MAX_SHARDS_PER_PAGE, shard_of


def _rank(accepted, score, at_ms):
    return answer_rank(accepted=accepted, score=score, answer_id=new_id(at_ms))


def test_accepted_answer_sorts_before_any_score():
    assert _rank(True, -50, 2_000) < _rank(False, 10**6, 1_000)


def test_higher_score_sorts_first_including_negative_scores():
    scores = [5, -1, 0, 12, -30, 1, -2, 999_999]
    ranks = sorted((_rank(False, s, 1_000), s) for s in scores)
    assert [s for _, s in ranks] == sorted(scores, reverse=True)


def test_equal_scores_sort_older_first():
    older, newer = _rank(False, 3, 1_000), _rank(False, 3, 2_000)
    assert older < newer


def test_random_answers_sort_accepted_then_score_then_age():
    rng = random.Random(4)
    answers = [(rng.random() < 0.1, rng.randint(-20, 20), rng.randint(0, 10**12)) for _ in range(300)]
    by_rank = sorted(answers, key=lambda a: _rank(*a))
    assert by_rank == sorted(answers, key=lambda a: (not a[0], -a[1], a[2]))


def test_extreme_scores_are_clamped_not_broken():
    huge, tiny = _rank(False, 10**15, 1), _rank(False, -(10**15), 1)
    assert huge < _rank(False, 0, 1) < tiny
    assert len(huge) == len(tiny)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (0, 1, (1, 1, 0)),
        (0, -1, (-1, 0, 1)),
        (1, 0, (-1, -1, 0)),
        (-1, 0, (1, 0, -1)),
        (1, -1, (-2, -1, 1)),
        (-1, 1, (2, 1, -1)),
        (1, 1, (0, 0, 0)),
        (0, 0, (0, 0, 0)),
    ],
)
def test_vote_delta_moves_by_the_difference(old, new, expected):
    delta = vote_delta(old, new)
    assert (delta.score, delta.upvotes, delta.downvotes) == expected
    assert delta.is_zero == (expected == (0, 0, 0))


def test_any_sequence_of_votes_sums_to_the_final_vote():
    rng = random.Random(9)
    for _ in range(100):
        values = [0] + [rng.choice((-1, 0, 1)) for _ in range(rng.randint(1, 10))]
        total = sum(vote_delta(a, b).score for a, b in zip(values, values[1:], strict=False))
        assert total == values[-1]


def test_vote_delta_refuses_other_values():
    with pytest.raises(ValueError):
        vote_delta(0, 2)


def test_label_keys_list_each_label_once_plus_all():
    def kind_key(label):
        return f"question#{label or '*'}"

    assert label_keys(kind_key, ["camera", "phone", "camera"]) == [
        "question#camera", "question#phone", "question#*"]
    assert label_keys(kind_key, ["makeup"]) == ["question#makeup", "question#*"]


def test_a_question_is_indexed_in_one_shard_of_each_of_its_lists():
    # Given a question with two labels (one repeated)
    question_id = new_id()
    # When its index keys are made
    keys = question_index_keys(question_id, ["camera", "phone", "camera"])
    # Then it is in the same shard of the camera, phone and "all" lists, and that shard is read
    shard = shard_of(question_id, QUESTION_INDEX_SHARDS)
    assert keys == [f"question#camera#{shard}", f"question#phone#{shard}", f"question#*#{shard}"]
    assert keys[0] in question_list_partitions("camera")
    assert keys[-1] in question_list_partitions(None)
    assert len(question_list_partitions("camera")) == QUESTION_INDEX_SHARDS <= MAX_SHARDS_PER_PAGE


def test_questions_spread_over_every_shard():
    shards = Counter(shard_of(new_id(), QUESTION_INDEX_SHARDS) for _ in range(2_000))
    assert set(shards) == set(range(QUESTION_INDEX_SHARDS))
    assert max(shards.values()) < 2_000 / QUESTION_INDEX_SHARDS * 1.25  # near even: no hot shard


def test_review_guard_key_is_per_user_and_product():
    assert review_guard_key("p1", "u1") == review_guard_key("p1", "u1")
    assert review_guard_key("p1", "u1") != review_guard_key("p1", "u2")
    assert review_guard_key("p1", "u1") != review_guard_key("p2", "u1")


def test_acceptance_moves():
    assert acceptance_moves(None, "a") == (None, True)
    assert acceptance_moves("a", "b") == ("a", True)
    assert acceptance_moves("a", "a") == (None, False)


def test_created_at_matches_the_id():
    assert created_at_of(new_id(1_700_000_000_123)) == "2023-11-14T22:13:20.123Z"
