"""Counts the DynamoDB write calls that touch chosen items: how many transactions and single writes
a counter, tally or notice item took (a botocore hook on the one client every model shares)."""

from __future__ import annotations

import threading
from collections.abc import Callable

_WRITES = ("TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem")


class WritesTo:
    """`with WritesTo(UserProfile, lambda key: key["user_id"] == star) as writes: ...; writes.calls`

    A call counts once however many of its items match (a transaction writing the item is one)."""

    def __init__(self, model, key: Callable[[dict], bool] | None = None):
        self.table_name = model.Meta.table_name
        self.key = key
        self.calls = 0
        self._lock = threading.Lock()

    def _matches(self, request: dict) -> bool:
        from boto3.dynamodb.types import TypeDeserializer

        if request.get("TableName") != self.table_name:
            return False
        attributes = request.get("Key") or request.get("Item") or {}
        deserializer = TypeDeserializer()
        return self.key is None or bool(self.key({k: deserializer.deserialize(v) for k, v in attributes.items()}))

    def _count(self, params=None, model=None, **kwargs) -> None:
        if model is None or params is None:
            return
        if model.name == "TransactWriteItems":
            requests = [request for entry in params.get("TransactItems") or [] for request in entry.values()]
        else:
            requests = [params]
        if any(self._matches(request) for request in requests):
            with self._lock:
                self.calls += 1

    def __enter__(self) -> WritesTo:
        from chalicelib.models.base import connection

        events = connection().client.meta.events
        for operation in _WRITES:
            events.register(f"before-parameter-build.dynamodb.{operation}", self._count,
                            unique_id=f"writes-to-{id(self)}-{operation}")
        return self

    def __exit__(self, *exc_info) -> None:
        from chalicelib.models.base import connection

        events = connection().client.meta.events
        for operation in _WRITES:
            events.unregister(f"before-parameter-build.dynamodb.{operation}",
                              unique_id=f"writes-to-{id(self)}-{operation}")
