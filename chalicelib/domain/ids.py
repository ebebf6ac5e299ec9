"""Time-sortable opaque IDs and UTC timestamps.

IDs are ULIDs: 48 bits of milliseconds then 80 random bits, in Crockford base32, so sorting IDs
sorts by creation time and sort keys built from them read newest-first with a reverse Query.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime

#: Crockford's base32 (no I, L, O, U): 5 bits a character, sorts like the numbers it encodes.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALPHABET = CROCKFORD_ALPHABET


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    return _encode(ms, 10) + _encode(secrets.randbits(80), 16)


def cause_digest(cause: str) -> int:
    """80 bits drawn from the cause's SHA-256: what stands in for an ID's randomness when the ID must
    come out the same on every redelivery of the record that causes it."""
    return int.from_bytes(hashlib.sha256(cause.encode()).digest()[:10], "big")


def cause_id(at_ms: int, cause: str) -> str:
    """Time-sortable like any ID, but derived from its cause, so writing the same cause again rewrites
    (or, with a condition, refuses) the same item."""
    return _encode(at_ms, 10) + _encode(cause_digest(cause), 16)


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
