"""PynamoDB plumbing: table names resolved from config when first used, not at import."""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

from pynamodb.models import Model

from chalicelib.config import get_settings

MAX_RETRY_ATTEMPTS = 5  # botocore attempts per call (throttling, 5xx) before an error reaches us


def table_meta(logical_name: str) -> Any:
    """A Meta class whose `table_name` is read from the stage settings on each access.

    PynamoDB re-checks `Meta.table_name` before reusing its connection, so a changed prefix
    (another stage, another test) is picked up without re-importing the models.
    """

    class _LazyTableName(type):
        @property
        def table_name(cls) -> str:
            return get_settings().table_name(logical_name)

    return _LazyTableName("Meta", (), {"logical_name": logical_name, "max_retry_attempts": MAX_RETRY_ATTEMPTS})


class BaseModel(Model):
    class Meta:  # an abstract base: every concrete model sets its own Meta
        abstract = True
        table_name = "unused"

    @classmethod
    def _get_connection(cls):
        """The model's table connection, speaking through the ONE botocore client of `connection()`.

        PynamoDB gives every model class a Connection of its own, and each builds its own botocore
        session and client on first use, loading the service model from disk again: tens of ms each
        (pynamodb/PynamoDB#876, #1245), paid over and over in a cold Lambda with 30-odd models. The
        table connections stay separate (two models of one table may declare different indexes);
        only the client is shared.
        """
        table_connection = super()._get_connection()
        shared_client = connection().client
        if table_connection.connection._client is not shared_client:
            table_connection.connection._client = shared_client
        return table_connection


_M = TypeVar("_M", bound=Model)

_connection = None


def connection():
    """The low-level PynamoDB connection for transactions and batch reads; its client is every model's.

    Tools that watch or shape DynamoDB traffic (the bench's meter, the tests' conflict injector)
    register botocore event handlers on `connection().client.meta.events`: every model call and
    every `models.transactions.Transaction` goes through that one client.
    """
    global _connection
    from pynamodb.connection import Connection

    region = get_settings().region
    if _connection is None or _connection.region != region:
        _connection = Connection(region=region, max_retry_attempts=MAX_RETRY_ATTEMPTS)
    return _connection


def reset_connection() -> None:
    """Forget the shared connection, so the next call builds a client for the current environment
    (tests: a client made before moto was started would talk to the real endpoint)."""
    global _connection
    _connection = None


def _condition_held(write) -> bool:
    """Run one conditional `write()`; False, with nothing written, when DynamoDB finds its condition false.

    A write refused because a transaction holds the item (TransactionConflictException: nothing
    was written) is sent again under the one conflict rule, and is `Busy` when that runs out.
    """
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.models.transactions import retry_on_conflict

    def attempt() -> bool:
        try:
            write()
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    return retry_on_conflict(attempt)


def save_if(item: Model, condition) -> bool:
    """`item.save(condition=...)`; False when the condition does not hold."""
    return _condition_held(lambda: item.save(condition=condition))


def update_if(item: Model, actions: list, condition) -> bool:
    """`item.update(actions=..., condition=...)`; False when the condition does not hold."""
    return _condition_held(lambda: item.update(actions=actions, condition=condition))


def delete_if(item: Model, condition) -> bool:
    """`item.delete(condition=...)`; False when the condition does not hold."""
    return _condition_held(lambda: item.delete(condition=condition))


def put_unless_present(item: _M) -> _M:
    """Put `item` unless an item with its key exists; answer with the item that stands.

    That is `item` itself, or the one already there as DynamoDB returns it with the failed
    condition (ReturnValuesOnConditionCheckFailure=ALL_OLD): exact, with no read-back that a
    racing delete could find gone.
    """
    model = type(item)
    hash_key = getattr(model, model._hash_keyname)
    kwargs = item.get_save_kwargs_from_instance(condition=hash_key.does_not_exist(),
                                                return_values_on_condition_failure="ALL_OLD")
    client = connection().client
    try:
        client.put_item(**kwargs)
    except client.exceptions.ConditionalCheckFailedException as exc:
        return model.from_raw_data(exc.response["Item"])
    return item


BATCH_GET_LIMIT = 100  # keys DynamoDB accepts in one BatchGetItem


def batch_get(keys: list[tuple[type[Model], object, object | None]], *, consistent: bool = False) -> list[Model | None]:
    """Read items of several tables with BatchGetItem; answers follow the order asked.

    `keys` holds `(model class, hash key, range key or None)`; a missing item is None. Keys are
    de-duplicated (DynamoDB refuses repeats), sent 100 to a call, and unprocessed keys are asked
    for again with backoff.
    """
    found: dict[tuple[str, tuple], dict] = {}
    wanted: list[tuple[str, tuple]] = []
    requests: list[dict[str, dict]] = [{}]
    in_request = 0
    for model, hash_key, range_key in keys:
        table = model.Meta.table_name
        hash_attr = model.get_attributes()[model._hash_keyname]
        key = {model._hash_keyname: {hash_attr.attr_type: hash_attr.serialize(hash_key)}}
        if range_key is not None:
            range_attr = model.get_attributes()[model._range_keyname]
            key[model._range_keyname] = {range_attr.attr_type: range_attr.serialize(range_key)}
        signature = tuple(sorted((k, str(v)) for k, v in key.items()))
        if (table, signature) not in wanted:
            if in_request == BATCH_GET_LIMIT:
                requests.append({})
                in_request = 0
            requests[-1].setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
            in_request += 1
        wanted.append((table, signature))
    models_by_table = {model.Meta.table_name: model for model, _, _ in keys}
    for request in requests:
        if request:
            _read_all(request, models_by_table, found)
    results: list[Model | None] = []
    for (table, signature), (model, _, _) in zip(wanted, keys, strict=True):
        item = found.get((table, signature))
        results.append(model.from_raw_data(item) if item is not None else None)
    return results


def _read_all(request: dict, models_by_table: dict, found: dict) -> None:
    import time

    client = connection().client
    attempts = 0
    while request:
        response = client.batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            model = models_by_table[table]
            key_names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
            for item in items:
                signature = tuple(sorted((name, str(item[name])) for name in key_names))
                found[(table, signature)] = item
        request = response.get("UnprocessedKeys") or {}
        attempts += 1
        if request and attempts > 8:
            raise RuntimeError("BatchGetItem kept returning unprocessed keys")
        if request:
            time.sleep(min(0.05 * 2**attempts, 1.0))


def get_or_none(model: type[_M], hash_key, range_key=None, *, consistent_read: bool = False,
                attributes_to_get: list[str] | None = None) -> _M | None:
    """The item, or None when there is none: the one place a missing item is told from an error."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent_read,
                         attributes_to_get=attributes_to_get)
    except model.DoesNotExist:
        return None


def get_or_404(model: type[_M], hash_key, range_key=None, *, what: str, consistent_read: bool = False) -> _M:
    """The item, or NotFound naming what was asked for (`what`: "product", "question", ...)."""
    from chalicelib.errors import NotFound

    item = get_or_none(model, hash_key, range_key, consistent_read=consistent_read)
    if item is None:
        raise NotFound(f"No {what} {hash_key}")
    return item


class OnePerUserSharded:
    """Mixin for a model of one item per (parent, user) whose parent may take 1,000+ writes a second
    (SPEC "Double-11 rules"): keyed `<parent_id>#<shard of user_id>`, so one parent's items spread
    over `SHARDS` partitions while each user's item keeps a key the reader can name (`key`), and a
    conditional put on it stays once per user. `PARENT` names the attribute that keeps the parent id."""

    SHARDS: ClassVar[int]
    PARENT: ClassVar[str]

    @classmethod
    def key(cls, parent_id: str, user_id: str) -> tuple[str, str]:
        """(hash key, range key) of `user_id`'s item under `parent_id`."""
        from chalicelib.domain.sharded_lists import shard_key, shard_of

        return shard_key(parent_id, shard_of(user_id, cls.SHARDS)), user_id

    @classmethod
    def of(cls, parent_id: str, user_id: str, **attributes: Any) -> Self:
        return cls(*cls.key(parent_id, user_id), **{cls.PARENT: parent_id}, **attributes)  # type: ignore[call-arg]

    @classmethod
    def keys_of(cls, parent_id: str) -> list[str]:
        """Every partition of one parent's items."""
        from chalicelib.domain.sharded_lists import shard_keys

        return shard_keys(parent_id, cls.SHARDS)
