"""Exactly-once effects on an at-least-once stream.

An effect (a counter move, a ledger entry) is written in one transaction with a marker item whose
key names the effect's cause; the marker's put is conditional on it not existing, so a record
delivered twice finds its marker and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.ids import epoch_seconds
from chalicelib.models.base import connection
from chalicelib.models.effects import EFFECT_TTL_SECONDS, AppliedEffect


def apply_once(effect_id: str, write: Callable) -> bool:
    """Run `write(transaction)` together with the marker `effect_id`; False if already applied.

    `write` adds at most 99 operations to the PynamoDB TransactWrite it is given. A condition of
    the caller's own that fails is re-raised as the TransactWriteError it is.
    """
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    marker = AppliedEffect(effect_id, expires_at=epoch_seconds() + EFFECT_TTL_SECONDS)
    marker_index = 0
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(marker, condition=AppliedEffect.effect_id.does_not_exist())
            write(transaction)
            # PynamoDB sends condition checks, then deletes, then puts: the marker is the first put
            marker_index = len(transaction._condition_check_items) + len(transaction._delete_items)
    except TransactWriteError as exc:
        if is_condition_failure(exc, index=marker_index):
            return False
        raise
    return True


def is_condition_failure(exc, index: int | None = None) -> bool:
    """Did the transaction fail on a condition (of the item at `index`, if given)?"""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    if index is None:
        return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)
    return len(reasons) > index and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed"


def move_counter(effect_id: str, model, key, attribute, delta: int) -> bool:
    """`attribute += delta` on an existing item, exactly once per `effect_id`.

    The item must exist: a counter on a deleted item is dropped rather than re-creating a stub
    item holding only the counter. False if already applied or the item is gone.
    """
    from pynamodb.exceptions import TransactWriteError

    hash_attribute = getattr(model, model._hash_keyname)

    def write(transaction) -> None:
        transaction.update(model(key), actions=[attribute.add(delta)], condition=hash_attribute.exists())

    try:
        return apply_once(effect_id, write)
    except TransactWriteError as exc:
        if is_condition_failure(exc, index=1):  # the marker is put first, the update follows
            return False
        raise
