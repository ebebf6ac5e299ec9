"""Corrections to moto where it departs from DynamoDB in ways the local stack and the suite notice.

`keep_stream_shards_on_rollback`: when a TransactWriteItems is cancelled (a condition failed),
moto restores every table it touched from a deep copy taken before the transaction, stream shard
included. Shard iterators already handed out still point at the *old* shard object, which no
longer receives records, so every reader of that table's stream goes silent for good, without an
error. (Any replayed `apply_once` marker, any 409 from a guarded transaction, triggers it.) The
patch puts the original shard object back into the restored table, holding the restored records,
so iterators keep reading and the cancelled transaction leaves no records, as in DynamoDB.
"""

from __future__ import annotations


def keep_stream_shards_on_rollback() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "keeps_stream_shards", False):
        return

    def transact_write_items(self, *args, **kwargs):
        before = dict(self.tables)
        try:
            return original(self, *args, **kwargs)
        finally:
            for name, old_table in before.items():
                restored = self.tables.get(name)
                if restored is None or restored is old_table:
                    continue
                shard, restored_shard = old_table.stream_shard, restored.stream_shard
                if shard is None or restored_shard is None:
                    continue
                shard.items = restored_shard.items
                shard.table = restored
                restored.stream_shard = shard

    transact_write_items.keeps_stream_shards = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items


def apply_all() -> None:
    keep_stream_shards_on_rollback()
