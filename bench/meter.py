"""The hot-key meter: every DynamoDB call's table, partition key, item bytes, GSIs touched, and the
write and read units DynamoDB bills for it.

Two halves:

* **Billing arithmetic** (pure functions, unit tested in `tests/unit/test_hotkey_meter.py`): item
  size as DynamoDB counts it (attribute names plus values), write units (1 KB, rounded up per item,
  at least 1), read units (4 KB, rounded up; eventually consistent reads half; Query by the total
  bytes it reads), transactions twice, BatchWriteItem per item, and the GSI writes of an item
  change (one per index whose projection changes, two when the index key changes).
* **Recording**: two botocore event hooks added to botocore's built-in handlers (as
  `bench/harness.py` does for its call counter), so the one shared client every PynamoDB model
  speaks through (`chalicelib.models.base.connection()`), and any boto3 client, is metered. The hook
  before a call reads the items it is about to change straight from the in-process moto backend
  (no DynamoDB call, so nothing else counts it); the hook after the call reads them again. Only an
  in-process moto world can be metered this way, which is what `make bench` runs on.

Charges are attributed to partitions: `table:hash-key value` for the table, `table/index:value`
for a GSI's partition. An item is `table:hash/range`.
"""

from __future__ import annotations

import base64
import contextlib
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import botocore.handlers

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
TRANSACTION_FACTOR = 2


# -- item sizes --------------------------------------------------------------------------------------
def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def number_size(text: str) -> int:
    """DynamoDB: about one byte per two significant digits, plus one (leading/trailing zeros trimmed)."""
    digits = text.strip().lstrip("+-").lower().split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    """Bytes of one attribute value in DynamoDB JSON (`{"S": "x"}`, `{"M": {...}}`, ...)."""
    (kind, raw), = value.items()
    if kind == "S":
        return _utf8(raw)
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(element) for element in raw)
    if kind == "NS":
        return sum(number_size(element) for element in raw)
    if kind == "BS":
        return sum(len(base64.b64decode(e)) if isinstance(e, str) else len(e) for e in raw)
    if kind == "L":  # 3 bytes for the list, 1 per element
        return 3 + sum(1 + value_size(element) for element in raw)
    if kind == "M":  # 3 bytes for the map, 1 per entry, and each entry's name
        return 3 + sum(1 + _utf8(name) + value_size(element) for name, element in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    """Bytes of an item as DynamoDB bills it: every attribute's name plus its value."""
    return sum(_utf8(name) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    """Standard write units of one item: 1 KB each, rounded up, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    """Read units of one read of `size` bytes (an item, or a Query's total): 4 KB each, rounded up,
    at least one; an eventually consistent read costs half."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


# -- table and index definitions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str  # the physical name
    label: str  # the template's suffix (`follows`), used in reports
    hash_key: str
    range_key: str | None
    indexes: tuple[Index, ...] = ()

    def key_of(self, item: dict) -> dict:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return {name: item[name] for name in names if name in item}

    def projected(self, index: Index, item: dict | None) -> dict | None:
        """The index entry of `item` (None when the item lacks the index's key attributes)."""
        if item is None or index.hash_key not in item or (index.range_key and index.range_key not in item):
            return None
        if index.projection == "ALL":
            return dict(item)
        keep = {self.hash_key, self.range_key, index.hash_key, index.range_key, *index.non_key_attributes}
        if index.projection == "KEYS_ONLY":
            keep -= set(index.non_key_attributes)
        return {name: value for name, value in item.items() if name in keep}


def _schema(key_schema: list[dict]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def tables_from_template(stack_name: str, template: dict | None = None) -> dict[str, Table]:
    """Every table of `infra/template.yaml` (physical name -> Table), with its GSIs."""
    from chalicelib.local.template import _resolve, load_template

    tables = {}
    for resource in (template or load_template())["Resources"].values():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = _resolve(resource["Properties"], {"AWS::StackName": stack_name})
        hash_key, range_key = _schema(props["KeySchema"])
        indexes = []
        for gsi in props.get("GlobalSecondaryIndexes", []):
            index_hash, index_range = _schema(gsi["KeySchema"])
            projection = gsi.get("Projection", {})
            indexes.append(Index(gsi["IndexName"], index_hash, index_range, projection.get("ProjectionType", "ALL"),
                                 tuple(projection.get("NonKeyAttributes", ()))))
        name = props["TableName"]
        label = name[len(stack_name) + 1:] if name.startswith(f"{stack_name}-") else name
        tables[name] = Table(name, label, hash_key, range_key, tuple(indexes))
    return tables


# -- charges -----------------------------------------------------------------------------------------
def _plain(value: dict) -> str:
    (_, raw), = value.items()
    return raw if isinstance(raw, str) else str(raw)


@dataclass(frozen=True)
class Charge:
    """Units billed against one partition by one call (an item write, an index write, a read)."""

    operation: str
    partition: str  # `table:hash` or `table/index:hash`
    item: str | None  # `table:hash/range` for item writes and key reads
    wcu: float = 0.0
    rcu: float = 0.0
    transactional: bool = False
    index_write: bool = False
    source: str = "request"  # "request", or the stream handler that made the call
    new_bytes: int = 0  # bytes of an item that did not exist before (storage)


def partition_of(table: Table, item_or_key: dict, index: Index | None = None) -> str:
    hash_key = index.hash_key if index else table.hash_key
    value = item_or_key.get(hash_key)
    where = f"{table.label}/{index.name}" if index else table.label
    return f"{where}:{_plain(value) if value else '?'}"


def item_of(table: Table, item_or_key: dict) -> str:
    hash_value = _plain(item_or_key[table.hash_key]) if table.hash_key in item_or_key else "?"
    if table.range_key and table.range_key in item_or_key:
        return f"{table.label}:{hash_value}/{_plain(item_or_key[table.range_key])}"
    return f"{table.label}:{hash_value}"


def index_writes(table: Table, old: dict | None, new: dict | None) -> list[tuple[Index, dict, int]]:
    """(index, the entry written or deleted, write units) for each GSI write an item change makes.

    An index whose key attributes the item gains is written once; one it loses is a delete (one
    write); a changed index key is a delete and a put (two writes); an entry whose projected
    attributes do not change is not written at all (KEYS_ONLY indexes skip most updates).
    """
    writes = []
    for index in table.indexes:
        before, after = table.projected(index, old), table.projected(index, new)
        if before is None and after is None:
            continue
        if before is not None and after is not None:
            same_key = all(before.get(k) == after.get(k) for k in (index.hash_key, index.range_key) if k)
            if same_key:
                if before != after:
                    writes.append((index, after, write_units(max(item_size(before), item_size(after)))))
                continue
            writes.append((index, before, write_units(item_size(before))))
            writes.append((index, after, write_units(item_size(after))))
        elif after is not None:
            writes.append((index, after, write_units(item_size(after))))
        else:
            writes.append((index, before, write_units(item_size(before))))
    return writes


def item_write_charges(operation: str, table: Table, old: dict | None, new: dict | None, *,
                       transactional: bool = False, applied: bool = True, source: str = "request") -> list[Charge]:
    """What one item write bills: the item (the larger of its sizes before and after, 1 KB units,
    twice in a transaction) and, when it took effect, its GSI writes (standard units).

    A write whose condition failed (or whose transaction was cancelled) still bills the item's
    units, at its current size, and writes no index.
    """
    key_source = new if new is not None else old
    if key_source is None:
        raise ValueError("an item write needs the item before or after it")
    factor = TRANSACTION_FACTOR if transactional else 1
    size = max(item_size(old), item_size(new)) if applied else item_size(old)
    charges = [Charge(operation, partition_of(table, key_source), item_of(table, key_source),
                      wcu=write_units(size) * factor, transactional=transactional, source=source,
                      new_bytes=item_size(new) if applied and old is None and new is not None else 0)]
    if applied:
        for index, entry, units in index_writes(table, old, new):
            charges.append(Charge(operation, partition_of(table, entry, index), None, wcu=units,
                                  index_write=True, source=source))
    return charges


def query_read_units(sizes: list[int], consistent: bool) -> float:
    """A Query or Scan bills the total bytes it read, not item by item."""
    return read_units(sum(sizes), consistent)


# -- the log -----------------------------------------------------------------------------------------
@dataclass
class MeterLog:
    charges: list[Charge] = field(default_factory=list)
    transactions: Counter = field(default_factory=Counter)  # item -> transactions that touched it
    calls: Counter = field(default_factory=Counter)  # API -> calls

    @property
    def wcu(self) -> float:
        return sum(charge.wcu for charge in self.charges)

    @property
    def rcu(self) -> float:
        return sum(charge.rcu for charge in self.charges)

    @property
    def new_bytes(self) -> int:
        return sum(charge.new_bytes for charge in self.charges)

    def by_partition(self, unit: str = "wcu") -> Counter:
        totals: Counter = Counter()
        for charge in self.charges:
            totals[charge.partition] += getattr(charge, unit)
        return Counter({key: value for key, value in totals.items() if value})

    def by_table(self) -> dict[str, dict[str, float]]:
        """WCU and RCU per table (index writes and reads counted under `table/index`)."""
        totals: dict[str, dict[str, float]] = defaultdict(lambda: {"wcu": 0.0, "rcu": 0.0})
        for charge in self.charges:
            table = charge.partition.split(":", 1)[0]
            totals[table]["wcu"] += charge.wcu
            totals[table]["rcu"] += charge.rcu
        return {name: {k: round(v, 2) for k, v in units.items()} for name, units in sorted(totals.items())}

    def by_source(self) -> dict[str, dict[str, float]]:
        totals: dict[str, dict[str, float]] = defaultdict(lambda: {"wcu": 0.0, "rcu": 0.0})
        for charge in self.charges:
            totals[charge.source]["wcu"] += charge.wcu
            totals[charge.source]["rcu"] += charge.rcu
        return {name: {k: round(v, 2) for k, v in units.items()} for name, units in sorted(totals.items())}

    def hottest(self, unit: str = "wcu") -> tuple[str | None, float]:
        totals = self.by_partition(unit)
        if not totals:
            return None, 0.0
        key, value = max(totals.items(), key=lambda pair: (pair[1], pair[0]))
        return key, value

    def hottest_transaction_item(self) -> tuple[str | None, int]:
        if not self.transactions:
            return None, 0
        key, value = max(self.transactions.items(), key=lambda pair: (pair[1], pair[0]))
        return key, value


# -- recording ---------------------------------------------------------------------------------------
_active: list[tuple[MeterLog, dict[str, Table]]] = []
_lock = threading.RLock()
_source = threading.local()
_CONTEXT_KEY = "bench_hotkey_meter"
WRITE_APIS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_APIS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"})


def current_source() -> str:
    return getattr(_source, "name", None) or "request"


@contextlib.contextmanager
def attributed_to(source: str):
    """Charges made inside the block are attributed to `source` (a stream handler's name)."""
    previous = getattr(_source, "name", None)
    _source.name = source
    try:
        yield
    finally:
        _source.name = previous


def attribute_stream_handlers(streams) -> None:
    """Wrap each subscription of a `StreamRunner` so its calls are charged to the handler's name."""
    for subscription in streams.subscriptions:
        if getattr(subscription.handler, "metered", False):
            continue

        def handler(event, context, _handler=subscription.handler, _name=subscription.name):
            with attributed_to(_name):
                return _handler(event, context)

        handler.metered = True  # type: ignore[attr-defined]
        subscription.handler = handler


def _backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.config import get_settings

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][get_settings().region]


def stored_item(table_name: str, key: dict) -> dict | None:
    """The item as moto holds it now, in DynamoDB JSON (read from the backend: no API call)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _backend().tables.get(table_name)
    if table is None:
        return None
    hash_value = key.get(table.hash_key_attr)
    if hash_value is None:
        return None
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    if table.range_key_attr and range_value is None:
        return None
    found = table.get_item(DynamoType(hash_value), DynamoType(range_value) if range_value else None)
    return _wire(found.to_json()["Attributes"]) if found is not None else None


def _wire(attributes: dict) -> dict:
    """moto's JSON (nested values may still be DynamoType) as plain DynamoDB JSON."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    def plain(value):
        if isinstance(value, DynamoType):
            return plain(value.to_json())
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        return value

    return {name: plain(value) for name, value in attributes.items()}


def _write_targets(operation: str, params: dict) -> list[tuple[str, dict, dict | None, bool]]:
    """(table, key, item put or None, is a ConditionCheck) for each item a write call addresses."""
    targets = []
    if operation == "PutItem":
        targets.append((params["TableName"], params["Item"], params["Item"], False))
    elif operation in ("UpdateItem", "DeleteItem"):
        targets.append((params["TableName"], params["Key"], None, False))
    elif operation == "BatchWriteItem":
        for table, requests in (params.get("RequestItems") or {}).items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    targets.append((table, item, item, False))
                else:
                    targets.append((table, request["DeleteRequest"]["Key"], None, False))
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems") or []:
            (kind, body), = entry.items()
            if kind == "Put":
                targets.append((body["TableName"], body["Item"], body["Item"], False))
            else:
                targets.append((body["TableName"], body["Key"], None, kind == "ConditionCheck"))
    return targets


def _before(params=None, model=None, context=None, **kwargs) -> None:
    if not _active or model is None or context is None or model.name not in WRITE_APIS | READ_APIS:
        return
    olds = []
    if model.name in WRITE_APIS:
        for table_name, key, _, _ in _write_targets(model.name, params or {}):
            olds.append(stored_item(table_name, key))
    context[_CONTEXT_KEY] = (model.name, params or {}, olds)


def _after(http_response=None, parsed=None, model=None, context=None, **kwargs) -> None:
    pending = (context or {}).pop(_CONTEXT_KEY, None)
    if not _active or pending is None:
        return
    operation, params, olds = pending
    status = getattr(http_response, "status_code", 200)
    error = (parsed or {}).get("Error", {}).get("Code") if status >= 300 else None
    with _lock:
        for log, tables in _active:
            log.calls[operation] += 1
            _charge(log, tables, operation, params, olds, parsed or {}, error)


def _conditional_failure(operation: str, error: str | None) -> bool:
    return error == "ConditionalCheckFailedException" or (
        operation == "TransactWriteItems" and error == "TransactionCanceledException")


def _charge(log: MeterLog, tables: dict[str, Table], operation: str, params: dict, olds: list,
            parsed: dict, error: str | None) -> None:
    source = current_source()
    if operation in WRITE_APIS:
        if error and not _conditional_failure(operation, error):
            return  # refused before any work (validation, throttling): nothing billed
        unprocessed = set()
        for table_name, requests in (parsed.get("UnprocessedItems") or {}).items():
            for request in requests:
                body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                unprocessed.add((table_name, item_of(tables[table_name], body)))
        transactional = operation == "TransactWriteItems"
        for (table_name, key, put, is_check), old in zip(_write_targets(operation, params), olds, strict=True):
            table = tables.get(table_name)
            if table is None or (table_name, item_of(table, key)) in unprocessed:
                continue
            applied = error is None and not is_check
            if operation == "DeleteItem" or (operation == "BatchWriteItem" and put is None):
                new = None
            elif put is not None:
                new = put
            else:
                new = stored_item(table_name, key) if applied else old
            if not applied or (old is None and new is None):
                # a refused write, a ConditionCheck, or deleting an absent item: billed at the item's
                # current size (at least one unit), no index written
                old, new, applied = (old if old is not None else table.key_of(key)), None, False
            log.charges += item_write_charges(operation, table, old, new,
                                              transactional=transactional, applied=applied, source=source)
            if transactional:
                log.transactions[item_of(table, key)] += 1
        return
    if error:
        return
    if operation == "GetItem":
        table = tables.get(params["TableName"])
        if table is not None:
            item = parsed.get("Item")
            full = stored_item(table.name, params["Key"]) if item is not None else None
            log.charges.append(Charge(operation, partition_of(table, params["Key"]), item_of(table, params["Key"]),
                                      rcu=read_units(item_size(full or item), bool(params.get("ConsistentRead"))),
                                      source=source))
    elif operation == "BatchGetItem":
        unprocessed = parsed.get("UnprocessedKeys") or {}
        for table_name, request in (params.get("RequestItems") or {}).items():
            table = tables.get(table_name)
            if table is None:
                continue
            consistent = bool(request.get("ConsistentRead"))
            skipped = {item_of(table, key) for key in unprocessed.get(table_name, {}).get("Keys", [])}
            for key in request.get("Keys", []):
                if item_of(table, key) in skipped:
                    continue
                full = stored_item(table_name, key)
                log.charges.append(Charge(operation, partition_of(table, key), item_of(table, key),
                                          rcu=read_units(item_size(full), consistent), source=source))
    elif operation == "TransactGetItems":
        for entry in params.get("TransactItems") or []:
            body = entry["Get"]
            table = tables.get(body["TableName"])
            if table is None:
                continue
            full = stored_item(table.name, body["Key"])
            log.charges.append(Charge(operation, partition_of(table, body["Key"]), item_of(table, body["Key"]),
                                      rcu=read_units(item_size(full), True) * TRANSACTION_FACTOR,
                                      transactional=True, source=source))
            log.transactions[item_of(table, body["Key"])] += 1
    elif operation in ("Query", "Scan"):
        table = tables.get(params["TableName"])
        if table is None:
            return
        index = next((i for i in table.indexes if i.name == params.get("IndexName")), None)
        sizes = []
        for item in parsed.get("Items") or []:
            full = stored_item(table.name, table.key_of(item)) if table.hash_key in item else None
            if full is not None and index is not None and index.projection != "ALL":
                full = table.projected(index, full)
            sizes.append(item_size(full or item))
        scanned = int(parsed.get("ScannedCount", len(sizes)))
        if scanned > len(sizes) and sizes:  # items a filter dropped were read too: at the average size
            sizes += [sum(sizes) // len(sizes)] * (scanned - len(sizes))
        partition = (_query_partition(table, index, params) if operation == "Query"
                     else f"{table.label}{'/' + index.name if index else ''}:*scan*")
        log.charges.append(Charge(operation, partition, None,
                                  rcu=query_read_units(sizes, bool(params.get("ConsistentRead"))), source=source))


def _query_partition(table: Table, index: Index | None, params: dict) -> str:
    """`table[/index]:value` of a Query's hash key condition (`#0 = :0` as PynamoDB writes it)."""
    hash_key = index.hash_key if index else table.hash_key
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    where = f"{table.label}/{index.name}" if index else table.label
    for name, placeholder in re.findall(r"(#?[\w.]+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_key and placeholder in values:
            return f"{where}:{_plain(values[placeholder])}"
    return f"{where}:?"


for _hook in (("before-parameter-build.dynamodb", _before), ("after-call.dynamodb", _after)):
    if _hook not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(_hook)


@contextlib.contextmanager
def metering(tables: dict[str, Table] | None = None) -> Iterator[MeterLog]:
    """Meter every DynamoDB call made inside the block (on in-process moto)."""
    from chalicelib.config import get_settings
    from chalicelib.models.base import connection

    # The shared client may predate this module's import (and so lack the built-in hooks): hook it
    # directly too. A hook seen twice is harmless: the second `_after` finds nothing pending.
    client = connection().client
    if not getattr(client, "bench_metered", False):
        client.meta.events.register("before-parameter-build.dynamodb", _before)
        client.meta.events.register("after-call.dynamodb", _after)
        client.bench_metered = True
    log = MeterLog()
    entry = (log, tables if tables is not None else tables_from_template(get_settings().table_prefix))
    with _lock:
        _active.append(entry)
    try:
        yield log
    finally:
        with _lock:
            _active.remove(entry)
