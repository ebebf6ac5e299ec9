"""The batch half of the dispatch, and how summed effects are packed into transactions: from plain
`Change` values, no AWS."""

from __future__ import annotations

from chalicelib.domain.changes import Change, inserted, is_batch_effect, per_batch
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
