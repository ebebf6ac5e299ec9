"""Time-sortable opaque IDs and UTC timestamps.

IDs are ULIDs: 48 bits of milliseconds then 80 random bits, in Crockford base32, so sorting IDs
sorts by creation time and sort keys built from them read newest-first with a reverse Query.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    return _encode(ms, 10) + _encode(secrets.randbits(80), 16)


def id_time_ms(identifier: str) -> int:
    value = 0
    for char in identifier[:10]:
        value = value * 32 + _ALPHABET.index(char)
    return value


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(utc_now())


def epoch_seconds() -> int:
    return int(time.time())
