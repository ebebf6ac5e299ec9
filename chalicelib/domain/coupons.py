"""Sharded coupon stock: how many shards a campaign gets, what each holds, which one a redeem tries,
and the trailing tally of what the shards have sold.

Why shards. Every redeem is one transaction that takes a coupon from a stock item. DynamoDB lets
one item take about 50 transactions a second before they conflict (the contract's ceiling), so a
campaign meant to sell `TARGET_REDEEMS_PER_SECOND` = 10,000 a second needs its stock spread over at
least 10,000 / 50 = 200 items, each under its own partition key (`campaign_id#shard`).

How many. A redeem picks a shard uniformly at random among those not known to be empty, so each
shard sees a Poisson stream of 10,000 / n redeems a second. With n = 200 the mean is the limit
itself and half the seconds go over it; with n = 400 the mean is 25 and the busiest of 400 shards
in a second stays near 25 + 3.3 sd = 42 (sd = 5), under 50 until half the shards are empty, which
only happens in the last moments of a sale. So `MAX_SHARDS` = ceil(10,000 / 25) = 400, and a
campaign gets `min(total_quantity, MAX_SHARDS)` shards (a shard never starts empty). Each shard's
write is one ~200-byte item: 1 WCU, 2 in a transaction, so 25 tx/s is 50 WCU/s a shard.

The tally. The shards' stream is summed into the campaign item, one update per campaign per
batch, as a map shard -> coupons sold. Each shard's count only grows, so the tally merges by
maximum (a grow-only counter): replaying a record, or a whole batch, in any order, changes
nothing. `remaining` is the total less the sum of the map; a shard whose count equals its
allotment is empty for good, which lets redeems skip it without reading it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Mapping

TARGET_REDEEMS_PER_SECOND = 10_000
ITEM_TRANSACTIONS_PER_SECOND_LIMIT = 50  # the contract's ceiling per item
SHARD_TRANSACTIONS_PER_SECOND = 25  # what we plan for: half the ceiling, for the Poisson peaks
MAX_SHARDS = math.ceil(TARGET_REDEEMS_PER_SECOND / SHARD_TRANSACTIONS_PER_SECOND)  # 400
#: Shards a redeem may find empty (not yet known so) before it reads every shard's stock.
BLIND_MISSES = 3


def shard_count(total_quantity: int, target_rate: int = TARGET_REDEEMS_PER_SECOND,
                per_shard_rate: int = SHARD_TRANSACTIONS_PER_SECOND) -> int:
    """Shards for a campaign of `total_quantity`: enough to keep each under `per_shard_rate` at
    `target_rate`, but never more than there are coupons (no shard starts empty)."""
    if total_quantity < 1:
        raise ValueError("a campaign holds at least one coupon")
    return max(1, min(total_quantity, math.ceil(target_rate / per_shard_rate)))


def allotment(total_quantity: int, shards: int, shard: int) -> int:
    """Coupons shard `shard` starts with: an even split, the first `total % shards` holding one more."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of {shards}")
    base, extra = divmod(total_quantity, shards)
    return base + (1 if shard < extra else 0)


def allotments(total_quantity: int, shards: int) -> list[int]:
    return [allotment(total_quantity, shards, shard) for shard in range(shards)]


def choose_shard(shards: int, known_empty: Collection[int], rng: random.Random) -> int | None:
    """A shard not known to be empty, uniformly at random; None when every shard is known empty."""
    if len(known_empty) >= shards:
        return None
    # sampling blindly is enough while few shards are empty; past a few tries, draw from the rest
    for _ in range(4):
        shard = rng.randrange(shards)
        if shard not in known_empty:
            return shard
    candidates = [shard for shard in range(shards) if shard not in known_empty]
    return rng.choice(candidates) if candidates else None


def shard_key(campaign_id: str, shard: int) -> str:
    """The stock item's partition key: one partition key per shard, so no two shards share one."""
    return f"{campaign_id}#{shard}"


# -- the tally ---------------------------------------------------------------------------------
def sold_by_shard(changes: Iterable[tuple[str, int, int]]) -> dict[str, dict[int, int]]:
    """campaign -> shard -> the most any record shows that shard has sold.

    `changes` holds (campaign_id, shard, sold) read from stock items' new images, in any order and
    with any repeats: the maximum is the same (a shard's sold count only grows).
    """
    tally: dict[str, dict[int, int]] = {}
    for campaign_id, shard, sold in changes:
        shards = tally.setdefault(campaign_id, {})
        shards[shard] = max(sold, shards.get(shard, 0))
    return tally


def raises(stored: Mapping[str, int], seen: Mapping[int, int]) -> dict[int, int]:
    """The shards whose tallied count `seen` would raise over what the campaign `stored`."""
    return {shard: sold for shard, sold in seen.items() if sold > int(stored.get(str(shard), 0))}


def remaining(total_quantity: int, stored: Mapping[str, int]) -> int:
    """Coupons left as far as the tally knows (it may trail the shards by seconds, never lead them)."""
    return max(0, total_quantity - sum(int(sold) for sold in stored.values()))


def empty_shards(total_quantity: int, shards: int, stored: Mapping[str, int]) -> set[int]:
    """Shards the tally has seen sell their whole allotment: empty for good."""
    return {int(shard) for shard, sold in stored.items()
            if 0 <= int(shard) < shards and int(sold) >= allotment(total_quantity, shards, int(shard))}
