"""Exactly-once effects on an at-least-once stream.

An effect (a counter move, a ledger entry) is written in one transaction with a marker item whose
key names the effect's cause; the marker's put is conditional on it not existing, so a record
delivered twice finds its marker and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.ids import epoch_seconds
from chalicelib.models.effects import EFFECT_TTL_SECONDS, AppliedEffect
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict

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
