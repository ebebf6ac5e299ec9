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


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


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
        raise BadRequest("cursor: not a cursor this service issued") from None
    signature, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    if len(signature) != _SIG_BYTES or not hmac.compare_digest(signature, _signature(payload, scope)):
        raise BadRequest("cursor: not a cursor this service issued")
    position = json.loads(payload)
    if not isinstance(position, dict):
        raise BadRequest("cursor: not a cursor this service issued")
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
