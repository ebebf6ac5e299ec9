"""The unit of work's failure vocabulary and the one retry rule, from plain values (no AWS)."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from chalicelib.errors import Busy
from chalicelib.models import transactions
from chalicelib.models.points import Wallet
from chalicelib.models.transactions import Transaction, TransactionFailed, is_conflict, retry_on_conflict


def _cancelled(*codes: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]}, "TransactWriteItems")


def _three_part_transaction() -> Transaction:
    transaction = Transaction()
    transaction.update("campaign", Wallet("a"), actions=[Wallet.balance.add(-1)], condition=Wallet.balance > 0)
    transaction.put("coupon", Wallet("b"), condition=Wallet.user_id.does_not_exist(), retry_if_false=True)
    transaction.check("buyer", Wallet, "c", condition=Wallet.user_id.exists())
    return transaction


def test_cancellation_reasons_become_labels_in_the_order_operations_were_added():
    failure = _three_part_transaction()._failure(_cancelled("None", "None", "ConditionalCheckFailed"))
    assert isinstance(failure, TransactionFailed)
    assert failure.failed == {"buyer"} and failure.failed_on("buyer", "x") and not failure.failed_on("coupon")
    assert not failure.conflict and not failure.retryable


def test_a_conflict_is_not_a_false_condition_and_is_worth_retrying():
    failure = _three_part_transaction()._failure(_cancelled("TransactionConflict", "None", "None"))
    assert failure.failed == frozenset() and failure.conflict and failure.retryable


def test_only_conditions_marked_retry_if_false_make_a_failure_retryable():
    collision = _three_part_transaction()._failure(_cancelled("None", "ConditionalCheckFailed", "None"))
    assert collision.retryable
    refusal_too = _three_part_transaction()._failure(
        _cancelled("ConditionalCheckFailed", "ConditionalCheckFailed", "TransactionConflict"))
    assert refusal_too.failed == {"campaign", "coupon"} and refusal_too.conflict and not refusal_too.retryable


def test_errors_that_are_not_refusals_are_left_as_they_are():
    transaction = _three_part_transaction()
    validation = _cancelled("ValidationError", "None", "None")
    assert transaction._failure(validation) is validation
    short = _cancelled("None")
    assert transaction._failure(short) is short
    other = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "TransactWriteItems")
    assert transaction._failure(other) is other


def test_single_item_conflicts_are_recognised_from_pynamodb_and_botocore():
    conflict = ClientError({"Error": {"Code": "TransactionConflictException", "Message": "x"}}, "PutItem")
    assert is_conflict(conflict) and is_conflict(PutError("failed", conflict))
    condition = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")
    assert not is_conflict(condition) and not is_conflict(PutError("failed", condition))
    assert not is_conflict(ValueError("conflict"))


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(transactions.MAX_DELAY_SECONDS, transactions.BASE_DELAY_SECONDS * 2**attempt)
        delays = [transactions.backoff_seconds(attempt, rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert min(delays) < ceiling / 4 and max(delays) > ceiling * 3 / 4  # spread over the whole range


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(transactions, "_pause", slept.append)
    return slept


def _conflict() -> TransactionFailed:
    return TransactionFailed(frozenset(), True, frozenset())


def test_an_attempt_that_loses_races_is_run_again_until_it_wins(pauses):
    outcomes = iter([_conflict(), _conflict(), "done"])

    def attempt():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retry_on_conflict(attempt) == "done"
    assert len(pauses) == 2


def test_when_the_attempts_run_out_it_is_busy_with_retry_after(pauses):
    calls = []

    def attempt():
        calls.append(1)
        raise _conflict()

    with pytest.raises(Busy) as raised:
        retry_on_conflict(attempt, what="this poll")
    assert len(calls) == transactions.ATTEMPTS and len(pauses) == transactions.ATTEMPTS - 1
    assert raised.value.status == 503 and raised.value.code == "Busy"
    assert raised.value.headers == {"Retry-After": str(transactions.RETRY_AFTER_SECONDS)}
    assert "this poll" in raised.value.message and isinstance(raised.value.__cause__, TransactionFailed)


def test_refusals_and_other_errors_pass_straight_through(pauses):
    refusal = TransactionFailed(frozenset({"campaign"}), False, frozenset())
    for error in (refusal, KeyError("x")):
        def attempt(error=error):
            raise error

        with pytest.raises(type(error)) as raised:
            retry_on_conflict(attempt)
        assert raised.value is error
    assert pauses == []


def test_an_empty_transaction_sends_nothing_and_an_oversized_one_is_refused():
    Transaction().commit()  # no AWS call is made: none is configured in this test
    transaction = Transaction()
    for index in range(transactions.MAX_ITEMS + 1):
        transaction.update(f"w{index}", Wallet(f"u{index}"), actions=[Wallet.balance.add(1)])
    with pytest.raises(ValueError, match="at most 100"):
        transaction.commit()
