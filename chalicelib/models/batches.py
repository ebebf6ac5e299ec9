"""Batched writes of one table (BatchWriteItem), the write-side counterpart of `base.batch_get`."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from chalicelib.domain.feed import BATCH_WRITE_LIMIT, backoff_seconds, chunks, unique_by

MAX_BATCH_ATTEMPTS = 8


def _key_of(item) -> dict:
    model = type(item)
    data = item.serialize(null_check=False)
    names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    return {name: data[name] for name in names}


def write_batches(model, puts: Iterable = (), deletes: Iterable = (), items: Iterable[dict] = ()) -> int:
    """Write `puts` and `deletes` (models) and `items` (already DynamoDB JSON) of one table in
    BatchWriteItem chunks of 25; return calls made.

    Unprocessed items (throttling) are sent again after an exponential, jittered backoff; a chunk
    still unprocessed after `MAX_BATCH_ATTEMPTS` raises, and the stream redelivers the record,
    which rewrites the same keys.
    """
    key_names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    requests = [{"PutRequest": {"Item": item}} for item in items]
    requests += [{"PutRequest": {"Item": item.serialize()}} for item in puts]
    requests += [{"DeleteRequest": {"Key": _key_of(item)}} for item in deletes]

    def signature(request: dict) -> tuple:
        key = request["DeleteRequest"]["Key"] if "DeleteRequest" in request else request["PutRequest"]["Item"]
        return tuple(next(iter(key[name].values())) for name in key_names)

    requests = unique_by(requests, key=signature)
    if not requests:
        return 0
    table = model.Meta.table_name
    client = model._get_connection().connection.client
    calls = 0
    for chunk in chunks(requests, BATCH_WRITE_LIMIT):
        pending = chunk
        attempt = 0
        while pending:
            attempt += 1
            if attempt > MAX_BATCH_ATTEMPTS:
                raise RuntimeError(f"BatchWriteItem on {table} kept returning unprocessed items")
            if attempt > 1:
                time.sleep(backoff_seconds(attempt - 1, jitter=random.random()))
            response = client.batch_write_item(RequestItems={table: pending})
            calls += 1
            pending = (response.get("UnprocessedItems") or {}).get(table) or []
    return calls
