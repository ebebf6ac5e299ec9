"""Exactly-once effects on an at-least-once stream.

An effect (a counter move, a ledger entry) is written in one transaction with a marker item whose
key names the effect's cause; the marker's put is conditional on it not existing, so a record
delivered twice finds its marker and changes nothing.

Summed per batch (`sum_once`, `add_counts_once`, `sum_changes_once`): the effects of a batch's
records on one key (a counter, a tally, a grouped notice) become ONE write of the key, in one
transaction with every record's marker. A replayed record finds its marker: that transaction is
cancelled naming it, the record is dropped and the rest written again. So a key costs one
transaction per batch (per `MARKERS_PER_TRANSACTION` records), not one per record, and every record
counts exactly once however batches are split, retried or replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.changes import BatchFailures, Change
from chalicelib.domain.ids import epoch_seconds
from chalicelib.models.effects import EFFECT_TTL_SECONDS, AppliedEffect
from chalicelib.models.transactions import MAX_ITEMS, Transaction, TransactionFailed, retry_on_conflict

MARKER = "marker"  # the label of the effect's marker in its transaction


def commit_once(effect_id: str, transaction: Transaction) -> bool:
    """Commit `transaction` together with the marker `effect_id`; False, nothing written, if it exists.

    `transaction` holds at most 99 operations. Any other failure is raised as `TransactionFailed`,
    for the caller to read its own labels (or for `retry_on_conflict` to run the attempt again).
    """
    marker = AppliedEffect(effect_id, expires_at=epoch_seconds() + EFFECT_TTL_SECONDS)
    transaction.put(MARKER, marker, condition=AppliedEffect.effect_id.does_not_exist())
    try:
        transaction.commit()
    except TransactionFailed as exc:
        if exc.failed_on(MARKER):
            return False
        raise
    return True


def apply_once(effect_id: str, write: Callable[[Transaction], None]) -> bool:
    """Commit what `write(transaction)` adds, with the marker `effect_id`; False if already applied.

    Run under the one conflict rule: each attempt calls `write` on a fresh transaction. A condition
    of the caller's own that fails is raised as `TransactionFailed` (its labels say which).
    """

    def attempt() -> bool:
        transaction = Transaction()
        write(transaction)
        return commit_once(effect_id, transaction)

    return retry_on_conflict(attempt, what=effect_id.split(":", 1)[0])


def move_counter(effect_id: str, model, key, attribute, delta: int) -> bool:
    """`attribute += delta` on an existing item, exactly once per `effect_id`.

    The item must exist: a counter on a deleted item is dropped rather than re-creating a stub
    item holding only the counter. False if already applied or the item is gone.
    """
    hash_attribute = getattr(model, model._hash_keyname)

    def write(transaction: Transaction) -> None:
        transaction.update("counter", model(key), actions=[attribute.add(delta)], condition=hash_attribute.exists())

    try:
        return apply_once(effect_id, write)
    except TransactionFailed as exc:
        if exc.failed_on("counter"):
            return False
        raise


# -- summed per batch -------------------------------------------------------------------------------
MARKERS_PER_TRANSACTION = MAX_ITEMS - 1  # a key's update and up to 99 records' markers


class SummedTarget(Hashable, Protocol):
    """A key that records' effects are summed into (a counter, a tally, a grouped notice).

    `write` adds ONE write of the key to `transaction`, under `label`, for `deltas` (the records'
    deltas, in order); it returns False, adding nothing, when the key's item is gone (its records
    are then dropped: nothing to count on). When the write's condition fails, `gone_if_false` says
    whether that means the item is gone (drop the key) or the attempt lost a race (a
    `retry_if_false` condition: read and write again).
    """

    @property
    def gone_if_false(self) -> bool: ...

    def write(self, transaction: Transaction, label: str, deltas: Sequence[Any]) -> bool: ...


@dataclass(frozen=True)
class Counter:
    """`attribute += sum(deltas)` on an existing item of `model` (a counter on a deleted item is dropped
    rather than re-creating a stub item holding only the counter)."""

    model: Any
    key: Any
    attribute_name: str
    gone_if_false: bool = True

    def write(self, transaction: Transaction, label: str, deltas: Sequence[Any]) -> bool:
        total = sum(deltas)
        if total:  # a net zero writes only the markers: the records still count as applied
            hash_attribute = getattr(self.model, self.model._hash_keyname)
            attribute = getattr(self.model, self.attribute_name)
            transaction.update(label, self.model(self.key), actions=[attribute.add(total)],
                               condition=hash_attribute.exists())
        return True


@dataclass
class _Unit:
    """One key's write with the markers of up to `MARKERS_PER_TRANSACTION` of its records."""

    target: SummedTarget
    entries: list[tuple[str, Any]]  # (effect id, delta), in the records' order


def sum_once(entries: Mapping[SummedTarget, Sequence[tuple[str, Any]]]) -> dict[str, BaseException]:
    """Write each target once for the deltas of its effects not yet applied; exactly once per effect id.

    `entries` maps a target to its (effect id, delta) pairs in order. An effect id listed more than
    once counts once (its first listing). Keys are packed into transactions of at most `MAX_ITEMS`
    items, a key's records `MARKERS_PER_TRANSACTION` at a time. Returns the effect ids that could not
    be written (a transaction that failed for good: out of conflict retries, or an error), with why;
    the caller fails their records so they are delivered again.
    """
    seen: set[str] = set()
    units: list[_Unit] = []
    for target, pairs in entries.items():
        fresh = []
        for effect_id, delta in pairs:
            if effect_id not in seen:
                seen.add(effect_id)
                fresh.append((effect_id, delta))
        for start in range(0, len(fresh), MARKERS_PER_TRANSACTION):
            units.append(_Unit(target, fresh[start:start + MARKERS_PER_TRANSACTION]))
    failed: dict[str, BaseException] = {}
    for batch in _packed(units):
        try:
            _commit_units(batch)
        except Exception as exc:
            failed.update(dict.fromkeys((effect_id for unit in batch for effect_id, _ in unit.entries), exc))
    return failed


def _packed(units: list[_Unit]) -> list[list[_Unit]]:
    """Units in transactions of at most `MAX_ITEMS` items, never two of one key in one transaction."""
    transactions: list[list[_Unit]] = []
    sizes: list[int] = []
    for unit in units:
        size = 1 + len(unit.entries)
        if not transactions or sizes[-1] + size > MAX_ITEMS or any(u.target == unit.target for u in transactions[-1]):
            transactions.append([])
            sizes.append(0)
        transactions[-1].append(unit)
        sizes[-1] += size
    return transactions


def _commit_units(units: list[_Unit]) -> None:
    """One transaction: each unit's write and its markers. Markers found (a replay) and keys found
    gone are dropped and the rest sent again; a lost race runs under the one conflict rule."""
    marker_expiry = epoch_seconds() + EFFECT_TTL_SECONDS

    def attempt() -> None:
        while True:
            transaction = Transaction()
            for number, unit in enumerate(units):
                if not unit.entries:
                    continue
                if not unit.target.write(transaction, f"key:{number}", [delta for _, delta in unit.entries]):
                    unit.entries = []  # the item is gone: nothing to count on
                    continue
                for index, (effect_id, _) in enumerate(unit.entries):
                    transaction.put(f"{MARKER}:{number}:{index}", AppliedEffect(effect_id, expires_at=marker_expiry),
                                    condition=AppliedEffect.effect_id.does_not_exist())
            try:
                transaction.commit()
                return
            except TransactionFailed as exc:
                if not _drop_failed(units, exc):
                    raise

    retry_on_conflict(attempt, what="summed counters")


def _drop_failed(units: list[_Unit], exc: TransactionFailed) -> bool:
    """Drop the records whose markers exist and the keys whose items are gone; did anything go?"""
    applied: dict[int, set[int]] = {}
    gone: set[int] = set()
    for label in exc.failed:
        kind, *numbers = label.split(":")
        if kind == MARKER:
            applied.setdefault(int(numbers[0]), set()).add(int(numbers[1]))
        elif kind == "key" and units[int(numbers[0])].target.gone_if_false:
            gone.add(int(numbers[0]))
    for number in gone:
        units[number].entries = []
    for number, indexes in applied.items():
        unit = units[number]
        unit.entries = [entry for index, entry in enumerate(unit.entries) if index not in indexes]
    return bool(applied or gone)


def add_counts_once(deltas: Mapping[tuple[Any, Any, str], Sequence[tuple[str, int]]]) -> dict[str, BaseException]:
    """`{(model, key, attribute name): [(effect id, delta), ...]}`: each counter moved once by the sum of
    the deltas whose effect ids were not applied yet (see `sum_once`). Returns the effect ids that failed."""
    return sum_once({Counter(model, key, attribute): pairs for (model, key, attribute), pairs in deltas.items()})


#: What one record does to summed keys: (target, effect id, delta) for each key it moves.
Moves = Callable[[Change], Iterable[tuple[SummedTarget, str, Any]]]


def sum_changes_once(changes: Sequence[Change], moves_of: Moves) -> BatchFailures:
    """A batch effect's body: every change's moves summed per target (`sum_once`), and the records
    whose effects could not be written, for the dispatch to report and have delivered again."""
    entries: dict[SummedTarget, list[tuple[str, Any]]] = {}
    records_of: dict[str, list[str]] = {}
    for change in changes:
        for target, effect_id, delta in moves_of(change):
            entries.setdefault(target, []).append((effect_id, delta))
            records_of.setdefault(effect_id, []).append(change.sequence_number)
    failed: BatchFailures = {}
    for effect_id, exc in sum_once(entries).items():
        failed.update(dict.fromkeys(records_of[effect_id], exc))
    return failed
