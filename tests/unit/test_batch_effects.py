"""The batch half of the dispatch, and how summed effects are packed into transactions: from plain
`Change` values, no AWS."""

from __future__ import annotations

from chalicelib.domain.changes import Change, inserted, is_batch_effect, per_batch, removed
from chalicelib.models.transactions import MAX_ITEMS
from chalicelib.services.effects import MARKERS_PER_TRANSACTION, Counter, _packed, _Unit
from chalicelib.streams.events import run_effects

FOLLOW = {"follower_id": "fan", "followee_id": "star"}


def _batch(count: int) -> list[Change]:
    return [inserted("Follows", {**FOLLOW, "follower_id": f"fan{n}"}, sequence_number=str(n)) for n in range(count)]


def test_a_batch_effect_runs_once_at_its_place_and_record_effects_run_in_record_order():
    seen: list[tuple[str, str]] = []

    def before(change: Change) -> None:
        seen.append(("before", change.sequence_number))

    @per_batch
    def summed(changes):
        seen.append(("summed", ",".join(c.sequence_number for c in changes)))
        return {}

    def after(change: Change) -> None:
        seen.append(("after", change.sequence_number))

    def after_too(change: Change) -> None:
        seen.append(("after_too", change.sequence_number))

    assert is_batch_effect(summed) and not is_batch_effect(before)
    assert run_effects((before, summed, after, after_too), _batch(2)) == {}
    assert seen == [("before", "0"), ("before", "1"), ("summed", "0,1"),
                    ("after", "0"), ("after_too", "0"), ("after", "1"), ("after_too", "1")]


def test_the_records_a_batch_effect_fails_skip_the_effects_after_it_and_are_reported():
    later: list[str] = []
    boom = RuntimeError("busy")

    @per_batch
    def summed(changes):
        return {"1": boom}

    def after(change: Change) -> None:
        later.append(change.sequence_number)

    failed = run_effects((summed, after), _batch(3))
    assert failed == {"1": boom}
    assert later == ["0", "2"]
    assert any("summed" in note for note in boom.__notes__)


def test_a_batch_effect_that_raises_fails_every_record_it_was_given_and_a_record_effect_only_its_record():
    def broken_for_fan1(change: Change) -> None:
        if change.item["follower_id"] == "fan1":
            raise ValueError("bad record")

    @per_batch
    def broken(changes):
        raise RuntimeError("down")

    failed = run_effects((broken_for_fan1, broken), _batch(3))
    assert set(failed) == {"0", "1", "2"}
    assert isinstance(failed["1"], ValueError) and isinstance(failed["0"], RuntimeError)
    # the batch effect was given only the records still live
    given: list[list[str]] = []

    @per_batch
    def records(changes):
        given.append([c.sequence_number for c in changes])
        return {}

    run_effects((broken_for_fan1, records), _batch(3))
    assert given == [["0", "2"]]


def _unit(key: str, records: int) -> _Unit:
    return _Unit(Counter(object, key, "count"), [(f"{key}:{n}", 1) for n in range(records)])


def test_keys_are_packed_into_transactions_of_at_most_100_items_never_one_key_twice():
    hot = [_unit("star", MARKERS_PER_TRANSACTION), _unit("star", 3)]
    cold = [_unit(f"fan{n}", 1) for n in range(120)]
    transactions = _packed([*hot, *cold])
    for units in transactions:
        assert sum(1 + len(unit.entries) for unit in units) <= MAX_ITEMS
        targets = [unit.target for unit in units]
        assert len(targets) == len(set(targets))
    # the hot key's 99 records fill one transaction; its remaining 3 share one with the first cold keys
    assert [len(units) for units in transactions][:2] == [1, 1 + 48]
    assert sum(len(unit.entries) for units in transactions for unit in units) == 99 + 3 + 120


# -- what each summed effect adds to its keys, from plain changes ----------------------------------
def test_a_follow_moves_two_counters_each_with_its_own_marker():
    from chalicelib.models.users import UserProfile
    from chalicelib.services import graph_effects

    moves = graph_effects.follow_counter_moves(inserted("Follows", FOLLOW, sequence_number="7"))
    assert moves == [(Counter(UserProfile, "fan", "following_count"), "follow-count-following_count:Follows:7", 1),
                     (Counter(UserProfile, "star", "follower_count"), "follow-count-follower_count:Follows:7", 1)]


def test_follows_of_one_second_share_a_notice_and_a_follower_is_counted_once_a_day():
    from datetime import UTC, datetime, timedelta

    from chalicelib.services import graph_effects

    noon = datetime(2024, 5, 1, 12, tzinfo=UTC)

    def follow(fan: str, at: datetime, sequence: str) -> Change:
        return inserted("Follows", {**FOLLOW, "follower_id": fan}, sequence_number=sequence, created_at=at)

    first = graph_effects.follower_notice_moves(follow("fan", noon, "1"))
    same_second = graph_effects.follower_notice_moves(follow("fan2", noon + timedelta(milliseconds=999), "2"))
    again_later = graph_effects.follower_notice_moves(follow("fan", noon + timedelta(hours=1), "3"))
    ((notice, effect_id, follower),) = first
    assert notice == same_second[0][0] == graph_effects.FollowerNotice("star", int(noon.timestamp() * 1000))
    assert follower == "fan"
    # the same follower later that day: another second's notice, but the same exactly-once key
    assert again_later[0][0] != notice and again_later[0][1] == effect_id
    assert graph_effects.follower_notice_moves(removed("Follows", FOLLOW)) == []


def test_circle_answer_and_helpful_counts_move_by_one_per_record():
    from chalicelib.models.advice import Question, Review
    from chalicelib.models.groups import Group
    from chalicelib.services import advice_effects, groups

    member = {"group_id": "g1", "user_id": "u1", "role": "member"}
    assert groups.member_count_moves(removed("GroupMembers", member, sequence_number="4")) == [
        (Counter(Group, "g1", "member_count"), "group-member-count:GroupMembers:4", -1)]
    assert groups.member_count_moves(inserted("GroupMembers", {**member, "role": "owner"})) == []
    reply = {"answer_id": "A1", "question_id": "Q1"}
    assert advice_effects.answer_count_moves(inserted("Answers", reply, sequence_number="5")) == [
        (Counter(Question, "Q1", "answer_count"), "answer-count:Answers:5", 1)]
    mark = {"review_id": "R1", "user_id": "u1"}
    assert advice_effects.helpful_count_moves(removed("HelpfulMarks", mark, sequence_number="6")) == [
        (Counter(Review, "R1", "helpful_count"), "helpful-count:HelpfulMarks:6", -1)]


def test_vote_changes_sum_to_the_tallies_they_move():
    from chalicelib.domain.advice import VoteDelta
    from chalicelib.domain.changes import modified
    from chalicelib.services import advice_effects

    vote = {"answer_id": "A1", "voter_id": "v", "value": 1}
    changes = [inserted("AnswerVotes", vote, sequence_number="1"),
               modified("AnswerVotes", vote, {**vote, "value": -1}, sequence_number="2"),
               inserted("AnswerVotes", {**vote, "voter_id": "w"}, sequence_number="3"),
               modified("AnswerVotes", vote, vote, sequence_number="4")]
    moves = [move for change in changes for move in advice_effects.vote_tally_moves(change)]
    assert {target for target, _, _ in moves} == {advice_effects.AnswerTally("A1")}
    assert [effect_id for _, effect_id, _ in moves] == [f"vote-tally:AnswerVotes:{n}" for n in (1, 2, 3)]
    # up, then up -> down, then another up: score +1 - 2 + 1, one up and one down standing
    assert advice_effects.summed_votes([delta for _, _, delta in moves]) == VoteDelta(score=0, upvotes=1,
                                                                                      downvotes=1)


def test_handlers_that_sum_read_big_batches_with_a_window():
    import app
    from chalicelib.streams.events import MIXED_BATCH_SIZE, SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS

    sources = {source.name: source for source in app.app.event_sources if hasattr(source, "batch_size")}
    expected = {"count_group_members": SUMMED_BATCH_SIZE, "tally_coupon_stock": SUMMED_BATCH_SIZE,
                "update_follow_graph": MIXED_BATCH_SIZE, "track_answers": MIXED_BATCH_SIZE,
                "tally_answer_votes": MIXED_BATCH_SIZE, "tally_helpful_marks": MIXED_BATCH_SIZE,
                "count_live_activity": SUMMED_BATCH_SIZE}
    for name, size in expected.items():
        assert sources[name].batch_size == size, name
        assert sources[name].maximum_batching_window_in_seconds == SUMMED_BATCH_WINDOW_SECONDS, name
        assert any(is_batch_effect(effect) for effect in _effects(name)), name


def _effects(name: str):
    from chalicelib.streams import advice, coupons, graph, groups, live

    for module in (advice, coupons, graph, groups, live):
        if hasattr(module, name):
            return getattr(module, name).func.effects
    raise LookupError(name)
