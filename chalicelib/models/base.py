"""PynamoDB plumbing: table names resolved from config when first used, not at import."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.config import get_settings


def table_meta(logical_name: str) -> type:
    """A Meta class whose `table_name` is read from the stage settings on each access.

    PynamoDB re-checks `Meta.table_name` before reusing its connection, so a changed prefix
    (another stage, another test) is picked up without re-importing the models.
    """

    class _LazyTableName(type):
        @property
        def table_name(cls) -> str:
            return get_settings().table_name(logical_name)

    return _LazyTableName("Meta", (), {"logical_name": logical_name, "max_retry_attempts": 5})


class BaseModel(Model):
    class Meta:  # an abstract base: every concrete model sets its own Meta
        abstract = True
        table_name = "unused"


_connection = None


def connection():
    """One low-level PynamoDB connection for transactions and cross-table batch reads."""
    global _connection
    from pynamodb.connection import Connection

    region = get_settings().region
    if _connection is None or _connection.region != region:
        _connection = Connection(region=region)
    return _connection


def batch_get(keys: list[tuple[type[Model], object, object | None]]) -> list[Model | None]:
    """Read items of several tables in one BatchGetItem; answers follow the order asked.

    `keys` holds `(model class, hash key, range key or None)`; a missing item is None. Keys are
    de-duplicated (DynamoDB refuses repeats) and unprocessed keys are asked for again.
    """
    if not keys:
        return []
    request: dict[str, dict] = {}
    wanted: list[tuple[str, tuple]] = []
    for model, hash_key, range_key in keys:
        table = model.Meta.table_name
        key = {model._hash_keyname: model.get_attributes()[model._hash_keyname].serialize(hash_key)}
        key = {name: {_type_of(model, name): value} for name, value in key.items()}
        if range_key is not None:
            range_attr = model.get_attributes()[model._range_keyname]
            key[model._range_keyname] = {range_attr.attr_type: range_attr.serialize(range_key)}
        signature = tuple(sorted((k, str(v)) for k, v in key.items()))
        wanted.append((table, signature))
        entry = request.setdefault(table, {"Keys": [], "ConsistentRead": False})
        if key not in entry["Keys"]:
            entry["Keys"].append(key)
    client = connection().client
    found: dict[tuple[str, tuple], dict] = {}
    models_by_table = {model.Meta.table_name: model for model, _, _ in keys}
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
            import time

            time.sleep(min(0.05 * 2**attempts, 1.0))
    results: list[Model | None] = []
    for (table, signature), (model, _, _) in zip(wanted, keys, strict=True):
        item = found.get((table, signature))
        results.append(model.from_raw_data(item) if item is not None else None)
    return results


def _type_of(model: type[Model], name: str) -> str:
    return model.get_attributes()[name].attr_type
