"""Reading a page of a list kept in a sharded index: one Query per shard, all at once.

The merge and cursor rules are `chalicelib.domain.sharded_lists`; this module runs the Queries
(in threads: a page costs the slowest shard's latency, not the sum) and signs the cursor.
Used by the question lists and the expert leaderboards; any list sharded the same way (circles by
member count, products by label) needs only a `SHARDS` count, its key names and a query function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pynamodb.models import Model

from chalicelib.domain.sharded_lists import (
    Position,
    ShardRead,
    cursor_position,
    merge_page,
    shards_to_read,
    states_from_cursor,
)
from chalicelib.errors import BadRequest
from chalicelib.pagination import PageRequest

QueryShard = Callable[[int, Position | None, int], Any]  # (shard, start key, limit) -> a PynamoDB ResultIterator


@dataclass(frozen=True)
class ShardedList:
    """How one sharded list is read: its shards' partitions, its key attributes, its order."""

    model: type[Model]
    shard_partitions: Sequence[dict[str, str]]  # per shard: {partition key attribute: value}
    key_names: frozenset[str]  # the table's key attributes, plus the index's when reading a GSI
    order_key: Callable[[Any], Any]  # the list's order, largest first (the index's sort key)
    ascending: bool = False  # smallest first instead (the shards are queried in ascending order)

    def position_of(self, item: Model) -> Position:
        serialized = item.serialize()
        return {name: serialized[name] for name in self.key_names}


def read_sharded_page(listing: ShardedList, query_shard: QueryShard, page: PageRequest) -> tuple[list, str | None]:
    """One page (`page.limit` items at most) and the cursor of the next, or None after the last.

    Every shard not yet used up is queried for `page.limit` items, in parallel; a cursor of
    another shape than this list's is a 400.
    """
    try:
        states = states_from_cursor(page.position, shard_partitions=listing.shard_partitions,
                                    key_names=listing.key_names)
    except ValueError:
        raise BadRequest("cursor: not a cursor of this list") from None
    shards = shards_to_read(states)

    def read(shard: int) -> ShardRead:
        results = query_shard(shard, states[shard], page.limit)  # type: ignore[arg-type]
        items = list(results)
        return ShardRead(items=items, last_key=results.last_evaluated_key)

    listing.model._get_connection()  # created once here, not raced for by the threads
    if len(shards) > 1:
        with ThreadPoolExecutor(max_workers=len(shards), thread_name_prefix="shard") as pool:
            reads = dict(zip(shards, pool.map(read, shards), strict=True))
    else:
        reads = {shard: read(shard) for shard in shards}
    merged = merge_page(states, reads, limit=page.limit, order_key=listing.order_key,
                        position_of=listing.position_of, ascending=listing.ascending)
    return merged.items, None if merged.finished else page.next_cursor(cursor_position(merged.states))
