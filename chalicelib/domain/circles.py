"""The circle directory (`GET /groups` without a label): every circle, most members first.

Kept in a sparse GSI of Groups sharded over `DIRECTORY_SHARDS` partitions ("circles#{shard}", by
circle id): `member_count` is the index's sort key, so every count update (one per circle per
GroupMembers stream batch) is a delete and a put on the circle's index partition. One partition for
all circles would take every join platform-wide; four spread it, and a page reads all four in
parallel (the contract's limit). Plain Python.
"""

from __future__ import annotations

from chalicelib.domain.sharded_lists import shard_key, shard_of

DIRECTORY_SHARDS = 4
DIRECTORY = "circles"


def directory_key(group_id: str) -> str:
    return shard_key(DIRECTORY, shard_of(group_id, DIRECTORY_SHARDS))


def directory_partitions() -> list[str]:
    return [shard_key(DIRECTORY, shard) for shard in range(DIRECTORY_SHARDS)]


def wanted_directory_key(group_id: str, removed: bool) -> str | None:
    """A circle is listed unless moderation removed it (`removed_at`)."""
    return None if removed else directory_key(group_id)
