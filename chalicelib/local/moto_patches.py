"""Corrections to moto where it departs from DynamoDB in ways the local stack and the suite notice.

`roll_back_transactions_by_key`: before every TransactWriteItems moto deep-copies each table the
transaction names, items and stream records included, and when the transaction is cancelled it
puts the copies in place of the tables. Two things went wrong with that:

- the cost: every stream effect is a transaction with its marker in AppliedEffects, whose items and
  stream records only grow, so each transaction cost more the longer the stack ran (a burst of 9
  answer votes took 18 s to reach the author's balance on a stack that had run for a while: three
  transactions a vote, each copying AppliedEffects whole);
- the stream: after a rollback, shard iterators already handed out still pointed at the *old*
  shard object, which no longer received records, so every reader of that table's stream went
  silent for good, without an error (any replayed `apply_once` marker, any 409 from a guarded
  transaction, triggered it).

The patch has moto's copy keep only what the transaction can change (the items at its keys, and
how many records each table's stream held) and, on a rollback, puts exactly that back on the same
table object: iterators keep reading, and the cancelled transaction leaves no items and no records,
as in DynamoDB.
"""

from __future__ import annotations

import copy
import threading

_transaction = threading.local()  # the keys of the TransactWriteItems this thread is running, by table


class RollbackPoint:
    """What moto keeps of a table during one transaction: the items at the transaction's keys, as they
    were, and how many records the table's stream held. `restore` puts them back on the same table."""

    def __init__(self, table, keys: list[dict]):
        self.table = table
        self.stream_length = len(table.stream_shard.items) if table.stream_shard is not None else None
        self.items = []
        for key in keys:
            hash_value, range_value = _key_values(table, key)
            if hash_value is None:
                continue
            current = table.get_item(hash_value, range_value) if (range_value or not table.has_range_key) else None
            self.items.append((hash_value, range_value, copy.deepcopy(current)))

    def restore(self):
        table = self.table
        for hash_value, range_value, item in reversed(self.items):
            if range_value is not None:
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        if self.stream_length is not None:
            del table.stream_shard.items[self.stream_length:]
        return table


def _key_values(table, key: dict):
    from moto.dynamodb.models.dynamo_type import DynamoType

    if table.hash_key_attr not in key:
        return None, None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    return hash_value, range_value


def _transaction_keys(backend, transact_items: list[dict]) -> dict[str, list[dict]]:
    keys: dict[str, list[dict]] = {}
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        if op_type == "Put":
            item = op.get("Item") or {}
            key = {name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name in item}
        else:
            key = op.get("Key") or {}
        keys.setdefault(table.name, []).append(key)
    return keys


def roll_back_transactions_by_key() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table, "rolls_back_by_key", False):
        return

    def deepcopy_table(self, memo):
        keys = getattr(_transaction, "keys", None)
        if keys is not None:  # moto's backup of a table before a transaction
            return RollbackPoint(self, keys.get(self.name, []))
        clone = self.__class__.__new__(self.__class__)  # any other copy (a backup, a restore) is whole
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items, *args, **kwargs):
        _transaction.keys = _transaction_keys(self, transact_items)
        try:
            return original(self, transact_items, *args, **kwargs)
        finally:
            _transaction.keys = None
            for name, table in list(self.tables.items()):
                if isinstance(table, RollbackPoint):
                    self.tables[name] = table.restore()

    Table.__deepcopy__ = deepcopy_table
    Table.rolls_back_by_key = True
    DynamoDBBackend.transact_write_items = transact_write_items


def apply_all() -> None:
    roll_back_transactions_by_key()
