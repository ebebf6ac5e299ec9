"""Opaque, tamper-evident list cursors.

A cursor is DynamoDB's LastEvaluatedKey (or any small dict) signed with HMAC-SHA256 and bound to
the list it came from, so a cursor edited by a client, or carried over to another list, is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest

CURSOR_REFUSED = "cursor: not a cursor this service issued"
MAX_KEY_VALUE_LENGTH = 1024  # DynamoDB's limit for a sort key; partition keys take 2048

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SIG_BYTES = 16


@dataclass(frozen=True)
class PageRequest:
    limit: int
    position: dict | None
    scope: str

    def next_cursor(self, position: dict | None) -> str | None:
        return encode_cursor(position, self.scope) if position else None

    def start_key(self, source, hash_value) -> dict | None:
        """The position as the ExclusiveStartKey of a Query of `source` (a model or an index) on the
        partition `hash_value`: exactly the key attributes such a Query's pages end on, with their
        types, in that partition. A cursor of any other shape is a 400, even with a valid signature
        (the signature says who wrote it, not that DynamoDB will take it).
        """
        if self.position is None:
            return None
        key_types, hash_attribute = _key_schema(source)
        position = self.position
        if set(position) != set(key_types):
            raise BadRequest(CURSOR_REFUSED)
        for name, attr_type in key_types.items():
            value = position[name]
            if not (isinstance(value, dict) and list(value) == [attr_type]
                    and _key_value_ok(attr_type, value[attr_type])):
                raise BadRequest(CURSOR_REFUSED)
        hash_name = hash_attribute.attr_name
        if position[hash_name][key_types[hash_name]] != hash_attribute.serialize(hash_value):
            raise BadRequest(CURSOR_REFUSED)
        return position


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _key_schema(source) -> tuple[dict[str, str], object]:
    """{attribute name: DynamoDB type} of the keys a Query of `source` pages by, and its hash key."""
    from pynamodb.indexes import Index

    if isinstance(source, Index):
        model = source._model
        index_keys = [a for a in type(source).Meta.attributes.values() if a.is_hash_key or a.is_range_key]
        hash_attribute = type(source)._hash_key_attribute()
    else:
        model, index_keys, hash_attribute = source, [], source._hash_key_attribute()
    keys = [*index_keys, model._hash_key_attribute(), model._range_key_attribute()]
    return {a.attr_name: a.attr_type for a in keys if a is not None}, hash_attribute


def _key_value_ok(attr_type: str, value) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_KEY_VALUE_LENGTH:
        return False
    return attr_type != "N" or re.fullmatch(r"-?[0-9]{1,38}(\.[0-9]{1,38})?", value) is not None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes, scope: str) -> bytes:
    key = get_settings().cursor_secret
    return hmac.new(key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def encode_cursor(position: dict, scope: str) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return _b64(_signature(payload, scope) + payload)


def decode_cursor(cursor: str, scope: str) -> dict:
    try:
        raw = _unb64(cursor)
    except (ValueError, TypeError):
        raise BadRequest(CURSOR_REFUSED) from None
    signature, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    if len(signature) != _SIG_BYTES or not hmac.compare_digest(signature, _signature(payload, scope)):
        raise BadRequest(CURSOR_REFUSED)
    try:
        position = json.loads(payload)
    except ValueError:  # signed, but not JSON: only a holder of the key writes that
        raise BadRequest(CURSOR_REFUSED) from None
    if not isinstance(position, dict):
        raise BadRequest(CURSOR_REFUSED)
    return position


def parse_whole_number(name: str, raw: str, low: int, high: int) -> int:
    """A query-string or path number: ASCII digits only, within [low, high]; else a 400 naming it.

    `str.isdigit` and `int()` also take superscripts, circled and Arabic-Indic digits (`int("²")`
    even raises), so the digits are matched explicitly.
    """
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise BadRequest(f"{name}: must be a whole number from {low} to {high}")
    return int(raw)


def page_request(query: dict | None, scope: str) -> PageRequest:
    """Read `?limit=` (1-100, default 20) and `?cursor=` from a query string."""
    query = query or {}
    raw_limit = query.get("limit")
    limit = DEFAULT_LIMIT if raw_limit is None else parse_whole_number("limit", raw_limit, 1, MAX_LIMIT)
    cursor = query.get("cursor")
    position = decode_cursor(cursor, scope) if cursor else None
    return PageRequest(limit=limit, position=position, scope=scope)
