"""A conflict injector: DynamoDB's answers under contention, which moto never gives.

Under contention DynamoDB cancels a TransactWriteItems that touches an item another transaction
holds (`TransactionCanceledException`, reason `TransactionConflict` on that item, `None` on the
others) and refuses a single-item write to such an item (`TransactionConflictException`). Nothing
is written in either case. `ConflictInjector` gives those answers for chosen items, through a
botocore event hook on the one client every model shares (`chalicelib.models.base.connection()`),
so the real service code, its retries included, runs against them:

    with ConflictInjector(seed=7) as conflicts:
        rule = conflicts.cancel(Post, lambda key: key["post_id"] == post_id, rate=0.5)
        ...  # requests, stream drains
    assert rule.injected > 0

A rule picks calls by table (a model class or a table name) and an optional predicate on the
item's key (for a put, its attributes; plain Python values), and injects at `rate` (seeded) and,
if `first` is given, only into the first `first` calls it matches.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
_EVENT_PREFIXES = ("before-parameter-build", "before-call")
_OPERATIONS = ("TransactWriteItems", *SINGLE_WRITES)
_STASH = "injected_conflict"  # the request context key carrying a decision from one hook to the next


def _plain(attributes: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in attributes.items()}


@dataclass
class Rule:
    """Which calls to refuse; `matched` and `injected` count the calls it saw and refused."""

    table: object  # a PynamoDB model class or a physical table name
    key: Callable[[dict], bool] | None = None
    rate: float = 1.0
    first: int | None = None
    transactions: bool = True
    single_writes: bool = True
    conditional_only: bool = True  # single writes: only those with a ConditionExpression
    matched: int = 0
    injected: int = 0

    @property
    def table_name(self) -> str:
        return self.table if isinstance(self.table, str) else self.table.Meta.table_name

    def touches(self, table_name: str, attributes: dict) -> bool:
        return table_name == self.table_name and (self.key is None or bool(self.key(_plain(attributes))))


class ConflictInjector:
    """Refuses chosen DynamoDB writes the way contention does; a context manager that installs itself."""

    def __init__(self, client=None, *, seed: int = 0):
        self._client = client
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.rules: list[Rule] = []
        self._installed = False

    @property
    def client(self):
        if self._client is None:
            from chalicelib.models.base import connection

            self._client = connection().client
        return self._client

    @property
    def injected(self) -> int:
        return sum(rule.injected for rule in self.rules)

    def cancel(self, table, key: Callable[[dict], bool] | None = None, *, rate: float = 1.0, first: int | None = None,
               transactions: bool = True, single_writes: bool = True, conditional_only: bool = True) -> Rule:
        """Refuse writes of `table` items for which `key(item key)` holds, at `rate`, for the first `first`."""
        rule = Rule(table, key, rate, first, transactions, single_writes, conditional_only)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    # -- installing -------------------------------------------------------------------------------
    def install(self) -> ConflictInjector:
        if not self._installed:
            events = self.client.meta.events
            for operation in _OPERATIONS:
                events.register(f"before-parameter-build.dynamodb.{operation}", self._decide,
                                unique_id=f"conflicts-decide-{id(self)}-{operation}")
                events.register(f"before-call.dynamodb.{operation}", self._answer,
                                unique_id=f"conflicts-answer-{id(self)}-{operation}")
            self._installed = True
        return self

    def remove(self) -> None:
        if self._installed:
            events = self.client.meta.events
            for operation in _OPERATIONS:
                events.unregister(f"before-parameter-build.dynamodb.{operation}",
                                  unique_id=f"conflicts-decide-{id(self)}-{operation}")
                events.unregister(f"before-call.dynamodb.{operation}",
                                  unique_id=f"conflicts-answer-{id(self)}-{operation}")
            self._installed = False

    def __enter__(self) -> ConflictInjector:
        return self.install()

    def __exit__(self, *exc_info) -> None:
        self.remove()

    # -- the hooks --------------------------------------------------------------------------------
    def _decide(self, params=None, model=None, context=None, **kwargs) -> None:
        """`before-parameter-build`: choose, from the plain parameters, whether this call is refused."""
        if model is None or context is None or params is None:
            return
        if model.name == "TransactWriteItems":
            error = self._cancel_transaction(params)
        else:
            error = self._refuse_single_write(params)
        if error is not None:
            context[_STASH] = error

    def _answer(self, model=None, context=None, **kwargs):
        """`before-call`: answer a refused call with its error, instead of sending it."""
        from botocore.awsrequest import AWSResponse

        error = (context or {}).pop(_STASH, None)
        if error is None:
            return None
        return AWSResponse("https://dynamodb.injected", 400, {}, None), error

    def _fires(self, rule: Rule) -> bool:
        """Called under the lock for a rule that matched a call."""
        rule.matched += 1
        if rule.first is not None and rule.matched > rule.first:
            return False
        if self._random.random() >= rule.rate:
            return False
        rule.injected += 1
        return True

    def _cancel_transaction(self, params: dict) -> dict | None:
        items = []
        for entry in params.get("TransactItems") or []:
            ((_, request),) = entry.items()
            items.append((request["TableName"], request.get("Key") or request.get("Item") or {}))
        with self._lock:
            hit: set[int] = set()
            for rule in self.rules:
                if not rule.transactions:
                    continue
                touched = {index for index, (table, key) in enumerate(items) if rule.touches(table, key)}
                if touched and self._fires(rule):
                    hit |= touched
        if not hit:
            return None
        reasons = [{"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE} if index in hit else {"Code": "None"}
                   for index in range(len(items))]
        codes = ", ".join(reason["Code"] for reason in reasons)
        return _error("TransactionCanceledException",
                      f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                      CancellationReasons=reasons)

    def _refuse_single_write(self, params: dict) -> dict | None:
        table, key = params.get("TableName", ""), params.get("Key") or params.get("Item") or {}
        with self._lock:
            fired = False
            for rule in self.rules:
                if not rule.single_writes or (rule.conditional_only and "ConditionExpression" not in params):
                    continue
                if rule.touches(table, key) and self._fires(rule):
                    fired = True
        if not fired:
            return None
        return _error("TransactionConflictException", CONFLICT_MESSAGE)


def _error(code: str, message: str, **fields) -> dict:
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}, **fields}
