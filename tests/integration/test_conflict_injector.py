"""The conflict injector answers as DynamoDB does under contention, on the chosen items only."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from chalicelib.models.base import connection
from chalicelib.models.points import Wallet
from chalicelib.models.transactions import Transaction, TransactionFailed
from tests.support.conflicts import ConflictInjector


def _credit(*user_ids: str) -> None:
    with Transaction() as transaction:
        for user_id in user_ids:
            transaction.update(user_id, Wallet(user_id), actions=[Wallet.balance.add(1)])


def _balance(user_id: str) -> int:
    try:
        return int(Wallet.get(user_id, consistent_read=True).balance)
    except Wallet.DoesNotExist:
        return 0


def test_a_transaction_touching_a_chosen_item_is_cancelled_with_that_items_reason(tables):
    with ConflictInjector() as conflicts:
        rule = conflicts.cancel(Wallet, lambda key: key["user_id"] == "hot")
        # When a transaction writes a cold wallet and the hot one, in that order
        with pytest.raises(ClientError) as raised:
            connection().client.transact_write_items(TransactItems=[
                {"Update": Wallet("cold").get_update_kwargs_from_instance(actions=[Wallet.balance.add(1)])},
                {"Update": Wallet("hot").get_update_kwargs_from_instance(actions=[Wallet.balance.add(1)])},
            ])
        # Then it is cancelled as DynamoDB cancels it: TransactionConflict on the hot item only
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == ["None", "TransactionConflict"]
        # And through the unit of work it is a conflict, not a condition, and nothing was written
        with pytest.raises(TransactionFailed) as failed:
            _credit("cold", "hot")
        assert failed.value.conflict and failed.value.retryable and not failed.value.failed
        # A transaction on other items goes through
        _credit("cold", "warm")
    assert (_balance("cold"), _balance("warm"), _balance("hot")) == (1, 1, 0)
    assert (rule.matched, rule.injected) == (2, 2)


def test_conditional_single_writes_of_a_chosen_item_fail_with_transaction_conflict(tables):
    with ConflictInjector() as conflicts:
        conflicts.cancel(Wallet, lambda key: key["user_id"] == "hot", transactions=False)
        with pytest.raises(PutError) as raised:
            Wallet("hot", balance=5).save(condition=Wallet.user_id.does_not_exist())
        assert raised.value.cause_response_code == "TransactionConflictException"
        Wallet("hot", balance=7).save()  # unconditional: left alone unless asked
        Wallet("cold", balance=3).save(condition=Wallet.user_id.does_not_exist())
        _credit("hot")  # transactions were not chosen
    assert (_balance("hot"), _balance("cold")) == (8, 3)


def test_unconditional_writes_can_be_chosen_too(tables):
    with ConflictInjector() as conflicts:
        conflicts.cancel("jianghu-test-wallets", conditional_only=False, transactions=False)
        with pytest.raises(PutError):
            Wallet("any", balance=1).save()
    assert _balance("any") == 0


def test_first_n_refuses_exactly_the_first_n_matching_calls(tables):
    with ConflictInjector() as conflicts:
        rule = conflicts.cancel(Wallet, first=3)
        outcomes = []
        for _ in range(5):
            try:
                _credit("hot")
                outcomes.append("ok")
            except TransactionFailed:
                outcomes.append("conflict")
    assert outcomes == ["conflict"] * 3 + ["ok"] * 2
    assert (rule.matched, rule.injected, _balance("hot")) == (5, 3, 2)


def test_a_rate_refuses_about_that_share_and_counts_what_it_refused(tables):
    with ConflictInjector(seed=11) as conflicts:
        rule = conflicts.cancel(Wallet, rate=0.3)
        refused = 0
        for _ in range(60):
            try:
                _credit("hot")
            except TransactionFailed:
                refused += 1
    assert rule.injected == refused and rule.matched == 60
    assert 5 <= refused <= 35
    assert _balance("hot") == 60 - refused


def test_removed_it_changes_nothing(tables):
    conflicts = ConflictInjector().install()
    conflicts.cancel(Wallet)
    conflicts.remove()
    _credit("hot")
    assert _balance("hot") == 1 and conflicts.injected == 0
