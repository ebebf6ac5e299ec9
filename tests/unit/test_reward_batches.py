"""How a batch's reward steps are split into wallet transactions: at most 99 causes each, in order."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.points import Award, Transition
from chalicelib.models.points import StandingAward
from chalicelib.services.rewards import CAUSES_PER_TRANSACTION, Step, _applied, _chunks

AT = datetime(2026, 11, 11, tzinfo=UTC)


def _step(cause: str, sequence: str = "1") -> Step:
    return Step(Transition("author", cause, Award(10, "answer_upvoted", capped=True), "a1"), f"e:{cause}", AT,
                sequence)


def test_150_voters_are_two_transactions_of_99_and_51_causes():
    chunks = _chunks([_step(f"vote#a1#v{n}") for n in range(150)])
    assert [len(chunk) for chunk in chunks] == [CAUSES_PER_TRANSACTION, 150 - CAUSES_PER_TRANSACTION] == [99, 51]


def test_a_cause_moved_again_in_the_batch_costs_no_more_room():
    steps = [_step(f"vote#a1#v{n}") for n in range(99)] + [_step("vote#a1#v0", "2"), _step("vote#a1#v100", "3")]
    chunks = _chunks(steps)
    assert [len(chunk) for chunk in chunks] == [100, 1]


def test_a_record_at_or_below_the_standing_awards_last_sequence_is_applied():
    standing = StandingAward("author#standing#0", "vote#a1#v1", amount=10, reason="answer_upvoted", day="2026-11-11",
                             last_sequence="1200")
    assert _applied(standing, "1200") and _applied(standing, "999")
    assert not _applied(standing, "1201") and not _applied(standing, None)
