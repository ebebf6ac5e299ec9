"""One unit of work for DynamoDB transactions, and the one retry rule for optimistic conflicts.

A `Transaction` collects labelled writes (put, update, delete, condition check), each with an
optional condition, and sends them as ONE TransactWriteItems, in the order they were added, through
the shared botocore client. When DynamoDB cancels it, `TransactionFailed` names the labels whose
conditions were false and says whether contention (another transaction on one of the items) was the
cause. This module is the only one that reads cancellation reasons; nobody else needs to know the
order in which items are sent.

`retry_on_conflict` is the one policy for optimistic concurrency: an attempt that lost a race (a
`TransactionConflict`, a single-item `TransactionConflictException`, or a condition marked
`retry_if_false` because it checked what the attempt had read) is run again after an exponential
backoff with full jitter, a bounded number of times. When the attempts run out it raises `Busy`
(503 with `Retry-After`): a request answers that instead of a 500, and a stream record fails and is
delivered again by its event source mapping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chalicelib.errors import Busy
from chalicelib.models.base import connection

T = TypeVar("T")

MAX_ITEMS = 100  # DynamoDB's limit of items in one TransactWriteItems

#: Cancellation reasons that say "another writer was there", not "a condition was false".
CONTENTION_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
#: Error codes of a single-item write (or a whole call) refused for the same reason.
CONTENTION_ERRORS = frozenset({"TransactionConflictException", "TransactionInProgressException"})

ATTEMPTS = 8  # tries of one unit of work before `Busy`
BASE_DELAY_SECONDS = 0.02
MAX_DELAY_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1

_random = random.Random()


@dataclass(frozen=True)
class _Operation:
    label: str
    kind: str  # Put | Update | Delete | ConditionCheck (the TransactItems member)
    request: dict
    retry_if_false: bool


class TransactionFailed(Exception):
    """A cancelled transaction: which labels' conditions were false, and whether it lost a race.

    `failed` holds the labels whose condition was false; `conflict` is True when DynamoDB cancelled
    it because of contention on some item. `retryable` says whether running the unit of work again
    may succeed: it lost a race, or every false condition was one marked `retry_if_false`.
    """

    def __init__(self, failed: frozenset[str], conflict: bool, retry_labels: frozenset[str]):
        self.failed = failed
        self.conflict = conflict
        self.retryable = bool(failed or conflict) and failed <= retry_labels
        parts = [f"conditions false: {', '.join(sorted(failed))}"] if failed else []
        if conflict:
            parts.append("cancelled by a conflicting write")
        super().__init__("transaction cancelled (" + "; ".join(parts or ["no reason given"]) + ")")

    def failed_on(self, *labels: str) -> bool:
        """Was the condition of any of `labels` false?"""
        return not self.failed.isdisjoint(labels)


class Transaction:
    """Labelled writes committed together; `with Transaction() as t:` commits when the block ends.

    A label names a part of the unit of work for its failure ("campaign", "wallet", "marker");
    several operations may share one. `retry_if_false=True` marks a condition that only checks the
    attempt's own reads (an optimistic lock) or guards a random key against a collision: its failure
    means "run the unit of work again", not a refusal.
    """

    def __init__(self) -> None:
        self._operations: list[_Operation] = []

    def __len__(self) -> int:
        return len(self._operations)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()

    def _add(self, label: str, kind: str, request: dict, retry_if_false: bool) -> None:
        self._operations.append(_Operation(label, kind, request, retry_if_false))

    def put(self, label: str, item, condition=None, *, retry_if_false: bool = False) -> None:
        self._add(label, "Put", item.get_save_kwargs_from_instance(condition=condition), retry_if_false)

    def update(self, label: str, item, actions: list, condition=None, *, retry_if_false: bool = False) -> None:
        request = item.get_update_kwargs_from_instance(actions=actions, condition=condition)
        self._add(label, "Update", request, retry_if_false)

    def delete(self, label: str, item, condition=None, *, retry_if_false: bool = False) -> None:
        self._add(label, "Delete", item.get_delete_kwargs_from_instance(condition=condition), retry_if_false)

    def check(self, label: str, model: type, hash_key, range_key=None, *, condition,
              retry_if_false: bool = False) -> None:
        """A condition on an item that is not written."""
        request = model.get_operation_kwargs_from_class(hash_key, range_key=range_key, condition=condition)
        self._add(label, "ConditionCheck", request, retry_if_false)

    def commit(self) -> None:
        """Send every operation as one TransactWriteItems; `TransactionFailed` if DynamoDB cancels it."""
        from botocore.exceptions import ClientError

        if not self._operations:
            return
        if len(self._operations) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} items, not {len(self._operations)}")
        items = [{operation.kind: operation.request} for operation in self._operations]
        try:
            connection().client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc) -> Exception:
        """The cancellation as labels, or `exc` itself when it is not a cancellation we can name."""
        error = exc.response.get("Error", {})
        if error.get("Code") in CONTENTION_ERRORS:
            return TransactionFailed(frozenset(), True, frozenset())
        if error.get("Code") != "TransactionCanceledException":
            return exc
        codes = [(reason or {}).get("Code") or "None" for reason in exc.response.get("CancellationReasons") or []]
        if len(codes) != len(self._operations):
            return exc
        failed, conflict = set(), False
        for operation, code in zip(self._operations, codes, strict=True):
            if code == "ConditionalCheckFailed":
                failed.add(operation.label)
            elif code in CONTENTION_REASONS:
                conflict = True
            elif code != "None":
                return exc  # a ValidationError or a size limit: a defect to see, not a refusal to decode
        retry_labels = frozenset(op.label for op in self._operations if op.retry_if_false)
        return TransactionFailed(frozenset(failed), conflict, retry_labels)


def is_conflict(exc: BaseException) -> bool:
    """Did this attempt lose a race (so that running it again may succeed)?"""
    if isinstance(exc, TransactionFailed):
        return exc.retryable
    code = getattr(exc, "cause_response_code", None)  # PynamoDB's errors of single-item writes
    if code is None:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")  # botocore's ClientError
    return code in CONTENTION_ERRORS


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt 0 is the first retry)."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
    return (rng or _random).uniform(0, ceiling)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def retry_on_conflict(attempt: Callable[[], T], *, what: str = "this item") -> T:
    """`attempt()`, run again while it loses races, at most `ATTEMPTS` times; then `Busy`.

    `attempt` must be safe to run again from the start: it re-reads what it depends on and builds
    a fresh `Transaction`. Any other exception (a refusal, a domain error) passes straight through.
    """
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except Exception as exc:
            if not is_conflict(exc):
                raise
            last = exc
        if number + 1 < ATTEMPTS:
            _pause(backoff_seconds(number))
    raise Busy(f"Too many writers are changing {what} right now; try again",
               retry_after=RETRY_AFTER_SECONDS) from last
