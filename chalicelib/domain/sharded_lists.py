"""Lists kept in a sharded index: which shard an item goes to, and how pages merge the shards.

A list that would put every write of a hot key (all questions, a popular label, a label's
leaderboard) on one DynamoDB partition is kept under `SHARDS` keys `{key}#{shard}` instead; an
item's shard is a hash of something stable about it (its id, its user), so writes spread evenly.
A page reads every shard (up to `MAX_SHARDS_PER_PAGE`, in parallel: the contract's limit) and
merges them, largest order key first.

The cursor carries one state per shard, so a page never skips nor repeats an item:

* `None`: the shard is read from its start (nothing of it taken yet);
* a key (DynamoDB's exclusive start key: the last item taken from it, or the `LastEvaluatedKey`
  of a read wholly taken): the shard is read after it;
* `DONE`: everything in the shard has been returned.

Each read shard is asked for `limit` items, so the page's `limit` largest remaining items are all
among what was read. A shard whose read ended early but has more (DynamoDB's 1 MB page) ends the
page as soon as its read items are used up, because its next item is unknown.

Plain Python: no boto3, no PynamoDB (see `chalicelib.models.sharded` for the reads).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

MAX_SHARDS_PER_PAGE = 4  # SPEC "Discovery": a sharded list may read up to 4 shards a page
DONE = "done"
CURSOR_FIELD = "shards"
_NUMBER = re.compile(r"-?[0-9]{1,38}(\.[0-9]{1,38})?")

T = TypeVar("T")
Position = dict[str, dict[str, str]]  # a DynamoDB key in its wire form: {"item_id": {"S": "..."}}
ShardState = Position | str | None


def stable_shard(stable_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of an item, from an id that never changes for it: any number of
    shards (counters and connection lists are never read a page at a time).

    A hash rather than the id's last characters: time-sortable ids end in random characters today,
    but nothing promises that, and user ids come from Cognito.
    """
    digest = hashlib.blake2b(stable_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % shards


def shard_of(stable_id: str, shards: int) -> int:
    """The shard of an item of a list read a page at a time (at most `MAX_SHARDS_PER_PAGE` shards)."""
    if not 1 <= shards <= MAX_SHARDS_PER_PAGE:
        raise ValueError(f"a sharded list has 1..{MAX_SHARDS_PER_PAGE} shards, not {shards}")
    return stable_shard(stable_id, shards)


def shard_key(key: str, shard: int) -> str:
    """The partition key of one shard of the list `key`."""
    return f"{key}#{shard}"


def shard_keys(key: str, shards: int) -> list[str]:
    return [shard_key(key, shard) for shard in range(shards)]


@dataclass(frozen=True)
class ShardRead(Generic[T]):
    """What one shard's Query returned: its items in list order, and DynamoDB's `LastEvaluatedKey`."""

    items: Sequence[T]
    last_key: Position | None


@dataclass(frozen=True)
class MergedPage(Generic[T]):
    items: list[T]
    states: list[ShardState]

    @property
    def finished(self) -> bool:
        return all(state == DONE for state in self.states)


def start_states(shards: int) -> list[ShardState]:
    return [None] * shards


def shards_to_read(states: Sequence[ShardState]) -> list[int]:
    return [shard for shard, state in enumerate(states) if state != DONE]


def merge_page(
    states: Sequence[ShardState],
    reads: dict[int, ShardRead[T]],
    *,
    limit: int,
    order_key: Callable[[T], Any],
    position_of: Callable[[T], Position],
    ascending: bool = False,
) -> MergedPage[T]:
    """The next page of a sharded list, largest `order_key` first (smallest first if `ascending`),
    and each shard's next state.

    `reads` holds a read of every shard that is not `DONE` (asked for `limit` items from the
    shard's state). Equal order keys in two shards come lowest shard first; within a shard the
    read's own order is kept.
    """
    if limit < 1:
        raise ValueError("a page holds at least one item")
    missing = [shard for shard in shards_to_read(states) if shard not in reads]
    if missing:
        raise ValueError(f"shards {missing} are not done and were not read")
    heads = {shard: 0 for shard in reads}
    items: list[T] = []
    while len(items) < limit:
        if any(heads[s] == len(reads[s].items) and reads[s].last_key is not None for s in reads):
            break  # a shard with more is used up: its next item might come before any other
        candidates = [s for s in reads if heads[s] < len(reads[s].items)]
        if not candidates:
            break
        if ascending:
            best = min(candidates, key=lambda s: (order_key(reads[s].items[heads[s]]), s))
        else:
            best = max(candidates, key=lambda s: (order_key(reads[s].items[heads[s]]), -s))
        items.append(reads[best].items[heads[best]])
        heads[best] += 1
    next_states = list(states)
    for shard, read in reads.items():
        taken = heads[shard]
        if taken == len(read.items):
            next_states[shard] = read.last_key if read.last_key is not None else DONE
        elif taken:
            next_states[shard] = position_of(read.items[taken - 1])
    return MergedPage(items=items, states=next_states)


# -- the cursor ---------------------------------------------------------------------------------------
def cursor_position(states: Sequence[ShardState]) -> dict[str, Any]:
    """What the signed cursor carries (see `chalicelib.pagination`)."""
    return {CURSOR_FIELD: list(states)}


def states_from_cursor(
    position: dict[str, Any] | None,
    *,
    shard_partitions: Sequence[dict[str, str]],
    key_names: frozenset[str],
) -> list[ShardState]:
    """Each shard's state from a cursor's position, checked to the last attribute.

    `shard_partitions[i]` names the partition key attribute(s) of shard i and their values; a
    position must hold exactly `key_names`, each a string or number in DynamoDB's wire form, and
    lie in its own shard's partition. Anything else raises ValueError (the route's 400).
    """
    if position is None:
        return start_states(len(shard_partitions))
    raw = position.get(CURSOR_FIELD) if set(position) == {CURSOR_FIELD} else None
    if not isinstance(raw, list) or len(raw) != len(shard_partitions):
        raise ValueError("not a position of this list")
    states: list[ShardState] = []
    for state, partition in zip(raw, shard_partitions, strict=True):
        if state is None or state == DONE:
            states.append(state)
            continue
        if not isinstance(state, dict) or set(state) != key_names or not all(map(_key_value, state.values())):
            raise ValueError("not a position of this list")
        if any(state[name] != {"S": value} for name, value in partition.items()):
            raise ValueError("a position outside its shard")
        states.append(state)
    return states


def _key_value(value: object) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (kind, raw), = value.items()
    if kind == "S":
        return isinstance(raw, str) and 0 < len(raw) <= 1024
    if kind == "N":
        return isinstance(raw, str) and _NUMBER.fullmatch(raw) is not None
    return False
